"""The tracker's named functions against literal loop formulas (per clip, object, frame, patch) on small inputs."""

from __future__ import annotations

import numpy as np
import torch

from dora_studio.dora.sinkhorn import SinkhornOptions, sinkhorn_knopp
from dora_studio.dora.tracker import (
    binarise_maps,
    mask_images,
    masked_views,
    object_prototypes,
    refine_prototypes,
    run_tracker,
    track_across_frames,
)

G = torch.Generator().manual_seed(0)


def rand(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=G, dtype=torch.float64).float()


def test_object_prototypes_weight_the_anchor_queries_by_the_chosen_heads_cls_rows() -> None:
    b, h, t, dh = 2, 4, 10, 5
    attn, query = rand(b, h, t, t).softmax(-1), rand(b, h, t, dh)
    heads = [3, 0, 2]
    got = object_prototypes(attn, query, torch.tensor(heads))
    for s in range(b):
        q_concat = np.concatenate([query[s, hh, 1:].numpy() for hh in range(h)], axis=1)  # [N, h·dh], heads in order
        for o, head in enumerate(heads):
            want = attn[s, head, 0, 1:].numpy() @ q_concat
            assert np.allclose(got[s, o].numpy(), want, atol=1e-5)


def test_refine_prototypes_is_a_sum_of_assigned_patches() -> None:
    assignment, z = rand(2, 7, 3).abs(), rand(2, 7, 6)
    got = refine_prototypes(assignment, z)
    for s in range(2):
        for o in range(3):
            want = sum(assignment[s, p, o] * z[s, p] for p in range(7))
            assert torch.allclose(got[s, o], want, atol=1e-5)


def test_track_across_frames_softmax_over_patches_scaled_by_full_dim() -> None:
    f, b, h, t, dh, k = 3, 2, 2, 6, 4, 2
    refined, keys = rand(b, k, h * dh), rand(f, b, h, t, dh)
    maps = track_across_frames(refined, keys)
    assert maps.shape == (k, b, f, t - 1)
    for fr in range(f):
        for s in range(b):
            key_concat = torch.cat([keys[fr, s, hh, 1:] for hh in range(h)], dim=1)  # [N, D]
            for o in range(k):
                logits = (key_concat @ refined[s, o]) / (h * dh) ** 0.5
                assert torch.allclose(maps[o, s, fr], logits.softmax(0), atol=1e-6)


def test_binarise_uses_one_threshold_for_the_whole_batch() -> None:
    maps = rand(2, 3, 4, 9).softmax(-1)
    r = binarise_maps(maps)
    for o in range(2):
        for fr in range(4):
            l2 = [maps[o, s, fr] / maps[o, s, fr].norm() for s in range(3)]
            threshold = torch.stack(l2).mean()  # over every clip and patch of the batch
            assert torch.allclose(r.threshold[o, fr], threshold, atol=1e-7)
            for s in range(3):
                assert torch.equal(r.mask[o, s, fr], l2[s] > threshold)
                assert torch.allclose(r.margin[o, s, fr], l2[s] - threshold, atol=1e-7)
    nan_maps = maps.clone()
    nan_maps[0] = float("nan")
    assert not binarise_maps(nan_maps).mask[0].any()  # NaN compares False: every mask of that object is 0


def test_masked_views_and_mask_images_are_nearest_upsampled_products_in_two_layouts() -> None:
    k, b, f, p, h, w = 2, 2, 3, 4, 12, 10  # w = 10 is not a multiple of p: the last 2 columns stay 0
    images = rand(b, f, 3, h, w)
    mask = torch.rand(k, b, f, (h // p) * (w // p), generator=G) > 0.5
    official = mask_images(images, mask, p)
    frame_major = masked_views(images.transpose(0, 1), mask, p)
    assert official.shape == (k, b, f, 3, h, w) and frame_major.shape == (k, f, b, 3, h, w)
    assert torch.equal(official, frame_major.transpose(1, 2))
    for o in range(k):
        for s in range(b):
            for fr in range(f):
                for y in range(h):
                    for x in range(w):
                        keep = x < (w // p) * p and bool(mask[o, s, fr, (y // p) * (w // p) + x // p])
                        want = images[s, fr, :, y, x] if keep else torch.zeros(3)
                        assert torch.equal(official[o, s, fr, :, y, x], want)


def test_run_tracker_composes_the_steps_and_is_batched_over_clips() -> None:
    f, b, h, t, dh = 2, 3, 3, 17, 8
    attn, query, keys, patches = (
        rand(b, h, t, t).softmax(-1),
        rand(b, h, t, dh),
        rand(f, b, h, t, dh),
        rand(b, t - 1, 24),
    )
    heads = torch.tensor([1, 2, 0])
    r = run_tracker(attn, query, keys, patches, heads, SinkhornOptions())
    z = patches / patches.norm(dim=-1, keepdim=True)
    assert torch.allclose(r.sk_logits, z @ object_prototypes(attn, query, heads).transpose(1, 2), atol=1e-6)
    assert torch.allclose(r.assignment, sinkhorn_knopp(r.sk_logits))
    single = run_tracker(attn[1:2], query[1:2], keys[:, 1:2], patches[1:2], heads)  # clip 1 alone
    assert torch.allclose(single.attn_maps[:, 0], r.attn_maps[:, 1], atol=1e-6)  # maps are per clip …
    assert r.mask.shape == (3, b, f, t - 1)  # … the threshold is not (batch-wide)
