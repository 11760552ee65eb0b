"""sinkhorn_knopp against a literal float64 transcription of the algorithm (loops over samples, rows, columns)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dora_studio.dora.sinkhorn import SinkhornOptions, sinkhorn_knopp


def reference(logits: np.ndarray, iters: int, eps: float) -> np.ndarray:
    b, n, k = logits.shape
    out = np.zeros_like(logits, dtype=np.float64)
    for s in range(b):
        q = np.exp(logits[s].T.astype(np.float64) / eps - (logits[s] / eps).max())  # [K, N]
        q /= q.sum()
        for _ in range(iters):
            for c in range(k):
                q[c] /= q[c].sum() * k
            for p in range(n):
                q[:, p] /= q[:, p].sum() * n
        out[s] = (q * n).T
    return out


@pytest.mark.parametrize("shape,iters,eps", [((2, 16, 3), 30, 0.05), ((3, 25, 4), 7, 0.1), ((1, 49, 2), 30, 0.05)])
def test_official_matches_the_formula_and_the_marginals(shape: tuple[int, int, int], iters: int, eps: float) -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(*shape, generator=g) * 0.3
    got = sinkhorn_knopp(logits, SinkhornOptions(iters, eps, "official"))
    want = reference(logits.double().numpy(), iters, eps)
    assert got.dtype == torch.float32 and got.shape == logits.shape
    assert np.abs(got.numpy() - want).max() <= 1e-5 * np.abs(want).max()
    b, n, k = shape
    assert torch.allclose(got.sum(-1), torch.ones(b, n), atol=1e-5)  # each patch's mass is 1
    if iters >= 30:  # converged: each prototype carries ~N/K
        assert torch.allclose(got.sum(-2), torch.full((b, k), n / k), rtol=1e-2)


def test_log_domain_equals_official_when_finite_and_stays_finite_where_official_underflows() -> None:
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 36, 3, generator=g) * 0.2
    official = sinkhorn_knopp(logits, SinkhornOptions(variant="official"))
    log_domain = sinkhorn_knopp(logits, SinkhornOptions(variant="log-domain"))
    assert (official - log_domain).abs().max() < 1e-5
    # One patch far below the sample maximum: exp underflows for its whole column → 0/0 in float32.
    bad = logits.clone()
    bad[0, 5, :] = -10.0
    assert torch.isnan(sinkhorn_knopp(bad, SinkhornOptions(variant="official"))[0]).all()  # the official failure mode
    assert not torch.isnan(sinkhorn_knopp(bad, SinkhornOptions(variant="official"))[1]).any()  # other samples intact
    fixed = sinkhorn_knopp(bad, SinkhornOptions(variant="log-domain"))
    assert torch.isfinite(fixed).all() and torch.allclose(fixed.sum(-1), torch.ones(2, 36), atol=1e-5)


def test_infinite_logits_are_shot_to_the_sample_maximum() -> None:
    logits = torch.zeros(1, 4, 2)
    logits[0, 1, 0] = math.inf  # every finite entry becomes exp(-inf) = 0 after the max subtraction → nan sample
    out = sinkhorn_knopp(logits)
    assert out.shape == (1, 4, 2)  # no exception, the official arithmetic decides the values


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="official' or 'log-domain"):
        sinkhorn_knopp(torch.zeros(1, 2, 2), SinkhornOptions(variant="exact"))  # type: ignore[arg-type]
