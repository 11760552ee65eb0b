"""DoRA Studio's PyTorch engine: the official DoRA step (ICLR 2024), batched, golden-exact in float32.

Run from the checkout as ``PYTHONPATH=<repo>/python python -m dora_studio <command>``.
"""

__version__ = "0.1.0"
