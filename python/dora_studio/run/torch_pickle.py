"""`torch.load` of an untrusted `.pth` without running code from it: a pickle module whose Unpickler only resolves
the globals a checkpoint of tensors needs (tensor rebuilders, OrderedDict, argparse.Namespace, numpy scalars).
Anything else — a pickled nn.Module, a function, `os.system` — is refused with a message naming it.

Hand-written because `torch.load(weights_only=True)` does not accept argparse.Namespace (the official checkpoint's
`args`) on torch 1.13, and `torch.serialization.add_safe_globals` only exists from torch 2.4. torch 1.13's `torch.load`
also ignores `pickle_module` unless `weights_only=True` (it resets it to `pickle`), so there the same restricted
module goes through torch.serialization's loaders directly (tested: a payload calling os.system is refused)."""

from __future__ import annotations

import os
import pickle
import types
import zipfile
from typing import Any

import torch

ALLOWED: dict[str, set[str]] = {
    "torch._utils": {
        "_rebuild_tensor",
        "_rebuild_tensor_v2",
        "_rebuild_tensor_v3",
        "_rebuild_parameter",
        "_rebuild_parameter_with_state",
    },
    "torch": {"Size", "device", "float32", "float16", "bfloat16", "float64", "int64", "int32", "uint8", "bool"},
    "torch.nn.parameter": {"Parameter"},
    "collections": {"OrderedDict"},
    "argparse": {"Namespace"},
    "builtins": {"set", "frozenset", "slice", "complex"},
    "numpy": {"dtype", "ndarray"},
    "numpy.core.multiarray": {"scalar", "_reconstruct"},
    "numpy._core.multiarray": {"scalar", "_reconstruct"},
}


class UnsafePickleError(pickle.UnpicklingError):
    """The file asks for a Python global that a tensor checkpoint does not need."""


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name in ALLOWED.get(module, ()) or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refuses to unpickle {module}.{name}: this file stores Python objects or code, not only tensors"
        )


def _load(file: Any, **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


restricted_pickle = types.ModuleType("dora_studio_restricted_pickle")
restricted_pickle.Unpickler = RestrictedUnpickler  # type: ignore[attr-defined]
restricted_pickle.load = _load  # type: ignore[attr-defined]
restricted_pickle.__dict__["UnpicklingError"] = pickle.UnpicklingError


TORCH_2 = int(torch.__version__.split(".")[0]) >= 2


def _refuse_torchscript(path: str) -> None:
    """torch.load hands TorchScript archives to torch.jit.load; a checkpoint is never one."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
        raise UnsafePickleError(f"{path} is a TorchScript archive (a program), not a checkpoint of tensors")


def load_pth(path: str | os.PathLike) -> Any:
    """The object stored in a `.pth` file (tensors on the CPU), refusing anything but data."""
    file = os.fspath(path)
    _refuse_torchscript(file)
    if TORCH_2:
        return torch.load(file, map_location="cpu", pickle_module=restricted_pickle, weights_only=False)
    ser: Any = torch.serialization
    with open(file, "rb") as f:
        if ser._is_zipfile(f):
            with ser._open_zipfile_reader(f) as archive:
                return ser._load(archive, "cpu", restricted_pickle, encoding="utf-8")
        return ser._legacy_load(f, "cpu", restricted_pickle, encoding="utf-8")
