"""Data for the PyTorch engine: the frame cache, clip order, official augmentation and the DataLoader."""
