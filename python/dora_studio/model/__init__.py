"""The DoRA networks with the official PyTorch parameter names: ViT backbone, DINO head, student/teacher pair."""

from .dora_model import DoraModelConfig, DoraNetwork, build_dora_networks, dora_param_names, trainable_param_names
from .head import DinoHead, HeadConfig
from .vit import VisionTransformer, VitConfig, VitOutput

__all__ = [
    "DinoHead",
    "DoraModelConfig",
    "DoraNetwork",
    "HeadConfig",
    "VisionTransformer",
    "VitConfig",
    "VitOutput",
    "build_dora_networks",
    "dora_param_names",
    "trainable_param_names",
]
