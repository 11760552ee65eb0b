"""Slurm host lists (`SLURM_NODELIST`, `SLURM_STEP_NODELIST`): `gpu[01-03,07],login1` → gpu01 gpu02 gpu03 gpu07
login1. Written here rather than calling `scontrol show hostnames`, which is not on every compute node's PATH inside a
container and costs a process per rank. Brackets may appear more than once in a name (`r[1-2]n[1-2]`: the product)."""

from __future__ import annotations

import re

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def _split_top_level(text: str) -> list[str]:
    """Splits on commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"host list {text!r}: unbalanced ']'")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise ValueError(f"host list {text!r}: unbalanced '['")
    parts.append(text[start:])
    return [p for p in (s.strip() for s in parts) if p]


def _expand_ranges(body: str, whole: str) -> list[str]:
    out: list[str] = []
    for item in body.split(","):
        m = _RANGE.match(item.strip())
        if not m:
            raise ValueError(f"host list {whole!r}: bad range {item!r}")
        lo, hi = m.group(1), m.group(2) if m.group(2) is not None else m.group(1)
        if int(hi) < int(lo):
            raise ValueError(f"host list {whole!r}: range {item!r} runs backwards")
        width = len(lo) if lo.startswith("0") else 0  # zero-padded ranges keep their width
        out.extend(str(n).zfill(width) for n in range(int(lo), int(hi) + 1))
    return out


def _expand_one(name: str, whole: str) -> list[str]:
    open_at = name.find("[")
    if open_at < 0:
        return [name]
    close_at = name.index("]", open_at)
    head, body, tail = name[:open_at], name[open_at + 1 : close_at], name[close_at + 1 :]
    return [head + mid + rest for mid in _expand_ranges(body, whole) for rest in _expand_one(tail, whole)]


def expand_hostlist(text: str) -> list[str]:
    """Every host of a Slurm host list, in order."""
    hosts: list[str] = []
    for part in _split_top_level(text.strip()):
        hosts.extend(_expand_one(part, text))
    return hosts


def tasks_on_node(tasks_per_node: str, node_index: int) -> int:
    """How many tasks run on node `node_index` from `SLURM_STEP_TASKS_PER_NODE` (`2(x3),1` = 2, 2, 2, 1)."""
    counts: list[int] = []
    for item in tasks_per_node.split(","):
        m = re.match(r"^\s*(\d+)(?:\(x(\d+)\))?\s*$", item)
        if not m:
            raise ValueError(f"tasks per node {tasks_per_node!r}: cannot read {item!r}")
        counts.extend([int(m.group(1))] * int(m.group(2) or 1))
    if not 0 <= node_index < len(counts):
        raise ValueError(f"tasks per node {tasks_per_node!r} has no node {node_index}")
    return counts[node_index]
