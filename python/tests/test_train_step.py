"""dora_train_step: deterministic, the same update whatever the micro-batch, nothing changed on a non-finite loss,
out-of-memory back-off, the DINO baseline path, precision modes on CPU, and the checkpoint tensors."""

from __future__ import annotations

import pytest
import torch

from dora_studio.dora import train_step as ts
from dora_studio.dora.memory import DoraOutOfMemoryError, choose_micro_batch, student_bytes_per_clip
from dora_studio.dora.runtime import RuntimeSetupError, resolve_device, resolve_precision
from dora_studio.dora.state import create_dora_state
from dora_studio.dora.train_step import DoraBatch, DoraStepHyper, NonFiniteLossError, StepOptions, dora_train_step
from dora_studio.model import DoraModelConfig, HeadConfig, VitConfig

CFG = DoraModelConfig(VitConfig(24, 2, 3, 8, 32, drop_path_rate=0.0), HeadConfig(24, 48, 32, 16))
HYPER = DoraStepHyper(epoch=1, lr=0.005, weight_decay=0.1, momentum=0.99, teacher_temp=0.05)


def batch(b: int = 4, f: int = 3, nl: int = 2, seed: int = 0) -> DoraBatch:
    g = torch.Generator().manual_seed(seed)
    return DoraBatch(
        torch.randn(b, f, 3, 32, 32, generator=g), torch.randn(nl, b, f, 3, 16, 16, generator=g), [2, 0, 1]
    )


def snapshot(state) -> dict[str, torch.Tensor]:  # type: ignore[no-untyped-def]
    out = state.weight_tensors()
    out.update(state.optimizer_tensors())
    return out


def test_the_step_is_deterministic() -> None:
    results = []
    for _ in range(2):
        state = create_dora_state(CFG, seed=0)
        outcome = dora_train_step(state, batch(), HYPER)
        results.append((outcome.scalars(), snapshot(state), outcome.grad_norms))
    (s1, w1, n1), (s2, w2, n2) = results
    assert s1 == s2 and torch.equal(n1, n2)
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)


@pytest.mark.parametrize("micro", [1, 2])
def test_micro_batches_give_the_full_batch_update(micro: int) -> None:
    full, split = create_dora_state(CFG, seed=1), create_dora_state(CFG, seed=1)
    for state in (full, split):  # past AdamW's first step, whose lr·g/|g| magnifies rounding in tiny gradients
        dora_train_step(state, batch(seed=9), HYPER)
    a = dora_train_step(full, batch(), HYPER, StepOptions(collect=True))
    c = dora_train_step(split, batch(), HYPER, StepOptions(micro_batch=micro, collect=True))
    assert c.micro_batch == micro and abs(a.loss.item() - c.loss.item()) < 1e-5
    assert torch.allclose(a.diagnostics.student_masked, c.diagnostics.student_masked, atol=1e-5)
    assert torch.allclose(a.diagnostics.student_local, c.diagnostics.student_local, atol=1e-5)
    for name, g in a.diagnostics.clipped_grads.items():
        assert torch.allclose(g, c.diagnostics.clipped_grads[name], rtol=1e-3, atol=1e-6), name
    wa, wc = full.weight_tensors(), split.weight_tensors()
    assert all(torch.allclose(wa[k], wc[k], atol=1e-5) for k in wa)


def test_a_non_finite_loss_changes_nothing() -> None:
    state = create_dora_state(CFG, seed=2)
    dora_train_step(state, batch(), HYPER)  # some optimiser state to protect
    before = snapshot(state)
    bad = batch()
    bad.local_crops[1, 0, 0, 0, 0, 0] = float("nan")  # crop 0 is not in the official loss
    with pytest.raises(NonFiniteLossError, match="no parameter was updated"):
        dora_train_step(state, bad, HYPER)
    after = snapshot(state)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in state.student.parameters())


def test_out_of_memory_halves_the_micro_batch_then_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ts.student_outputs
    seen: list[int] = []

    def limited(state, masked, local, precision):  # type: ignore[no-untyped-def]
        seen.append(masked.shape[2])
        if masked.shape[2] > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(state, masked, local, precision)

    monkeypatch.setattr(ts, "student_outputs", limited)
    reference = create_dora_state(CFG, seed=3)
    expected = dora_train_step(reference, batch(), HYPER, StepOptions(micro_batch=1))
    seen.clear()
    state = create_dora_state(CFG, seed=3)
    outcome = dora_train_step(state, batch(), HYPER, StepOptions(micro_batch=4))
    assert seen[:2] == [4, 2] and outcome.micro_batch == 1
    assert abs(outcome.loss.item() - expected.loss.item()) < 1e-6
    monkeypatch.setattr(ts, "student_outputs", lambda *a: (_ for _ in ()).throw(RuntimeError("CUDA out of memory.")))
    with pytest.raises(DoraOutOfMemoryError, match="even with one clip per forward/backward pass.*Fix:"):
        dora_train_step(create_dora_state(CFG, seed=3), batch(), HYPER)
    monkeypatch.setattr(ts, "student_outputs", lambda *a: (_ for _ in ()).throw(ValueError("other")))
    with pytest.raises(ValueError, match="other"):  # not an OOM: not swallowed
        dora_train_step(create_dora_state(CFG, seed=3), batch(), HYPER)


