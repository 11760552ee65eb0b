"""AdamW groups and update, per-tensor clipping, last-layer freeze, EMA and schedules against their formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dora_studio.model import DoraModelConfig, HeadConfig, VitConfig, build_dora_networks
from dora_studio.optim import (
    adamw_state_tensors,
    adamw_step,
    build_adamw,
    cancel_last_layer_gradients,
    clip_gradients_per_tensor,
    cosine_scheduler,
    ema_update_teacher,
    load_adamw_state_tensors,
    teacher_temp_schedule,
)

CFG = DoraModelConfig(VitConfig(16, 1, 2, 8, 16), HeadConfig(16, 24, 12, 6))


def test_groups_are_the_official_ones() -> None:
    student, _ = build_dora_networks(CFG, seed=0)
    opt = build_adamw(student)
    names = {p: n for n, p in student.named_parameters()}
    decayed = [names[p] for p in opt.param_groups[0]["params"]]
    plain = [names[p] for p in opt.param_groups[1]["params"]]
    assert {"backbone.cls_token", "backbone.pos_embed", "head.last_layer.weight_g"} <= set(decayed)
    assert all(n.endswith(".bias") or student.get_parameter(n).ndim == 1 for n in plain)
    assert all(not n.endswith(".bias") and student.get_parameter(n).ndim > 1 for n in decayed)
    assert opt.param_groups[1]["weight_decay"] == 0.0 and len(decayed) + len(plain) == len(names)


def test_adamw_step_follows_the_torch_1_13_formula_and_skips_tensors_without_grad() -> None:
    student, _ = build_dora_networks(CFG, seed=1)
    opt = build_adamw(student)
    params = dict(student.named_parameters())
    before = {n: p.detach().clone() for n, p in params.items()}
    g = torch.Generator().manual_seed(0)
    for n, p in params.items():
        p.grad = None if "last_layer" in n else torch.randn(p.shape, generator=g)
    grads = {n: p.grad.clone() for n, p in params.items() if p.grad is not None}
    lr, wd = 0.01, 0.3
    for t in (1, 2):
        adamw_step(opt, lr, wd)
    for n, p in params.items():
        if n not in grads:
            assert torch.equal(p.detach(), before[n]) and p not in opt.state  # no decay, no state
            continue
        decay = 0.0 if n.endswith(".bias") or p.ndim == 1 else wd
        ref, m, v = before[n].double(), torch.zeros_like(before[n]).double(), torch.zeros_like(before[n]).double()
        for t in (1, 2):
            ref = ref * (1 - lr * decay)
            m = 0.9 * m + 0.1 * grads[n].double()
            v = 0.999 * v + 0.001 * grads[n].double() ** 2
            ref = ref - lr / (1 - 0.9**t) * m / (v.sqrt() / math.sqrt(1 - 0.999**t) + 1e-8)
        assert torch.allclose(p.detach().double(), ref, atol=1e-6), n


def test_optimizer_state_round_trips_under_the_checkpoint_names_and_bad_files_are_named() -> None:
    student, _ = build_dora_networks(CFG, seed=2)
    opt = build_adamw(student)
    for p in student.parameters():
        p.grad = torch.ones_like(p)
    adamw_step(opt, 1e-3, 0.04)
    names = {p: n for n, p in student.named_parameters()}
    saved = adamw_state_tensors(opt, names)
    assert saved["step.backbone.cls_token"].dtype == torch.int64 and saved["step.backbone.cls_token"].item() == 1
    assert set(saved) == {f"{kind}.{n}" for n in names.values() for kind in ("exp_avg", "exp_avg_sq", "step")}
    fresh = build_adamw(student)
    load_adamw_state_tensors(fresh, dict(student.named_parameters()), saved, "opt.safetensors")
    assert adamw_state_tensors(fresh, names).keys() == saved.keys()
    assert all(torch.equal(adamw_state_tensors(fresh, names)[k], v) for k, v in saved.items())
    broken = {**saved, "exp_avg.backbone.cls_token": torch.zeros(3)}
    with pytest.raises(ValueError, match=r"opt\.safetensors: optimiser state of backbone\.cls_token .*wrong shape"):
        load_adamw_state_tensors(fresh, dict(student.named_parameters()), broken, "opt.safetensors")


def test_clip_is_per_tensor_and_returns_raw_norms_then_freeze_drops_last_layer() -> None:
    student, _ = build_dora_networks(CFG, seed=3)
    params = list(student.parameters())
    g = torch.Generator().manual_seed(1)
    for i, p in enumerate(params):
        p.grad = torch.randn(p.shape, generator=g) * (10.0 if i % 2 else 0.01)
    raw = [p.grad.clone() for p in params]
    norms = clip_gradients_per_tensor(params, 3.0)
    for p, r, n in zip(params, raw, norms):
        assert abs(n.item() - r.norm().item()) < 1e-4 * r.norm().item()
        coef = 3.0 / (r.norm().item() + 1e-6)
        assert torch.allclose(p.grad, r * coef if coef < 1 else r, rtol=1e-6)
    cancel_last_layer_gradients(student, epoch=0, freeze_last_layer=1)
    assert [n for n, p in student.named_parameters() if p.grad is None] == [
        "head.last_layer.weight_g",
        "head.last_layer.weight_v",
    ]
    for p in params:
        p.grad = torch.ones_like(p)
    cancel_last_layer_gradients(student, epoch=1, freeze_last_layer=1)
    assert all(p.grad is not None for p in params)


def test_ema_update_and_its_device_side_guard() -> None:
    t, s = [torch.randn(4, 3), torch.randn(5)], [torch.randn(4, 3), torch.randn(5)]
    t0 = [x.clone() for x in t]
    ema_update_teacher(t, s, 0.9)
    assert all(torch.allclose(a, 0.9 * b + 0.1 * c) for a, b, c in zip(t, t0, s))
    t1 = [x.clone() for x in t]
    ema_update_teacher(t, s, 0.5, apply=torch.tensor(False))
    assert all(torch.equal(a, b) for a, b in zip(t, t1))
    ema_update_teacher(t, s, 0.5, apply=torch.tensor(True))
    assert all(torch.allclose(a, 0.5 * b + 0.5 * c) for a, b, c in zip(t, t1, s))


def test_schedules_follow_the_official_quirks() -> None:
    lr = cosine_scheduler(0.1, 0.001, epochs=4, niter_per_epoch=5, warmup_epochs=1)
    assert lr.dtype == np.float64 and len(lr) == 20
    assert np.allclose(lr[:5], np.linspace(0, 0.1, 5)) and lr[4] == lr[5] == 0.1  # base appears twice
    i = np.arange(15)
    assert np.allclose(lr[5:], 0.001 + 0.5 * 0.099 * (1 + np.cos(np.pi * i / 15)))
    assert lr[-1] > 0.001  # never reaches final
    assert len(cosine_scheduler(1, 0, 2, 10, warmup_epochs=0.25)) == 20  # fractional warm-up: 3 (rounded) iterations
    temps = teacher_temp_schedule(0.04, 0.07, 3, 5)
    assert np.allclose(temps, [0.04, 0.055, 0.07, 0.07, 0.07])
