"""One module per ``python -m dora_studio <command>``; each defines ``main(argv: list[str]) -> int``."""
