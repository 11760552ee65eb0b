"""Runs one golden case through the engine's real modules. Each ``kind`` maps the case's inputs and ``config``
(shapes and hyper-parameters are read from the file, never assumed) onto the functions training uses, and returns
every output the case has an ``expected.*`` for. Comparing is the Node side's job (src/trainer/golden/tolerance.ts:
one tolerance implementation for both engines)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable

import torch

from ..dora.loss import dora_loss, updated_center
from ..dora.sinkhorn import SinkhornOptions, sinkhorn_knopp
from ..dora.tracker import mask_images, run_tracker
from ..io import safetensors as st
from ..model.head import DinoHead, HeadConfig
from ..model.vit import VisionTransformer, VitConfig
from ..optim.schedules import cosine_scheduler, teacher_temp_schedule
from .train_step_case import run_train_step

Outputs = dict[str, torch.Tensor]


@dataclass
class GoldenCase:
    file: str
    kind: str
    name: str
    config: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    device: torch.device

    def input(self, name: str) -> torch.Tensor:
        t = self.tensors.get(name)
        if t is None:
            raise KeyError(f"{self.file}: missing tensor {name}")
        return t.to(self.device, torch.float32) if t.is_floating_point() else t.to(self.device)

    def num(self, key: str, default: float | None = None) -> float:
        v = self.config.get(key, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise KeyError(f"{self.file}: config has no numeric {key!r}")
        return v

    def int(self, key: str, default: int | None = None) -> int:
        return int(self.num(key, default))

    def params(self, prefix: str) -> dict[str, torch.Tensor]:
        return {n[len(prefix) :]: self.input(n) for n in self.tensors if n.startswith(prefix)}


def load_case(file: str, device: torch.device) -> GoldenCase:
    f = st.load(file)
    if "kind" not in f.metadata:
        raise ValueError(f"{file}: metadata has no 'kind' (is this a golden case?)")
    try:
        config = json.loads(f.metadata.get("config", "{}"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{file}: metadata 'config' is not JSON: {e}") from None
    name = f.metadata.get("case") or os.path.basename(file)
    return GoldenCase(file, f.metadata["kind"], name, config, f.tensors, device)


def vit_config_of(c: GoldenCase) -> VitConfig:
    return VitConfig(
        embed_dim=c.int("embed_dim"),
        depth=c.int("depth"),
        num_heads=c.int("num_heads"),
        patch_size=c.int("patch_size"),
        img_size=c.int("img_size"),
        mlp_ratio=float(c.num("mlp_ratio", 4.0)),
        ln_eps=float(c.num("ln_eps", 1e-6)),
        qkv_bias=c.config.get("qkv_bias", True) is not False,
        drop_path_rate=float(c.num("drop_path_rate", 0.0)),
    )


def head_config_of(c: GoldenCase, in_dim: int, norm_last_layer: bool) -> HeadConfig:
    return HeadConfig(
        in_dim=in_dim,
        out_dim=c.int("out_dim"),
        hidden_dim=c.int("head_hidden_dim"),
        bottleneck_dim=c.int("head_bottleneck_dim"),
        nlayers=c.int("head_nlayers", 3),
        norm_last_layer=norm_last_layer,
    )


@torch.no_grad()
def run_vit_forward(c: GoldenCase) -> Outputs:
    model = VisionTransformer(vit_config_of(c)).to(c.device).eval()
    model.load_state_dict(c.params("param."), strict=True)
    out = model(c.input("input.x"), track=True, keep_intermediates=True)
    result = {
        "patch_embed": out.patch_embed,
        "pos_embed_interp": out.pos_embed,
        "cls": out.cls,
        "tokens": out.tokens,
        "attn": out.attn,
        "q": out.q,
        "k": out.k,
    }
    result.update({f"blocks.{i}.out": b for i, b in enumerate(out.block_outputs)})
    return result  # type: ignore[return-value]


@torch.no_grad()
def run_head_forward(c: GoldenCase) -> Outputs:
    x = c.input("input.x")
    head = DinoHead(head_config_of(c, x.shape[1], c.config.get("norm_last_layer") is True)).to(c.device)
    head.load_state_dict(c.params("param."), strict=True)
    return {"bottleneck": head.bottleneck(x), "last_layer_weight": head.last_layer.weight(), "out": head(x)}


def sinkhorn_options(c: GoldenCase, iters_key: str, eps_key: str) -> SinkhornOptions:
    return SinkhornOptions(iterations=c.int(iters_key, 30), epsilon=float(c.num(eps_key, 0.05)), variant="official")


def run_sinkhorn(c: GoldenCase) -> Outputs:
    return {"assignment": sinkhorn_knopp(c.input("input.logits"), sinkhorn_options(c, "num_iters_sk", "epsilon_sk"))}


def run_mot(c: GoldenCase) -> Outputs:
    attn, query, key = c.input("input.attn"), c.input("input.query"), c.input("input.key")
    patches, images = c.input("input.teacher_patches"), c.input("input.images")
    heads = c.input("input.heads").long()
    r = run_tracker(attn[0], query[0], key, patches[0], heads, sinkhorn_options(c, "sk_iters", "sk_epsilon"))
    p = c.int("patch_size")
    k, b, f, _ = r.mask.shape
    rows, cols = images.shape[-2] // p, images.shape[-1] // p
    return {
        "prototypes": r.prototypes,
        "sk_logits": r.sk_logits,
        "assignment": r.assignment,
        "refined_prototypes": r.refined_prototypes,
        "attn_maps": r.attn_maps,
        "attn_maps_l2": r.binarised.l2,
        "threshold": r.binarised.threshold,
        "margin": r.binarised.margin,
        "mask_patch": r.mask.reshape(k, b, f, rows, cols).to(torch.uint8),
        "masked_images": mask_images(images, r.mask, p),
    }


def teacher_temp_at(c: GoldenCase, epoch: int) -> float:
    temps = teacher_temp_schedule(
        c.num("warmup_teacher_temp"), c.num("teacher_temp"), c.int("warmup_teacher_temp_epochs"), c.int("nepochs")
    )
    return float(temps[epoch])


@torch.no_grad()
def run_dino_loss(c: GoldenCase) -> Outputs:
    args = dict(
        teacher_out=c.input("input.teacher"),
        student_masked=c.input("input.student_masked"),
        student_local=c.input("input.student_local"),
        center=c.input("input.center"),
        teacher_temp=teacher_temp_at(c, c.int("epoch")),
        student_temp=float(c.num("student_temp", 0.1)),
    )
    official = dora_loss(**args, variant="official")  # type: ignore[arg-type]
    clean = dora_loss(**args, variant="clean")  # type: ignore[arg-type]
    center = updated_center(args["center"], args["teacher_out"], float(c.num("center_momentum", 0.9)))  # type: ignore[arg-type]
    return {
        "loss": official.loss,
        "loss_clean": clean.loss,
        "center": center,
        "ce_masked": official.ce_masked,
        "ce_local": official.ce_local,
    }


def run_schedules(c: GoldenCase) -> Outputs:
    epochs, niter = c.int("epochs"), c.int("niter_per_ep")
    lr = cosine_scheduler(
        c.num("lr") * c.num("batch_size_total") / 256, c.num("min_lr"), epochs, niter, c.num("warmup_epochs")
    )
    wd = cosine_scheduler(c.num("weight_decay"), c.num("weight_decay_end"), epochs, niter)
    momentum = cosine_scheduler(c.num("momentum_teacher"), 1, epochs, niter)
    temps = teacher_temp_schedule(
        c.num("warmup_teacher_temp"), c.num("teacher_temp"), c.int("warmup_teacher_temp_epochs"), epochs
    )
    return {
        name: torch.from_numpy(v)
        for name, v in (("lr", lr), ("wd", wd), ("momentum", momentum), ("teacher_temp", temps))
    }


CASE_RUNNERS: dict[str, Callable[[GoldenCase], Outputs]] = {
    "vit_forward": run_vit_forward,
    "head_forward": run_head_forward,
    "sinkhorn": run_sinkhorn,
    "mot": run_mot,
    "dino_loss": run_dino_loss,
    "schedules": run_schedules,
    "train_step": lambda c: run_train_step(c, teacher_temp_at(c, c.int("epoch")), vit_config_of(c), head_config_of),
}


def run_case(c: GoldenCase) -> Outputs:
    runner = CASE_RUNNERS.get(c.kind)
    if runner is None:
        raise ValueError(f'unknown case kind "{c.kind}" (known: {", ".join(CASE_RUNNERS)})')
    return runner(c)
