"""The run folder of the PyTorch engine: records, lock, checkpoints, snapshots and the training loop."""
