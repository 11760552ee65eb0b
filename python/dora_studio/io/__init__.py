"""File formats: safetensors (golden cases, checkpoints in either engine's layout)."""
