"""The DINO/DoRA Vision Transformer (official vision_transformer.py semantics, own code): pre-norm blocks, qkv bias,
LayerNorm eps 1e-6, exact-erf GELU, learned [CLS] and positional embeddings, stochastic depth on the student.

Parameter names and layouts are the official ``state_dict`` ones (``cls_token``, ``pos_embed``,
``patch_embed.proj.weight`` [D,3,p,p], ``blocks.i.attn.qkv.weight`` [3D,D], …) in the official
``named_parameters()`` order, so official checkpoints load as they are.

Three forward modes, all the same mathematics:
- ``track=True`` (teacher): all final-norm tokens, and the LAST block's post-softmax attention with its per-head
  queries and keys (what DoRA's tracker reads);
- ``cls_only=True`` (student): only the [CLS] output is used downstream, so the last block computes the [CLS] row
  only (attention of one query over all keys, MLP and norm of one token) — exact, and ~1/depth less work;
- default: all tokens, no attention maps.
Blocks that need no attention map use ``F.scaled_dot_product_attention`` where torch has it (≥ 2.0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .pos_embed import interpolate_pos_embed

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclass(frozen=True)
class VitConfig:
    embed_dim: int
    depth: int
    num_heads: int
    patch_size: int
    #: Side of the training images the positional embedding is made for (grid = img_size // patch_size).
    img_size: int
    mlp_ratio: float = 4.0
    ln_eps: float = 1e-6
    qkv_bias: bool = True
    #: Stochastic depth of the student (official 0.1, linear over the blocks); the teacher always uses 0.
    drop_path_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads


@dataclass
class VitOutput:
    #: [B, D] final-norm [CLS] token.
    cls: torch.Tensor
    #: [B, 1+N, D] final-norm tokens, [CLS] first (None with ``cls_only``).
    tokens: torch.Tensor | None = None
    #: Last block: [B, h, T, T] post-softmax attention, [B, h, T, dh] queries and keys (``track`` only).
    attn: torch.Tensor | None = None
    q: torch.Tensor | None = None
    k: torch.Tensor | None = None
    #: ``keep_intermediates``: patch embeddings [B, N, D], the positional embedding used [1, T, D], block outputs.
    patch_embed: torch.Tensor | None = None
    pos_embed: torch.Tensor | None = None
    block_outputs: list[torch.Tensor] = field(default_factory=list)


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: each sample's residual branch is dropped with probability ``rate`` (kept ones × 1/(1−rate))."""
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x * mask / keep


