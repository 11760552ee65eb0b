"""The run's resolved config (`<run>/config.json`, written by the Node front door with the TS resolver). The engine
never re-resolves a config; it checks every field it uses and names the field, the value and a fix when one is wrong
(a run folder may come from anywhere)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

FIX = "re-create the run from its *.dora.json with `node dist/cli.js train … --engine pytorch` (it writes config.json)"


class RunConfigError(ValueError):
    """A config.json value the engine cannot use."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


Rule = tuple[str, Callable[[Any], bool]]
INT0: Rule = ("an integer >= 0", lambda v: _is_int(v) and v >= 0)
INT1: Rule = ("an integer >= 1", lambda v: _is_int(v) and v >= 1)
NUM: Rule = ("a number", _is_num)
NUM0: Rule = ("a number >= 0", lambda v: _is_num(v) and v >= 0)
POS: Rule = ("a number > 0", lambda v: _is_num(v) and v > 0)
BOOL: Rule = ("true or false", lambda v: isinstance(v, bool))
STR: Rule = ("a non-empty string", lambda v: isinstance(v, str) and v.strip() != "")
RANGE: Rule = (
    "[min, max] numbers with min <= max",
    lambda v: isinstance(v, list) and len(v) == 2 and all(map(_is_num, v)) and v[0] <= v[1],
)


def one_of(*values: str) -> Rule:
    return ("one of " + ", ".join(json.dumps(v) for v in values), lambda v: v in values)


def optional(rule: Rule) -> Rule:
    return (rule[0] + " (or absent)", lambda v: v is None or rule[1](v))


AUTO_OR_INT1: Rule = ('"auto" or an integer >= 1', lambda v: v == "auto" or (_is_int(v) and v >= 1))

SPEC: dict[str, Rule] = {
    "name": STR,
    "data.video": STR,
    "data.framesPerClip": INT1,
    "data.stride": INT1,
    "data.startFrame": INT0,
    "data.maxFrames": optional(INT1),
    "data.trimBlankTail": BOOL,
    "data.frameCache.shortSide": INT1,
    "data.frameCache.dir": optional(STR),
    "data.precropSize": INT1,
    "data.globalSize": INT1,
    "data.localSize": INT1,
    "data.localCrops": INT0,
    "data.precropScale": RANGE,
    "data.globalScale": RANGE,
    "data.localScale": RANGE,
    "data.augment.hflipProb": NUM0,
    "data.augment.colorJitterProb": NUM0,
    "data.augment.brightness": NUM0,
    "data.augment.contrast": NUM0,
    "data.augment.saturation": NUM0,
    "data.augment.hue": NUM0,
    "data.augment.grayscaleProb": NUM0,
    "data.augment.globalBlurProb": NUM0,
    "data.augment.localBlurProb": NUM0,
    "data.augment.blurSigma": RANGE,
    "model.patchSize": INT1,
    "model.numHeads": INT1,
    "training.epochs": INT1,
    "training.batchClips": INT1,
    "training.microBatch": AUTO_OR_INT1,
    "training.lr": NUM0,
    "training.lrScaling": one_of("linear", "none"),
    "training.minLr": NUM0,
    "training.warmupEpochs": NUM0,
    "training.weightDecay": NUM,
    "training.weightDecayEnd": NUM,
    "training.momentumTeacher": NUM0,
    "training.warmupTeacherTemp": POS,
    "training.teacherTemp": POS,
    "training.warmupTeacherTempEpochs": INT0,
    "training.studentTemp": POS,
    "training.centerMomentum": NUM0,
    "training.clipGrad": NUM0,
    "training.freezeLastLayer": INT0,
    "training.seed": ("an integer", _is_int),
    "dora.tracker": BOOL,
    "dora.objects": INT1,
    "dora.sinkhorn.iterations": INT1,
    "dora.sinkhorn.epsilon": POS,
    "dora.sinkhorn.variant": one_of("official", "log-domain"),
    "dora.loss": one_of("official", "clean"),
    "runtime.logEvery": INT1,
    "runtime.snapshotEvery": INT1,
    "runtime.checkpointEvery": INT1,
    "runtime.keepCheckpoints": INT0,
    "runtime.device": optional(one_of("auto", "cuda", "cpu", "mps")),
    "runtime.precision": optional(one_of("auto", "fp32", "tf32", "bf16", "fp16")),
}


def get(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for key in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def validate_run_config(config: Any, file: str = "config.json") -> dict[str, Any]:
    """Checks every field the engine uses; raises RunConfigError listing each bad field."""
    if not isinstance(config, dict):
        raise RunConfigError(f"{file}: not a JSON object; fix: {FIX}")
    problems = []
    for dotted, (want, ok) in SPEC.items():
        value = get(config, dotted)
        if not ok(value):
            problems.append(f"{file}: $.{dotted}: expected {want}, got {json.dumps(value)}")
    if not problems and get(config, "dora.tracker") and get(config, "dora.objects") > get(config, "model.numHeads"):
        problems.append(
            f"{file}: $.dora.objects: {config['dora']['objects']} objects need as many teacher heads "
            f"(model.numHeads is {config['model']['numHeads']})"
        )
    if problems:
        raise RunConfigError("\n".join(problems) + f"\nfix: {FIX}")
    return config


def load_run_config(run_dir: str | Path) -> dict[str, Any]:
    file = Path(run_dir) / "config.json"
    try:
        raw = json.loads(file.read_text("utf-8"))
    except FileNotFoundError as e:
        raise RunConfigError(
            f"{file}: missing; fix: start PyTorch runs through `node dist/cli.js train <config> --engine pytorch`, "
            "which creates the run folder and writes its resolved config.json"
        ) from e
    except (OSError, ValueError) as e:
        raise RunConfigError(f"{file}: unreadable ({e}); fix: {FIX}") from e
    return validate_run_config(raw, str(file))


def peak_lr(config: dict[str, Any], world_size: int = 1) -> float:
    """`peakLr` of config.ts, with the official linear scaling by the GLOBAL batch (clips per process x processes)."""
    t = config["training"]
    return t["lr"] * t["batchClips"] * world_size / 256 if t["lrScaling"] == "linear" else t["lr"]
