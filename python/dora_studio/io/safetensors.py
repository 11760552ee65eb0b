"""safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length, a JSON header
(``{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}``) padded with spaces to a multiple of 8,
then the raw little-endian tensor bytes.

The ``safetensors`` library is used when it is importable (GPU machines have it); otherwise this module's own reader
and writer of the same format (Debian has no package for the library). Both read the golden cases and the TF.js
engine's checkpoints (F32 tensors, I64 step counters, string metadata). Files are untrusted input: every offset and
shape is checked against the file size before any tensor is made, and errors name the file and the cause.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Mapping

import torch

DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
DTYPE_NAMES: dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}

#: A header larger than this is refused (the library's own limit is 100 MB).
MAX_HEADER_BYTES = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    """A file that is not valid safetensors; the message names the file and the cause."""

    def __init__(self, file: str, cause: str) -> None:
        super().__init__(f"{file}: not a valid safetensors file: {cause}")
        self.file = file
        self.cause = cause


@dataclass
class SafetensorsFile:
    metadata: dict[str, str] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)


def library_available() -> bool:
    """True when the ``safetensors`` library can be imported."""
    try:
        import safetensors.torch  # noqa: F401
    except ImportError:
        return False
    return True


def _check_entry(file: str, name: str, info: object, data_len: int) -> tuple[torch.dtype, list[int], int, int]:
    if not isinstance(info, dict):
        raise SafetensorsError(file, f"header entry {name!r} is not an object")
    dtype = DTYPES.get(info.get("dtype"))  # type: ignore[arg-type]
    if dtype is None:
        raise SafetensorsError(file, f"tensor {name} has unsupported dtype {info.get('dtype')!r}")
    shape = info.get("shape")
    if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise SafetensorsError(file, f"tensor {name} has an invalid shape {shape!r}")
    offsets = info.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise SafetensorsError(file, f"tensor {name} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    count = 1
    for s in shape:
        count *= s
    itemsize = torch.empty((), dtype=dtype).element_size()
    if begin < 0 or end < begin or end - begin != count * itemsize or end > data_len:
        raise SafetensorsError(
            file,
            f"tensor {name}: data_offsets [{begin}, {end}] do not match shape {shape} {info.get('dtype')} "
            f"or run past the end (truncated file?)",
        )
    return dtype, shape, begin, end


def _parse_header(data: memoryview, file: str) -> tuple[dict[str, object], int]:
    if len(data) < 8:
        raise SafetensorsError(file, f"only {len(data)} bytes")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8:
        raise SafetensorsError(file, f"header length {header_len} exceeds file size {len(data)} (truncated file?)")
    if header_len > MAX_HEADER_BYTES:
        raise SafetensorsError(file, f"header of {header_len} bytes is larger than {MAX_HEADER_BYTES}")
    try:
        header = json.loads(bytes(data[8 : 8 + header_len]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(file, f"header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(file, "header is not a JSON object")
    return header, 8 + header_len


def parse(buffer: bytes | bytearray | memoryview, file: str = "<buffer>") -> SafetensorsFile:
    """Parses safetensors bytes with this module's own reader (tensors are copies on the CPU)."""
    data = memoryview(buffer).cast("B")
    header, start = _parse_header(data, file)
    raw_meta = header.pop("__metadata__", None) or {}
    if not isinstance(raw_meta, dict) or not all(isinstance(v, str) for v in raw_meta.values()):
        raise SafetensorsError(file, "__metadata__ must map names to strings")
    out = SafetensorsFile(metadata=dict(raw_meta))
    data_len = len(data) - start
    for name, info in header.items():
        dtype, shape, begin, end = _check_entry(file, name, info, data_len)
        if end == begin:
            out.tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        chunk = bytearray(data[start + begin : start + end])
        t = torch.frombuffer(chunk, dtype=dtype)
        if sys.byteorder != "little" and t.element_size() > 1:  # the format is little-endian
            t = torch.from_numpy(t.numpy().byteswap())
        out.tensors[name] = t.reshape(shape)
    return out


def _load_with_library(path: str) -> SafetensorsFile:
    from safetensors import safe_open

    out = SafetensorsFile()
    with safe_open(path, framework="pt", device="cpu") as f:
        out.metadata = dict(f.metadata() or {})
        for name in f.keys():
            out.tensors[name] = f.get_tensor(name)
    return out


def load(path: str | os.PathLike[str], use_library: bool | None = None) -> SafetensorsFile:
    """Reads a safetensors file: with the library when available (unless ``use_library`` is False)."""
    file = os.fspath(path)
    if use_library is None:
        use_library = library_available()
    if use_library:
        try:
            return _load_with_library(file)
        except FileNotFoundError:
            raise
        except Exception as e:  # the library's SafetensorError and friends
            raise SafetensorsError(file, str(e)) from None
    with open(file, "rb") as f:
        return parse(f.read(), file)


def _tensor_bytes(name: str, t: torch.Tensor) -> tuple[str, bytes]:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"safetensors: {name} is not a tensor")
    dtype_name = DTYPE_NAMES.get(t.dtype)
    if dtype_name is None:
        raise TypeError(f"safetensors: {name} has unsupported dtype {t.dtype}")
    t = t.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    arr = t.numpy()
    if sys.byteorder != "little" and arr.itemsize > 1:
        arr = arr.byteswap()
    return dtype_name, arr.tobytes()


def serialize(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> bytes:
    """safetensors bytes, tensors packed in the given order (as the TF.js writer does)."""
    header: dict[str, object] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors: metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    chunks: list[bytes] = []
    offset = 0
    for name, t in tensors.items():
        dtype_name, raw = _tensor_bytes(name, t)
        header[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return b"".join([len(text).to_bytes(8, "little"), text, *chunks])


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Writes a file atomically: a temp file in the same folder, fsync, rename; a failed write leaves no trace."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(
    path: str | os.PathLike[str], tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> None:
    """Serialises and writes atomically (the same bytes with or without the library)."""
    write_atomic(path, serialize(tensors, metadata))
