"""safetensors: the own reader/writer against the format's definition, the golden files and the library."""

from __future__ import annotations

import json
import os
import struct

import pytest
import torch

from dora_studio.io import safetensors as st

GOLDEN = os.environ.get("DORA_GOLDEN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "golden"
)


def _handmade(header: dict, payload: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + payload


def test_reads_a_handmade_file() -> None:
    payload = struct.pack("<3f", 1.5, -2.0, 3.25) + struct.pack("<2q", 7, -(2**40))
    header = {
        "__metadata__": {"kind": "x"},
        "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
        "b": {"dtype": "I64", "shape": [1, 2], "data_offsets": [12, 28]},
    }
    f = st.parse(_handmade(header, payload))
    assert f.metadata == {"kind": "x"}
    assert f.tensors["a"].tolist() == [1.5, -2.0, 3.25]
    assert f.tensors["b"].dtype == torch.int64 and f.tensors["b"].tolist() == [[7, -(2**40)]]


def test_round_trip_every_dtype_and_order() -> None:
    tensors = {
        "z": torch.randn(2, 3, dtype=torch.float64),
        "f": torch.randn(4, 1),
        "h": torch.randn(5).half(),
        "bf": torch.randn(3).bfloat16(),
        "i": torch.tensor([1, -2], dtype=torch.int64),
        "u": torch.tensor([0, 255], dtype=torch.uint8),
        "b": torch.tensor([True, False]),
        "s": torch.tensor(3.0),
        "e": torch.empty(0, 4),
    }
    raw = st.serialize(tensors, {"format": "test"})
    assert int.from_bytes(raw[:8], "little") % 8 == 0
    back = st.parse(raw)
    assert list(back.tensors) == list(tensors)
    for name, t in tensors.items():
        assert back.tensors[name].dtype == t.dtype and back.tensors[name].shape == t.shape
        assert torch.equal(back.tensors[name], t), name
    assert back.metadata == {"format": "test"}


@pytest.mark.parametrize(
    "raw,cause",
    [
        (b"\x01\x02\x03", "only 3 bytes"),
        (struct.pack("<Q", 999) + b"{}      ", "exceeds file size"),
        (struct.pack("<Q", 8) + b"not json", "header is not JSON"),
        (_handmade({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, b"\0" * 12), "do not match shape"),
        (_handmade({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, b"\0" * 8), "run past the end"),
        (_handmade({"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4), "unsupported dtype"),
        (_handmade({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "invalid shape"),
        (_handmade({"__metadata__": {"k": 1}}, b""), "__metadata__ must map names to strings"),
    ],
)
def test_bad_files_get_a_message_naming_file_and_cause(raw: bytes, cause: str) -> None:
    with pytest.raises(st.SafetensorsError) as err:
        st.parse(raw, "bad.safetensors")
    assert str(err.value).startswith("bad.safetensors: not a valid safetensors file:")
    assert cause in str(err.value)


def test_reads_every_golden_case_and_matches_the_library_when_present() -> None:
    files = sorted(f for f in os.listdir(GOLDEN) if f.endswith(".safetensors"))
    assert len(files) >= 12
    for name in files:
        own = st.load(os.path.join(GOLDEN, name), use_library=False)
        assert own.metadata["kind"] and json.loads(own.metadata["config"]) is not None
        assert any(k.startswith("expected.") for k in own.tensors)
        if st.library_available():
            lib = st.load(os.path.join(GOLDEN, name), use_library=True)
            assert lib.metadata == own.metadata and set(lib.tensors) == set(own.tensors)
            assert all(torch.equal(lib.tensors[k], own.tensors[k]) for k in own.tensors)


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path) -> None:
    target = tmp_path / "w.safetensors"
    st.save(target, {"x": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, {"a": "b"})
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]
    assert st.load(target, use_library=False).tensors["x"].tolist() == [[0, 1, 2], [3, 4, 5]]

    with pytest.raises(TypeError):
        st.save(target, {"x": "not a tensor"})  # type: ignore[dict-item]
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]
