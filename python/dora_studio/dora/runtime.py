"""Device and precision: ``runtime.device`` ("auto" | "cuda" | "cpu" | "mps") and ``runtime.precision``
("auto" | "fp32" | "tf32" | "bf16" | "fp16") → a torch device, an autocast context and a GradScaler.

- fp32: plain float32 (TF32 matmuls off on CUDA), the golden-exact mode;
- tf32: float32 storage, TF32 tensor-core matmuls (CUDA, Ampere or newer);
- bf16: bfloat16 autocast (CUDA where supported, also CPU), no loss scaling — the default on such GPUs;
- fp16: the official mode: float16 autocast + GradScaler (CUDA only).
The tracker and the loss's softmaxes always run in float32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ContextManager

import torch

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")


class RuntimeSetupError(RuntimeError):
    """A device or precision that cannot be used here; the message names the setting and a fix."""


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """auto → cuda if available, else mps, else cpu; an explicit device that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_available() else torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise RuntimeSetupError(
            f"runtime.device is 'cuda' but this PyTorch ({torch.__version__}, {build}) sees no CUDA GPU; "
            "install a CUDA build of PyTorch into this interpreter (or select one that has it), or set runtime.device "
            "to 'auto' or 'cpu'"
        )
    if name == "mps" and not mps_available():
        raise RuntimeSetupError(
            "runtime.device is 'mps' but Apple MPS is not available here; set it to 'auto' or 'cpu'"
        )
    if name not in ("cuda", "cpu", "mps"):
        raise RuntimeSetupError(f"runtime.device must be auto, cuda, cpu or mps (got {name!r})")
    return torch.device(name)


@dataclass(frozen=True)
class Precision:
    name: str
    device_type: str
    autocast_dtype: torch.dtype | None = None
    grad_scaler: bool = False

    def autocast(self) -> ContextManager[Any]:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.autocast_dtype)

    def make_grad_scaler(self) -> Any | None:
        if not self.grad_scaler:
            return None
        amp = getattr(torch, "amp", None)
        if amp is not None and hasattr(amp, "GradScaler"):
            try:
                return amp.GradScaler("cuda")
            except TypeError:  # torch < 2.3: torch.amp.GradScaler is not the device-generic one
                pass
        return torch.cuda.amp.GradScaler()

    def apply_matmul_settings(self) -> None:
        """TF32 on for tf32, off otherwise (fp32 means float32 matmuls)."""
        if self.device_type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = self.name == "tf32"
            torch.backends.cudnn.allow_tf32 = self.name == "tf32"


def resolve_precision(name: str, device: torch.device) -> Precision:
    """auto → bf16 on a CUDA GPU that supports it, else fp32."""
    kind = device.type
    if name == "auto":
        name = "bf16" if kind == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if name == "fp32":
        return Precision("fp32", kind)
    if name == "tf32":
        if kind != "cuda":
            raise RuntimeSetupError(f"runtime.precision 'tf32' needs a CUDA GPU (this run uses {kind}); use 'fp32'")
        return Precision("tf32", kind)
    if name == "bf16":
        if kind == "cuda" and not torch.cuda.is_bf16_supported():
            raise RuntimeSetupError("runtime.precision 'bf16' is not supported by this GPU; use 'fp16' or 'fp32'")
        if kind == "mps":
            raise RuntimeSetupError("runtime.precision 'bf16' is not supported on mps here; use 'fp32'")
        return Precision("bf16", kind, torch.bfloat16)
    if name == "fp16":
        if kind != "cuda":
            raise RuntimeSetupError(
                f"runtime.precision 'fp16' (autocast + GradScaler) needs CUDA; use 'fp32' on {kind}"
            )
        return Precision("fp16", kind, torch.float16, grad_scaler=True)
    raise RuntimeSetupError(f"runtime.precision must be one of auto, {', '.join(PRECISIONS)} (got {name!r})")


def to_device_async(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host → device without a stream synchronisation (pinned staging on CUDA)."""
    if x.device == device:
        return x
    if device.type == "cuda" and x.device.type == "cpu":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)
