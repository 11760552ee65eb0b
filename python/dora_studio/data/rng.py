"""Bit-exact port of `src/core/rng.ts` (sfc32 seeded through splitmix32, string seeds hashed with FNV-1a + a murmur3
finaliser), so that the PyTorch engine draws the same clip order, crops and heads as the TF.js engine for the same
(seed, epoch, iteration). Every operation mirrors the JavaScript uint32/int32 arithmetic; the floats are IEEE doubles in
both languages, so `next()` and `uniform()` agree to the bit. `normal()` uses `math.log`/`math.cos`, which may differ
from V8's in the last unit of precision; nothing in the data pipeline uses it.

Hand-written on purpose: exactness across the two engines is the point, and no library implements sfc32 like rng.ts.
"""

from __future__ import annotations

import math
from typing import Any, MutableSequence, Sequence, TypeVar

_MASK = 0xFFFFFFFF
TWO_POW_32 = 4294967296

T = TypeVar("T")


def _imul(a: int, b: int) -> int:
    """Math.imul as an unsigned 32-bit result."""
    return (a * b) & _MASK


def _to_uint32(x: float | int) -> int:
    """ECMAScript ToUint32 (`x >>> 0`) of a finite number."""
    return int(math.trunc(x)) & _MASK


def _splitmix32(seed: int):
    z = seed & _MASK

    def mix() -> int:
        nonlocal z
        z = (z + 0x9E3779B9) & _MASK
        t = z
        t = _imul(t ^ (t >> 16), 0x21F0AAAD)
        t = _imul(t ^ (t >> 15), 0x735A2D97)
        return (t ^ (t >> 15)) & _MASK

    return mix


def hash_string32(text: str) -> int:
    """FNV-1a over UTF-16 code units (JavaScript's charCodeAt), then the murmur3 finaliser."""
    units = text.encode("utf-16-le")
    h = 0x811C9DC5
    for i in range(0, len(units), 2):
        h = _imul(h ^ (units[i] | (units[i + 1] << 8)), 0x01000193)
    h = _imul(h ^ (h >> 16), 0x85EBCA6B)
    h = _imul(h ^ (h >> 13), 0xC2B2AE35)
    return (h ^ (h >> 16)) & _MASK


def js_number(value: int | float) -> str:
    """How a JavaScript template literal prints an integer-valued number (seeds, epochs, iterations)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _seed_to_uint32(seed: int | float | str) -> int:
    if isinstance(seed, str):
        return hash_string32(seed)
    if not math.isfinite(seed):
        raise ValueError(f"Rng seed must be a finite number or a string, got {seed}")
    high = math.floor(seed / TWO_POW_32)
    return (_to_uint32(seed) ^ _imul(_to_uint32(high), 0x9E3779B1)) & _MASK


class Rng:
    """sfc32 with the exact stream of `new Rng(seed)` in rng.ts."""

    __slots__ = ("a", "b", "c", "d")

    def __init__(self, seed: int | float | str = 0) -> None:
        mix = _splitmix32(_seed_to_uint32(seed))
        self.a = mix()
        self.b = mix()
        self.c = mix()
        self.d = mix()
        for _ in range(12):
            self.next_uint32()

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Rng":
        rng = cls(0)
        rng.set_state(state)
        return rng

    def next_uint32(self) -> int:
        a, b, c, d = self.a, self.b, self.c, self.d
        t = (a + b + d) & _MASK
        self.d = (d + 1) & _MASK
        self.a = b ^ (b >> 9)
        self.b = (c + (c << 3)) & _MASK
        c = ((c << 21) | (c >> 11)) & _MASK
        self.c = (c + t) & _MASK
        return t

    def next(self) -> float:
        """Uniform float in [0, 1) with 32 bits of resolution."""
        return self.next_uint32() / TWO_POW_32

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.next()

    def int(self, low: int, high_exclusive: int) -> int:
        """Uniform integer in [low, high_exclusive) by rejection sampling (no modulo bias)."""
        span = high_exclusive - low
        if span <= 0:
            raise ValueError(f"Rng.int needs low < highExclusive, got [{low}, {high_exclusive})")
        if span > TWO_POW_32:
            raise ValueError(f"Rng.int range {span} exceeds 2^32")
        limit = TWO_POW_32 - (TWO_POW_32 % span)
        draw = self.next_uint32()
        while draw >= limit:
            draw = self.next_uint32()
        return low + (draw % span)

    def normal(self, mean: float = 0.0, std: float = 1.0) -> float:
        u1 = 1 - self.next()
        u2 = self.next()
        return mean + std * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def shuffle(self, array: MutableSequence[T]) -> MutableSequence[T]:
        """In-place Fisher-Yates, the same swaps as rng.ts."""
        for i in range(len(array) - 1, 0, -1):
            j = self.int(0, i + 1)
            array[i], array[j] = array[j], array[i]
        return array

    def permutation(self, n: int) -> list[int]:
        return list(self.shuffle(list(range(n))))

    def sample(self, k: int, n: int) -> list[int]:
        """k distinct integers of 0..n-1 in random order (partial Fisher-Yates), like rng.ts `sample`."""
        if k < 0 or k > n:
            raise ValueError(f"Rng.sample needs 0 <= k <= n (integers), got k={k}, n={n}")
        pool = list(range(n))
        for i in range(k):
            j = self.int(i, n)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def fork(self, label: str) -> "Rng":
        label_hash = hash_string32(label)
        mix = _splitmix32(label_hash ^ self.a)
        child = Rng(0)
        child.a = self.a ^ mix()
        child.b = self.b ^ mix()
        child.c = self.c ^ mix()
        child.d = self.d ^ mix() ^ label_hash
        for _ in range(12):
            child.next_uint32()
        return child

    def get_state(self) -> dict[str, Any]:
        return {"algorithm": "sfc32", "words": [self.a, self.b, self.c, self.d]}

    def set_state(self, state: dict[str, Any]) -> None:
        words: Sequence[Any] = state.get("words") if isinstance(state, dict) else None  # type: ignore[assignment]
        ok = (
            isinstance(state, dict)
            and state.get("algorithm") == "sfc32"
            and isinstance(words, list)
            and len(words) == 4
            and all(isinstance(w, int) and not isinstance(w, bool) and 0 <= w < TWO_POW_32 for w in words)
        )
        if not ok:
            raise ValueError(f"Invalid Rng state: expected {{algorithm: 'sfc32', words: [4 x uint32]}}, got {state!r}")
        self.a, self.b, self.c, self.d = (int(w) for w in words)


def step_rng(seed: int, purpose: str, iteration: int) -> Rng:
    """The per-iteration streams of `src/trainer/run/batch.ts` (`stepRng`): independent of how many steps ran before."""
    return Rng(f"{purpose}/seed={js_number(seed)}/iteration={js_number(iteration)}")
