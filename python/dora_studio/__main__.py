"""``python -m dora_studio <command> [args]``: runs ``dora_studio.commands.<command>:main(argv)``.

Each command lives in its own module (``-`` in the name becomes ``_``), so a new command is a new file and
nothing else changes. ``main(argv)`` returns the process exit code.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys

from . import commands

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def available_commands() -> list[str]:
    """The command modules shipped in ``dora_studio.commands``, with ``_`` shown as ``-``."""
    return sorted(
        m.name.replace("_", "-") for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )


def _usage() -> str:
    return "usage: python -m dora_studio <command> [options]\ncommands: " + ", ".join(available_commands())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    name = args[0]
    module_name = name.replace("-", "_")
    if not _NAME.match(name) or module_name not in {c.replace("-", "_") for c in available_commands()}:
        print(f"dora_studio: unknown command {name!r}\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"{commands.__name__}.{module_name}")
    entry = getattr(module, "main", None)
    if entry is None:
        print(f"dora_studio: command module {module.__name__} has no main(argv)", file=sys.stderr)
        return 2
    code = entry(args[1:])
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
