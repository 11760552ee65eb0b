"""dora_loss against a literal transcription of the official loops (both quirks) and of the clean formula."""

from __future__ import annotations

import pytest
import torch

from dora_studio.dora.loss import dora_loss, official_object_weights, teacher_targets, updated_center

G = torch.Generator().manual_seed(3)


def ce(q: torch.Tensor, s: torch.Tensor, st: float) -> torch.Tensor:
    return torch.sum(-q * torch.log_softmax(s / st, dim=-1), dim=-1).mean()


def official_loops(teacher, masked, local, center, tt, st):  # type: ignore[no-untyped-def]
    f, b, _ = teacher.shape
    nl = local.shape[1] // b
    frame_loss, total = 0.0, 0.0
    for j in range(masked.shape[0]):
        for t in range(f):
            q = torch.softmax((teacher[t] - center) / tt, dim=-1)
            mask_loss = ce(q, masked[j, t], st)
            local_terms = [ce(q, local[t, v * b : (v + 1) * b], st) for v in range(nl) if v != 0]
            frame_loss = frame_loss + 0.5 * (mask_loss + sum(local_terms) / len(local_terms))
        frame_loss = frame_loss / f  # not reset between objects
        total = total + frame_loss
    return total / masked.shape[0]


def clean_formula(teacher, masked, local, center, tt, st):  # type: ignore[no-untyped-def]
    f, b, _ = teacher.shape
    nl = local.shape[1] // b
    per_frame = []
    for t in range(f):
        q = torch.softmax((teacher[t] - center) / tt, dim=-1)
        m = sum(ce(q, masked[j, t], st) for j in range(masked.shape[0])) / masked.shape[0]
        loc = sum(ce(q, local[t, v * b : (v + 1) * b], st) for v in range(nl)) / nl
        per_frame.append(0.5 * (m + loc))
    return sum(per_frame) / f


@pytest.mark.parametrize("f,b,d,k,nl", [(3, 2, 16, 3, 4), (1, 3, 8, 2, 2), (4, 1, 5, 1, 6)])
def test_official_and_clean_match_the_loops(f: int, b: int, d: int, k: int, nl: int) -> None:
    teacher = torch.randn(f, b, d, generator=G, dtype=torch.float64)
    masked = torch.randn(k, f, b, d, generator=G, dtype=torch.float64)
    local = torch.randn(f, nl * b, d, generator=G, dtype=torch.float64)
    center = torch.randn(1, d, generator=G, dtype=torch.float64) * 0.1
    args = (teacher.float(), masked.float(), local.float(), center.float(), 0.06)
    official = dora_loss(*args, student_temp=0.1, variant="official")
    clean = dora_loss(*args, student_temp=0.1, variant="clean")
    assert abs(official.loss.item() - official_loops(teacher, masked, local, center, 0.06, 0.1).item()) < 2e-5
    assert abs(clean.loss.item() - clean_formula(teacher, masked, local, center, 0.06, 0.1).item()) < 2e-5
    assert official.ce_masked.shape == (k, f) and official.ce_local.shape == (f, nl)
    q = torch.softmax((teacher[0] - center) / 0.06, dim=-1)
    assert abs(official.ce_local[0, nl - 1].item() - ce(q, local[0, (nl - 1) * b :], 0.1).item()) < 2e-5


def test_official_needs_two_local_crops_and_weights_follow_the_non_reset_frame_loss() -> None:
    with pytest.raises(ValueError, match="≥ 2 local crops"):
        dora_loss(torch.zeros(2, 1, 4), torch.zeros(3, 2, 1, 4), torch.zeros(2, 1, 4), torch.zeros(1, 4), 0.04)
    w = official_object_weights(3, 8, torch.device("cpu"))
    assert torch.allclose(w, torch.tensor([1 / 8 + 1 / 64 + 1 / 512, 1 / 8 + 1 / 64, 1 / 8]))
    assert torch.equal(official_object_weights(3, 1, torch.device("cpu")), torch.tensor([3.0, 2.0, 1.0]))


def test_targets_and_center() -> None:
    teacher, center = torch.randn(2, 3, 5, generator=G), torch.randn(1, 5, generator=G)
    q = teacher_targets(teacher, center, 0.04)
    assert torch.allclose(q, torch.softmax((teacher - center) / 0.04, -1))
    new = updated_center(center, teacher, 0.9)
    assert torch.allclose(new, 0.9 * center + 0.1 * teacher.reshape(-1, 5).mean(0, keepdim=True), atol=1e-7)
