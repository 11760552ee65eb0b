"""Import released DoRA/DINO weights into a run folder that both engines open (issue 11 item 10).

Accepted `.pth` contents:
- the official DoRA/DINO training checkpoint (main.py `save_dict`): `student` (DDP: `module.` prefixes), `teacher`,
  `optimizer` (torch AdamW state_dict over utils.get_params_groups), `dino_loss` (`center`), `epoch`, `args`;
- a plain state dict: a ViT backbone (DINO's and DoRA's released ViT-S/16: `cls_token`, `blocks.N.*` …), or a
  MultiCropWrapper (`backbone.*`, `head.*`), with or without `module.` prefixes, possibly under `teacher`,
  `state_dict` or `model`.
The model config is inferred from the tensor shapes (and `args` when present); a backbone without a head gets a fresh
DINO head (official initialisation, seed 0). A file whose keys do not form a ViT lists the missing, unexpected and
mis-shaped keys.
"""

from __future__ import annotations

import math
import re
from argparse import Namespace
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch

from .config_defaults import ARCH_DIMS, arch_of, official_defaults


class ImportMismatchError(ValueError):
    """The file is not (or not entirely) a DoRA/DINO ViT; the message lists the keys."""


@dataclass
class Parsed:
    kind: str  # "official checkpoint" | "state dict"
    student: dict[str, torch.Tensor]  # backbone.* / head.* (head may be absent)
    teacher: dict[str, torch.Tensor]
    optimizer: Mapping[str, Any] | None = None
    center: torch.Tensor | None = None
    epoch: int = 0
    args: dict[str, Any] = field(default_factory=dict)


_WEIGHT_NORM = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}


