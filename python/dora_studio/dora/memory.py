"""``training.microBatch: "auto"``: how many clips go through the student's forward/backward at once.

The student's saved activations dominate a DoRA step's memory (the teacher runs without gradients). They are
estimated per clip from the model and crop shapes, and the largest divisor of the batch that fits the free memory
(CUDA: ``torch.cuda.mem_get_info`` plus PyTorch's cached free blocks; CPU: a fixed 4 GiB budget, or half the available
memory when less) is used. An out-of-memory error during the step then halves the micro-batch and retries
(dora_train_step); at one clip per pass it becomes a DoraOutOfMemoryError whose message says what to change.
"""

from __future__ import annotations

import os

import torch

from ..model.dora_model import DoraModelConfig
from ..model.vit import HAS_SDPA
from .runtime import Precision

CPU_BUDGET_BYTES = 4 * 2**30
SAFETY = 1.3  # gradients of activations and temporaries during the backward pass


class DoraOutOfMemoryError(RuntimeError):
    """The step does not fit even at one clip per pass; the message names the fix."""


def is_out_of_memory(error: BaseException) -> bool:
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(error, oom_type):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def student_bytes_per_clip(
    cfg: DoraModelConfig,
    frames: int,
    objects: int,
    global_size: int,
    local_crops: int,
    local_size: int,
    precision: Precision,
) -> int:
    """Saved activations of one clip (k masked global views and nl local crops per frame) through the student."""
    b = 4 if precision.autocast_dtype is None else 2
    d, depth, heads, p = cfg.vit.embed_dim, cfg.vit.depth, cfg.vit.num_heads, cfg.vit.patch_size
    per_token = 8 * d + b * d * (5 + 2 * cfg.vit.mlp_ratio + 2)  # residual stream (fp32), LN/qkv/proj/MLP inputs

    def per_image(side: int) -> float:
        t = 1 + (side // p) ** 2
        attention = heads * t * 4 if HAS_SDPA else heads * t * t * b
        return depth * (t * per_token + attention)

    images_global, images_local = frames * objects, frames * local_crops
    head_row = cfg.head.out_dim * (b + 8) + cfg.head.hidden_dim * 4 * b
    total = images_global * per_image(global_size) + images_local * per_image(local_size)
    total += (images_global + images_local) * head_row
    return int(total * SAFETY)


def free_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(free + cached)
    available = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except OSError:
        pass
    return CPU_BUDGET_BYTES if available is None else min(CPU_BUDGET_BYTES, available // 2)


def choose_micro_batch(
    cfg: DoraModelConfig,
    batch_clips: int,
    frames: int,
    objects: int,
    global_size: int,
    local_crops: int,
    local_size: int,
    device: torch.device,
    precision: Precision,
    budget_bytes: int | None = None,
) -> tuple[int, str]:
    """(clips per pass, a one-line reason for the log)."""
    per_clip = student_bytes_per_clip(cfg, frames, objects, global_size, local_crops, local_size, precision)
    budget = int((free_memory_bytes(device) if budget_bytes is None else budget_bytes) * 0.9)
    fitting = [n for n in divisors(batch_clips) if n * per_clip <= budget]
    chosen = max(fitting) if fitting else 1
    where = "free device memory" if device.type == "cuda" else "CPU budget"
    reason = (
        f"microBatch auto: {chosen} of {batch_clips} clips per pass (≈{per_clip / 2**30:.2f} GiB of activations per "
        f"clip in {precision.name}; {where} {budget / 2**30:.1f} GiB)"
    )
    if not fitting and os.environ.get("DORA_DEBUG"):
        reason += " — even one clip may not fit"
    return chosen, reason


def micro_batch_for_config(
    config: dict, cfg: DoraModelConfig, device: torch.device, precision: Precision, override: str | int | None = None
) -> tuple[int, str]:
    """training.microBatch of a resolved config.json (or ``override``): a number is used as it is, "auto" is chosen
    from free memory. Returns (clips per pass, a line for the log)."""
    value = config["training"].get("microBatch", "auto") if override is None else override
    batch = int(config["training"]["batchClips"])
    if value != "auto":
        n = int(value)
        if n < 1 or batch % n:
            raise ValueError(f"config.json: training.microBatch {n} must divide training.batchClips {batch}")
        return n, f"microBatch {n} of {batch} clips per pass (from the config)"
    data, dora = config["data"], config["dora"]
    objects = int(dora["objects"]) if dora["tracker"] else 1
    return choose_micro_batch(
        cfg, batch, int(data["framesPerClip"]), objects, int(data["globalSize"]), int(data["localCrops"]),
        int(data["localSize"]), device, precision,
    )  # fmt: skip


def out_of_memory_message(device: torch.device, batch_clips: int, precision: Precision) -> str:
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    return (
        f"out of memory on {where} even with one clip per forward/backward pass (batch {batch_clips} clips, "
        f"precision {precision.name}). Fix: use runtime.precision 'bf16' or 'fp16' if it is 'fp32'/'tf32', lower "
        "data.globalSize / data.localCrops / data.framesPerClip or model.head.outDim, or use a device with more memory "
        "(free memory now: see nvidia-smi; other processes on the GPU count too)"
    )