class PatchEmbed(nn.Module):
    def __init__(self, patch_size: int, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, qkv_bias: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, x: torch.Tensor, parts: int) -> list[torch.Tensor]:
        """[B, T, parts·D] → parts × [B, h, T, dh]."""
        b, t, _ = x.shape
        split = x.reshape(b, t, parts, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        return list(split.unbind(0))

    def forward(
        self, x: torch.Tensor, need_weights: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        b, t, d = x.shape
        q, k, v = self._heads(self.qkv(x), 3)
        if need_weights or not HAS_SDPA:
            attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
            mixed = attn @ v
        else:
            attn = None
            mixed = F.scaled_dot_product_attention(q, k, v)
        out = self.proj(mixed.transpose(1, 2).reshape(b, t, d))
        return (out, attn, q, k) if need_weights else (out, None, None, None)

    def forward_cls(self, x: torch.Tensor) -> torch.Tensor:
        """The attention output of the [CLS] query only: [B, T, D] → [B, 1, D]."""
        b, _, d = x.shape
        weight, bias = self.qkv.weight, self.qkv.bias
        q = F.linear(x[:, :1], weight[:d], None if bias is None else bias[:d])
        k, v = self._heads(F.linear(x, weight[d:], None if bias is None else bias[d:]), 2)
        (q,) = self._heads(q, 1)
        if HAS_SDPA:
            mixed = F.scaled_dot_product_attention(q, k, v)
        else:
            mixed = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1) @ v
        return self.proj(mixed.transpose(1, 2).reshape(b, 1, d))


class Block(nn.Module):
    def __init__(self, cfg: VitConfig, drop_path_rate: float) -> None:
        super().__init__()
        d = cfg.embed_dim
        self.norm1 = nn.LayerNorm(d, eps=cfg.ln_eps)
        self.attn = Attention(d, cfg.num_heads, cfg.qkv_bias)
        self.norm2 = nn.LayerNorm(d, eps=cfg.ln_eps)
        self.mlp = Mlp(d, int(d * cfg.mlp_ratio))
        self.drop_path_rate = drop_path_rate

    def forward(
        self, x: torch.Tensor, need_weights: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        y, attn, q, k = self.attn(self.norm1(x), need_weights)
        x = x + drop_path(y, self.drop_path_rate, self.training)
        x = x + drop_path(self.mlp(self.norm2(x)), self.drop_path_rate, self.training)
        return x, attn, q, k

    def forward_cls(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output at the [CLS] position only: [B, T, D] → [B, 1, D]."""
        cls = x[:, :1] + drop_path(self.attn.forward_cls(self.norm1(x)), self.drop_path_rate, self.training)
        return cls + drop_path(self.mlp(self.norm2(cls)), self.drop_path_rate, self.training)


class VisionTransformer(nn.Module):
    def __init__(self, cfg: VitConfig, drop_path_rate: float | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.embed_dim
        rate = cfg.drop_path_rate if drop_path_rate is None else drop_path_rate
        # Parameters are registered in the official named_parameters() order.
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + cfg.grid**2, d))
        self.patch_embed = PatchEmbed(cfg.patch_size, d)
        rates = torch.linspace(0, rate, cfg.depth).tolist()  # official stochastic-depth decay rule
        self.blocks = nn.ModuleList(Block(cfg, r) for r in rates)
        self.norm = nn.LayerNorm(d, eps=cfg.ln_eps)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official init: trunc_normal(0.02) for Linear weights, cls_token and pos_embed; zero biases; LayerNorm
        (1, 0); the patch Conv2d keeps PyTorch's default init."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Patch embedding + [CLS] + positional embedding: (tokens [B, T, D], patch embeddings, pos used)."""
        b, _, h, w = x.shape
        p = self.cfg.patch_size
        patches = self.patch_embed(x)
        pos = interpolate_pos_embed(self.pos_embed, h // p, w // p)
        tokens = torch.cat([self.cls_token.expand(b, -1, -1), patches], dim=1) + pos
        return tokens, patches, pos

    def forward(
        self, x: torch.Tensor, track: bool = False, cls_only: bool = False, keep_intermediates: bool = False
    ) -> VitOutput:
        """Images [B, 3, H, W] (NCHW, normalised) → VitOutput; see the module docstring for the modes."""
        if track and cls_only:
            raise ValueError("VisionTransformer.forward: track and cls_only exclude each other")
        tokens, patches, pos = self.embed(x)
        out = VitOutput(cls=tokens[:, 0])
        if keep_intermediates:
            out.patch_embed, out.pos_embed = patches, pos
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            if i == last and cls_only:
                tokens = block.forward_cls(tokens)
            else:
                tokens, attn, q, k = block(tokens, need_weights=track and i == last)
                if track and i == last:
                    out.attn, out.q, out.k = attn, q, k
            if keep_intermediates:
                out.block_outputs.append(tokens)
        normed = self.norm(tokens)
        out.cls = normed[:, 0]
        if not cls_only:
            out.tokens = normed
        return out


def vit_param_shapes(cfg: VitConfig) -> dict[str, tuple[int, ...]]:
    """Official names → shapes, in named_parameters() order (no module is built)."""
    d, hidden = cfg.embed_dim, int(cfg.embed_dim * cfg.mlp_ratio)
    shapes: dict[str, tuple[int, ...]] = {
        "cls_token": (1, 1, d),
        "pos_embed": (1, 1 + cfg.grid**2, d),
        "patch_embed.proj.weight": (d, 3, cfg.patch_size, cfg.patch_size),
        "patch_embed.proj.bias": (d,),
    }
    for i in range(cfg.depth):
        block = {
            "norm1.weight": (d,),
            "norm1.bias": (d,),
            "attn.qkv.weight": (3 * d, d),
            "attn.qkv.bias": (3 * d,),
            "attn.proj.weight": (d, d),
            "attn.proj.bias": (d,),
            "norm2.weight": (d,),
            "norm2.bias": (d,),
            "mlp.fc1.weight": (hidden, d),
            "mlp.fc1.bias": (hidden,),
            "mlp.fc2.weight": (d, hidden),
            "mlp.fc2.bias": (d,),
        }
        for name, shape in block.items():
            if name == "attn.qkv.bias" and not cfg.qkv_bias:
                continue
            shapes[f"blocks.{i}.{name}"] = shape
    shapes["norm.weight"] = (d,)
    shapes["norm.bias"] = (d,)
    return shapes


def num_tokens(cfg: VitConfig, side: int) -> int:
    """Tokens (1 + patches) of a square input of ``side`` pixels."""
    return 1 + (side // cfg.patch_size) ** 2


__all__ = ["VisionTransformer", "VitConfig", "VitOutput", "drop_path", "num_tokens", "vit_param_shapes"]