def _clean(sd: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Strips `module.` (DDP), maps new-style weight-norm names, and puts a bare ViT under `backbone.`."""
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            continue
        key = key[len("module.") :] if key.startswith("module.") else key
        for new, old in _WEIGHT_NORM.items():
            key = key.replace(new, old)
        out[key] = value.detach().float()
    if not any(k.startswith("backbone.") for k in out):
        out = {f"backbone.{k}": v for k, v in out.items()}
    return out


def parse_pth(obj: Any, file: str) -> Parsed:
    if not isinstance(obj, Mapping):
        raise ImportMismatchError(f"{file}: holds a {type(obj).__name__}, not a checkpoint dict or a state dict")
    if "student" in obj and "teacher" in obj:
        args = vars(obj["args"]) if isinstance(obj.get("args"), Namespace) else dict(obj.get("args") or {})
        loss = obj.get("dino_loss") or {}
        epoch = obj.get("epoch", 0)
        return Parsed(
            "official checkpoint",
            _clean(obj["student"]),
            _clean(obj["teacher"]),
            obj.get("optimizer"),
            loss.get("center") if isinstance(loss, Mapping) else None,
            int(epoch) if isinstance(epoch, int) else 0,
            args,
        )
    for wrapper in ("teacher", "state_dict", "model"):
        if wrapper in obj and isinstance(obj[wrapper], Mapping):
            return parse_pth(obj[wrapper], file)
    sd = _clean(obj)
    return Parsed("state dict", sd, dict(sd))


def _arg(args: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = args.get(name)
    return (
        value
        if isinstance(value, kind) and not isinstance(value, bool) or (kind is bool and isinstance(value, bool))
        else default
    )


def infer_model(sd: Mapping[str, torch.Tensor], args: Mapping[str, Any], file: str) -> tuple[dict[str, Any], int]:
    """The `model` config section and the image size (data.globalSize) of a backbone (+ head) state dict."""
    need = [
        "backbone.cls_token",
        "backbone.pos_embed",
        "backbone.patch_embed.proj.weight",
        "backbone.blocks.0.mlp.fc1.weight",
    ]
    missing = [k for k in need if k not in sd]
    if missing:
        raise ImportMismatchError(
            f"{file}: not a ViT state dict: missing {', '.join(k.removeprefix('backbone.') for k in missing)}; "
            f"found {_sample(sd)}"
        )
    dim = sd["backbone.cls_token"].shape[-1]
    depth = 1 + max(int(m.group(1)) for k in sd if (m := re.match(r"backbone\.blocks\.(\d+)\.", k)))
    patch = sd["backbone.patch_embed.proj.weight"].shape[-1]
    grid = math.isqrt(sd["backbone.pos_embed"].shape[1] - 1)
    arch = str(args.get("arch", "")).replace("deit", "vit").replace("_", "-")
    named = ARCH_DIMS.get(arch)
    heads = named["numHeads"] if named and named["embedDim"] == dim else (dim // 64 if dim % 64 == 0 else 0)
    if not heads:
        raise ImportMismatchError(f"{file}: cannot tell the number of attention heads of a ViT with dim {dim}; "
                                  "fix: pass --num-heads")  # fmt: skip
    model = official_defaults()["model"]
    model.update(
        embedDim=dim, depth=depth, numHeads=heads, patchSize=patch, arch=arch_of(dim, depth, heads),
        mlpRatio=sd["backbone.blocks.0.mlp.fc1.weight"].shape[0] / dim, qkvBias="backbone.blocks.0.attn.qkv.bias" in sd,
        dropPathRate=float(_arg(args, "drop_path_rate", (int, float), model["dropPathRate"])),
    )  # fmt: skip
    if model["mlpRatio"].is_integer():
        model["mlpRatio"] = int(model["mlpRatio"])
    if "head.last_layer.weight_v" in sd:
        model["head"] = _infer_head(sd, args, model["head"])
    return model, grid * patch


def _infer_head(sd: Mapping[str, torch.Tensor], args: Mapping[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    linears = sorted(int(m.group(1)) for k in sd if (m := re.match(r"head\.mlp\.(\d+)\.weight$", k)))
    last = sd["head.last_layer.weight_v"]
    if linears:
        hidden = sd[f"head.mlp.{linears[0]}.weight"].shape[0]
        nlayers = len(linears)
    else:
        hidden, nlayers = default["hiddenDim"], 1
    norm = _arg(args, "norm_last_layer", bool, default["normLastLayer"])
    return {"outDim": last.shape[0], "hiddenDim": hidden, "bottleneckDim": last.shape[1], "nlayers": nlayers,
            "normLastLayer": norm}  # fmt: skip


def check_keys(
    expected: Mapping[str, tuple[int, ...]], present: Mapping[str, torch.Tensor], file: str, role: str
) -> None:
    """Raises ImportMismatchError listing missing, unexpected and mis-shaped keys."""
    missing = [k for k in expected if k not in present]
    unexpected = [k for k in present if k not in expected]
    shapes = [
        f"{k} {tuple(present[k].shape)} (expected {tuple(expected[k])})"
        for k in expected
        if k in present and tuple(present[k].shape) != tuple(expected[k])
    ]
    if missing or unexpected or shapes:
        parts = [f"{file}: the {role} weights do not match the inferred model"]
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
            if keys:
                parts.append(f"{what} ({len(keys)}): {', '.join(keys[:12])}{' …' if len(keys) > 12 else ''}")
        raise ImportMismatchError("; ".join(parts))


def _sample(sd: Mapping[str, Any]) -> str:
    keys = [k.removeprefix("backbone.") for k in list(sd)[:6]]
    return ", ".join(keys) + (" …" if len(sd) > 6 else "") if keys else "no tensors"


def optimizer_tensors(
    optimizer: Mapping[str, Any], names: list[str], shapes: Mapping[str, tuple[int, ...]], file: str
) -> dict[str, torch.Tensor]:
    """torch AdamW state_dict → `exp_avg.<name>`, `exp_avg_sq.<name>`, `step.<name>`. The official groups
    (utils.get_params_groups): group 0 = trainable params that are not biases and have ndim > 1, group 1 = the rest,
    each in named_parameters order; the state's integer ids run over group 0 then group 1."""
    groups: list[list[str]] = [[], []]
    for name in names:
        groups[1 if name.endswith(".bias") or len(shapes[name]) == 1 else 0].append(name)
    param_groups = optimizer.get("param_groups") or []
    state = optimizer.get("state") or {}
    if len(param_groups) != 2 or [len(g.get("params", [])) for g in param_groups] != [len(g) for g in groups]:
        got = [len(g.get("params", [])) for g in param_groups]
        raise ImportMismatchError(f"{file}: optimizer has parameter groups of sizes {got}, the model needs "
                                  f"{[len(g) for g in groups]} (two official groups)")  # fmt: skip
    out: dict[str, torch.Tensor] = {}
    for group, ids in zip(groups, (g["params"] for g in param_groups)):
        for name, pid in zip(group, ids):
            entry = state.get(pid)
            if not entry:
                continue  # never stepped (e.g. the frozen last layer)
            for key in ("exp_avg", "exp_avg_sq"):
                out[f"{key}.{name}"] = entry[key].detach().float()
            out[f"step.{name}"] = torch.tensor(int(float(entry["step"])), dtype=torch.int64)
    return out
