"""The official defaults of a DoRA run config, mirrored from `OFFICIAL_DEFAULTS` and `ARCH_DIMS` of
src/core/configDefaults.ts (a test compares the two), for `import_pth`, which must write a complete resolved
config.json without the Node resolver (the Python package also runs where there is no Node)."""

from __future__ import annotations

import copy
from typing import Any

ARCH_DIMS: dict[str, dict[str, int]] = {
    "vit-tiny": {"embedDim": 192, "depth": 12, "numHeads": 3},
    "vit-small": {"embedDim": 384, "depth": 12, "numHeads": 6},
    "vit-base": {"embedDim": 768, "depth": 12, "numHeads": 12},
}

OFFICIAL_DEFAULTS: dict[str, Any] = {
    "model": {
        "arch": "vit-small",
        **ARCH_DIMS["vit-small"],
        "patchSize": 16,
        "mlpRatio": 4,
        "qkvBias": True,
        "dropPathRate": 0.1,
        "head": {"outDim": 65536, "hiddenDim": 2048, "bottleneckDim": 256, "nlayers": 3, "normLastLayer": False},
    },
    "data": {
        "frameCache": {"shortSide": 300, "format": "auto", "quality": 3},
        "framesPerClip": 8,
        "stride": 60,
        "precropSize": 300,
        "precropScale": [0.2, 1],
        "globalSize": 224,
        "globalScale": [0.4, 1],
        "localSize": 112,
        "localCrops": 6,
        "localScale": [0.05, 0.4],
        "augment": {
            "hflipProb": 0.5,
            "colorJitterProb": 0.8,
            "brightness": 0.4,
            "contrast": 0.4,
            "saturation": 0.2,
            "hue": 0.1,
            "grayscaleProb": 0.2,
            "globalBlurProb": 0.1,
            "localBlurProb": 0.5,
            "blurSigma": [0.1, 2.0],
        },
        "trimBlankTail": True,
        "startFrame": 0,
    },
    "training": {
        "epochs": 100,
        "batchClips": 16,
        "microBatch": "auto",
        "lr": 0.0005,
        "lrScaling": "linear",
        "minLr": 1e-5,
        "warmupEpochs": 10,
        "weightDecay": 0.04,
        "weightDecayEnd": 0.4,
        "momentumTeacher": 0.996,
        "warmupTeacherTemp": 0.04,
        "teacherTemp": 0.04,
        "warmupTeacherTempEpochs": 30,
        "studentTemp": 0.1,
        "centerMomentum": 0.9,
        "clipGrad": 3,
        "freezeLastLayer": 1,
        "seed": 0,
    },
    "dora": {
        "tracker": True,
        "objects": 3,
        "sinkhorn": {"iterations": 30, "epsilon": 0.05, "variant": "official"},
        "loss": "official",
    },
    "runtime": {
        "engine": "tfjs",
        "launcher": "local",
        "distributed": {"nproc": 1, "nodes": 1},
        "slurm": {
            "partition": None,
            "time": None,
            "account": None,
            "gpusPerNode": None,
            "extraSbatch": [],
            "setup": None,
        },
        "backend": "wasm",
        "device": "auto",
        "precision": "auto",
        "logEvery": 10,
        "snapshotEvery": 500,
        "checkpointEvery": 2000,
        "keepCheckpoints": 3,
        "runsDir": "runs",
    },
}


def arch_of(embed_dim: int, depth: int, num_heads: int) -> str:
    """configDefaults.ts `archOf`: the named architecture with these dimensions, else "custom"."""
    for name, dims in ARCH_DIMS.items():
        if dims == {"embedDim": embed_dim, "depth": depth, "numHeads": num_heads}:
            return name
    return "custom"


def official_defaults() -> dict[str, Any]:
    return copy.deepcopy(OFFICIAL_DEFAULTS)
