"""The ViT, the DINO head and the student/teacher pair against independent formulas written from the paper/README
(unfold + matmul patches, bicubic weights with the +0.1 sampling, explicit attention), on non-default shapes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dora_studio.model import DoraModelConfig, HeadConfig, VitConfig, build_dora_networks, dora_param_names
from dora_studio.model.dora_model import ConfigFieldError, trainable_param_names
from dora_studio.model.head import DinoHead, head_param_shapes
from dora_studio.model.vit import VisionTransformer, vit_param_shapes

G = torch.Generator().manual_seed(5)


def cubic(x: float, a: float = -0.75) -> float:
    x = abs(x)
    if x <= 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


def bicubic_matrix(g: int, n: int) -> torch.Tensor:
    """[n, g]: PyTorch bicubic (align_corners False) at scale (n + 0.1)/g, border-clamped taps."""
    m = torch.zeros(n, g, dtype=torch.float64)
    for dst in range(n):
        src = (dst + 0.5) * g / (n + 0.1) - 0.5
        base = math.floor(src)
        for j in range(-1, 3):
            m[dst, min(max(base + j, 0), g - 1)] += cubic(src - (base + j))
    return m


def reference_vit(sd: dict[str, torch.Tensor], cfg: VitConfig, x: torch.Tensor) -> dict[str, torch.Tensor]:
    b, _, hgt, wid = x.shape
    p, d, heads = cfg.patch_size, cfg.embed_dim, cfg.num_heads
    rows, cols = hgt // p, wid // p
    patches = F.unfold(x.double(), p, stride=p).transpose(1, 2)  # [B, N, 3·p·p]
    emb = patches @ sd["patch_embed.proj.weight"].double().reshape(d, -1).T + sd["patch_embed.proj.bias"].double()
    pos = sd["pos_embed"].double()
    g = int(math.sqrt(pos.shape[1] - 1))
    if rows * cols != g * g or rows != cols:
        grid = pos[0, 1:].reshape(g, g, d)
        resized = torch.einsum("rg,gcd->rcd", bicubic_matrix(g, rows), grid)
        resized = torch.einsum("sc,rcd->rsd", bicubic_matrix(g, cols), resized)
        pos = torch.cat([pos[:, :1], resized.reshape(1, rows * cols, d)], 1)
    tok = torch.cat([sd["cls_token"].double().expand(b, -1, -1), emb], 1) + pos
    ln = lambda v, name: F.layer_norm(
        v, (d,), sd[f"{name}.weight"].double(), sd[f"{name}.bias"].double(), cfg.ln_eps
    )  # noqa: E731
    out: dict[str, torch.Tensor] = {}
    for i in range(cfg.depth):
        pre = f"blocks.{i}."
        qkv = ln(tok, pre + "norm1") @ sd[pre + "attn.qkv.weight"].double().T + sd[pre + "attn.qkv.bias"].double()
        q, k, v = (qkv[..., j * d : (j + 1) * d].reshape(b, -1, heads, d // heads).transpose(1, 2) for j in range(3))
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // heads), dim=-1)
        mixed = (attn @ v).transpose(1, 2).reshape(b, -1, d)
        tok = tok + mixed @ sd[pre + "attn.proj.weight"].double().T + sd[pre + "attn.proj.bias"].double()
        hid = F.gelu(ln(tok, pre + "norm2") @ sd[pre + "mlp.fc1.weight"].double().T + sd[pre + "mlp.fc1.bias"].double())
        tok = tok + hid @ sd[pre + "mlp.fc2.weight"].double().T + sd[pre + "mlp.fc2.bias"].double()
        out.update(attn=attn, q=q, k=k, pos=pos)
    out["tokens"] = ln(tok, "norm")
    return out


def randomised(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=G) * 0.3)
    return {k: v.detach() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("side", [(24, 24), (12, 12), (8, 20)])
def test_vit_matches_the_formulas_at_native_interpolated_and_rectangular_sizes(side: tuple[int, int]) -> None:
    cfg = VitConfig(embed_dim=20, depth=2, num_heads=4, patch_size=4, img_size=24)
    model = VisionTransformer(cfg).eval()
    sd = randomised(model)
    x = torch.randn(2, 3, *side, generator=G)
    ref = reference_vit(sd, cfg, x)
    out = model(x, track=True, keep_intermediates=True)
    scale = lambda t: t.abs().max().item()  # noqa: E731
    for name, got in (("tokens", out.tokens), ("attn", out.attn), ("q", out.q), ("k", out.k), ("pos", out.pos_embed)):
        assert (got.double() - ref[name]).abs().max().item() <= 2e-5 * scale(ref[name]), name
    assert torch.allclose(model(x, cls_only=True).cls, out.cls, atol=1e-5)  # the [CLS]-only last block is exact


def test_parameter_names_order_and_shapes_are_the_official_ones() -> None:
    cfg = DoraModelConfig(VitConfig(24, 2, 3, 8, 32), HeadConfig(24, 40, 16, 8, nlayers=3))
    student, teacher = build_dora_networks(cfg, seed=0)
    names = [n for n, _ in student.named_parameters()]
    assert names == dora_param_names(cfg)
    assert names[:4] == [
        "backbone.cls_token",
        "backbone.pos_embed",
        "backbone.patch_embed.proj.weight",
        "backbone.patch_embed.proj.bias",
    ]
    assert names[-2:] == ["head.last_layer.weight_g", "head.last_layer.weight_v"]
    shapes = {
        **{f"backbone.{k}": v for k, v in vit_param_shapes(cfg.vit).items()},
        **{f"head.{k}": v for k, v in head_param_shapes(cfg.head).items()},
    }
    assert {n: tuple(p.shape) for n, p in student.named_parameters()} == shapes
    assert not any(p.requires_grad for p in teacher.parameters())
    assert torch.equal(student.state_dict()["head.last_layer.weight_g"], torch.ones(40, 1))
    assert trainable_param_names(cfg) == names
    again, _ = build_dora_networks(cfg, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(student.state_dict().values(), again.state_dict().values()))


@pytest.mark.parametrize("nlayers", [1, 2, 3])
def test_head_is_mlp_gelu_l2_then_weight_normed_layer(nlayers: int) -> None:
    cfg = HeadConfig(in_dim=12, out_dim=30, hidden_dim=18, bottleneck_dim=7, nlayers=nlayers, norm_last_layer=True)
    head = DinoHead(cfg)
    sd = randomised(head)
    assert not head.last_layer.weight_g.requires_grad and list(sd) == list(head_param_shapes(cfg))
    x = torch.randn(5, 12, generator=G)
    h = x
    linears = [k[: -len(".weight")] for k in sd if k.startswith("mlp") and k.endswith("weight")]
    for i, name in enumerate(linears):
        h = h @ sd[f"{name}.weight"].T + sd[f"{name}.bias"]
        if i < len(linears) - 1:
            h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
    h = h / h.norm(dim=1, keepdim=True)
    w = sd["last_layer.weight_g"] * sd["last_layer.weight_v"] / sd["last_layer.weight_v"].norm(dim=1, keepdim=True)
    assert torch.allclose(head(x), h @ w.T, atol=1e-5)
    assert torch.allclose(head.last_layer.weight(), w, atol=1e-6)


def test_model_config_from_a_resolved_config_names_the_bad_field() -> None:
    good = {
        "model": {"embedDim": 24, "depth": 2, "numHeads": 3, "patchSize": 8, "mlpRatio": 4, "qkvBias": True, "dropPathRate": 0.1,
                  "head": {"outDim": 64, "hiddenDim": 32, "bottleneckDim": 16, "nlayers": 3, "normLastLayer": False}},
        "data": {"globalSize": 32},
    }  # fmt: skip
    cfg = DoraModelConfig.from_run_config(good)
    assert cfg.vit.img_size == 32 and cfg.head.in_dim == 24 and cfg.vit.drop_path_rate == 0.1
    bad = {**good, "model": {**good["model"], "numHeads": "three"}}
    with pytest.raises(ConfigFieldError, match=r"model\.numHeads must be a positive integer \(got 'three'\)"):
        DoraModelConfig.from_run_config(bad)
    with pytest.raises(ConfigFieldError, match="model.head.outDim"):
        DoraModelConfig.from_run_config(
            {**good, "model": {**good["model"], "head": {**good["model"]["head"], "outDim": 0}}}
        )
