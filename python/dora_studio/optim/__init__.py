"""The official optimisation pieces: AdamW over DINO's two groups, per-tensor clipping, last-layer freeze, EMA teacher,
schedules."""

from .adamw import adamw_state_tensors, adamw_step, build_adamw, load_adamw_state_tensors, param_group_of
from .clip import cancel_last_layer_gradients, clip_gradients_per_tensor
from .ema import ema_update_teacher
from .schedules import cosine_scheduler, teacher_temp_schedule

__all__ = [
    "adamw_state_tensors",
    "adamw_step",
    "build_adamw",
    "cancel_last_layer_gradients",
    "clip_gradients_per_tensor",
    "cosine_scheduler",
    "ema_update_teacher",
    "load_adamw_state_tensors",
    "param_group_of",
    "teacher_temp_schedule",
]