def test_dino_baseline_and_clean_loss_and_log_domain_run() -> None:
    from dora_studio.dora.sinkhorn import SinkhornOptions

    state = create_dora_state(CFG, seed=4)
    hyper = DoraStepHyper(**{**HYPER.__dict__, "tracker": False, "loss_variant": "clean"})
    outcome = dora_train_step(state, batch(), hyper, StepOptions(collect=True))
    assert outcome.tracker is None and outcome.diagnostics.student_masked.shape[0] == 1
    hyper = DoraStepHyper(**{**HYPER.__dict__, "sinkhorn": SinkhornOptions(variant="log-domain")})
    assert torch.isfinite(dora_train_step(state, batch(), hyper).loss)


def test_frozen_last_layer_is_not_updated_but_teacher_last_layer_follows_by_ema() -> None:
    state = create_dora_state(CFG, seed=5)
    student_before = state.named_student()["head.last_layer.weight_v"].detach().clone()
    with torch.no_grad():
        state.named_teacher()["head.last_layer.weight_v"].add_(1.0)
    teacher_before = state.named_teacher()["head.last_layer.weight_v"].detach().clone()
    hyper = DoraStepHyper(**{**HYPER.__dict__, "epoch": 0})
    dora_train_step(state, batch(), hyper)
    assert torch.equal(state.named_student()["head.last_layer.weight_v"], student_before)
    expected = 0.99 * teacher_before + 0.01 * student_before
    assert torch.allclose(state.named_teacher()["head.last_layer.weight_v"], expected, atol=1e-6)


def test_bf16_autocast_runs_on_cpu_and_fp16_tf32_need_cuda() -> None:
    cpu = torch.device("cpu")
    state = create_dora_state(CFG, seed=6)
    outcome = dora_train_step(state, batch(), HYPER, StepOptions(precision=resolve_precision("bf16", cpu)))
    assert torch.isfinite(outcome.loss)
    assert resolve_precision("auto", cpu).name == "fp32"
    for name in ("fp16", "tf32"):
        with pytest.raises(RuntimeSetupError, match="needs"):
            resolve_precision(name, cpu)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeSetupError, match="runtime.device is 'cuda' but this PyTorch"):
            resolve_device("cuda")


def test_auto_micro_batch_picks_the_largest_divisor_that_fits() -> None:
    fp32 = resolve_precision("fp32", torch.device("cpu"))
    per_clip = student_bytes_per_clip(CFG, 3, 3, 32, 2, 16, fp32)
    for budget_clips, want in ((100, 12), (7, 6), (4.5, 4), (0.5, 1)):
        got, reason = choose_micro_batch(
            CFG, 12, 3, 3, 32, 2, 16, torch.device("cpu"), fp32, int(budget_clips * per_clip / 0.9) + 1
        )
        assert got == want and f"{got} of 12 clips" in reason


def test_checkpoint_tensors_round_trip_with_the_shared_names() -> None:
    state = create_dora_state(CFG, seed=7)
    dora_train_step(state, batch(), HYPER)
    weights, optim = state.weight_tensors(), state.optimizer_tensors()
    assert "student.backbone.blocks.0.attn.qkv.weight" in weights and "loss.center" in weights
    other = create_dora_state(CFG, seed=8)
    other.load_weight_tensors(weights, "w.safetensors")
    other.load_optimizer_tensors(optim, "o.safetensors")
    assert all(torch.equal(weights[k], v) for k, v in other.weight_tensors().items())
    a = dora_train_step(state, batch(seed=1), HYPER)
    b = dora_train_step(other, batch(seed=1), HYPER)
    assert a.loss.item() == b.loss.item()
    with pytest.raises(ValueError, match=r"w\.safetensors: tensor student\.backbone\.cls_token is missing"):
        other.load_weight_tensors(
            {k: v for k, v in weights.items() if k != "student.backbone.cls_token"}, "w.safetensors"
        )


def test_config_helpers_read_the_resolved_config() -> None:
    from dora_studio.dora.memory import micro_batch_for_config

    config = {
        "training": {"batchClips": 6, "microBatch": 3, "freezeLastLayer": 2, "clipGrad": 2.5, "studentTemp": 0.2,
                     "centerMomentum": 0.95, "teacherTemp": 0.04},
        "dora": {"loss": "clean", "tracker": True, "objects": 3, "sinkhorn": {"iterations": 5, "epsilon": 0.1, "variant": "log-domain"}},
        "data": {"framesPerClip": 3, "globalSize": 32, "localCrops": 2, "localSize": 16},
    }  # fmt: skip
    fp32 = resolve_precision("fp32", torch.device("cpu"))
    assert micro_batch_for_config(config, CFG, torch.device("cpu"), fp32)[0] == 3
    assert micro_batch_for_config(config, CFG, torch.device("cpu"), fp32, "auto")[0] == 6  # tiny model: all fit
    with pytest.raises(ValueError, match="training.microBatch 4 must divide training.batchClips 6"):
        micro_batch_for_config(config, CFG, torch.device("cpu"), fp32, 4)
    hyper = DoraStepHyper.from_run_config(config, 3, 1e-3, 0.1, 0.99, 0.05)
    assert (hyper.epoch, hyper.freeze_last_layer, hyper.clip_grad, hyper.loss_variant) == (3, 2, 2.5, "clean")
    assert hyper.sinkhorn.variant == "log-domain" and hyper.sinkhorn.iterations == 5 and hyper.center_momentum == 0.95
