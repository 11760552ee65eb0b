"""Sinkhorn-Knopp (DoRA's sinkhorn_knopp.py, used by utils.MOT with 30 iterations and ε = 0.05), batched.

Input: logits S = Z̃·Pᵀ, [B, N, K] (N patches, K prototypes). Output: the assignment M* [B, N, K] whose rows
(patches) sum to 1 and whose columns (prototypes) sum to N/K. Never differentiated; no host synchronisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

SinkhornVariant = Literal["official", "log-domain"]


@dataclass(frozen=True)
class SinkhornOptions:
    iterations: int = 30
    epsilon: float = 0.05
    variant: SinkhornVariant = "official"


OFFICIAL_SINKHORN = SinkhornOptions()


def _shoot_infs(q: torch.Tensor) -> torch.Tensor:
    """Official shoot_infs: ±inf entries become the sample's largest value after zeroing them (device-side)."""
    inf = torch.isinf(q)
    zeroed = q.masked_fill(inf, 0.0)
    return torch.where(inf, zeroed.amax(dim=(-2, -1), keepdim=True), zeroed)


def sinkhorn_knopp_official(logits: torch.Tensor, iterations: int = 30, epsilon: float = 0.05) -> torch.Tensor:
    """The official iteration in float32, failure mode included: when every prototype logit of some patch lies
    ≳ 104·ε below the sample's maximum, exp() underflows for the whole patch column, the column normalisation
    computes 0/0 and the sample becomes NaN (MOT then zeroes every mask of that object in the batch). See the
    log-domain variant for a version without it."""
    q = logits.float() / epsilon
    q = q - q.amax(dim=(-2, -1), keepdim=True)
    q = _shoot_infs(torch.exp(q).transpose(-2, -1))  # [B, K, N]
    q = q / q.sum(dim=(-2, -1), keepdim=True)
    k, n = q.shape[-2], q.shape[-1]
    for _ in range(iterations):
        q = q / q.sum(dim=-1, keepdim=True)  # each prototype's mass → 1/K
        q = q / k
        q = q / q.sum(dim=-2, keepdim=True)  # each patch's mass → 1/N
        q = q / n
    return (q * n).transpose(-2, -1)


def sinkhorn_knopp_log_domain(logits: torch.Tensor, iterations: int = 30, epsilon: float = 0.05) -> torch.Tensor:
    """The same iteration in the log domain (float64 where the device has it): the normalisations become
    log-sum-exp subtractions, so an underflowing patch cannot produce 0/0. Equal to the official result wherever
    that one is finite (the official global normalisation is absorbed by the first row normalisation)."""
    dtype = torch.float32 if logits.device.type == "mps" else torch.float64
    log_q = (logits.to(dtype) / epsilon).transpose(-2, -1)  # [B, K, N]
    k, n = log_q.shape[-2], log_q.shape[-1]
    for _ in range(iterations):
        log_q = log_q - (torch.logsumexp(log_q, dim=-1, keepdim=True) + math.log(k))
        log_q = log_q - (torch.logsumexp(log_q, dim=-2, keepdim=True) + math.log(n))
    return torch.exp(log_q + math.log(n)).transpose(-2, -1).float()


@torch.no_grad()
def sinkhorn_knopp(logits: torch.Tensor, options: SinkhornOptions = OFFICIAL_SINKHORN) -> torch.Tensor:
    """M* = SinkhornKnopp(S) for logits [B, N, K] → float32 [B, N, K]."""
    if options.variant == "log-domain":
        return sinkhorn_knopp_log_domain(logits, options.iterations, options.epsilon)
    if options.variant != "official":
        raise ValueError(f"sinkhorn variant must be 'official' or 'log-domain' (got {options.variant!r})")
    return sinkhorn_knopp_official(logits, options.iterations, options.epsilon)
