"""The DoRA method, one named function per step of the paper (same names as the TF.js engine, in snake_case)."""

from .loss import dora_loss, teacher_targets, updated_center
from .memory import DoraOutOfMemoryError, choose_micro_batch
from .runtime import Precision, RuntimeSetupError, resolve_device, resolve_precision
from .sinkhorn import OFFICIAL_SINKHORN, SinkhornOptions, sinkhorn_knopp
from .state import CENTER_TENSOR, DoraState, create_dora_state
from .tracker import (
    binarise_maps,
    mask_images,
    masked_views,
    object_prototypes,
    refine_prototypes,
    run_tracker,
    track_across_frames,
)
from .train_step import (
    DoraBatch,
    DoraStepHyper,
    NonFiniteLossError,
    StepDiagnostics,
    StepOptions,
    StepOutcome,
    dora_train_step,
)

__all__ = [
    "CENTER_TENSOR",
    "DoraBatch",
    "DoraOutOfMemoryError",
    "DoraState",
    "DoraStepHyper",
    "NonFiniteLossError",
    "OFFICIAL_SINKHORN",
    "Precision",
    "RuntimeSetupError",
    "StepDiagnostics",
    "StepOptions",
    "StepOutcome",
    "choose_micro_batch",
    "create_dora_state",
    "dora_train_step",
    "resolve_device",
    "resolve_precision",
    "SinkhornOptions",
    "binarise_maps",
    "dora_loss",
    "mask_images",
    "masked_views",
    "object_prototypes",
    "refine_prototypes",
    "run_tracker",
    "sinkhorn_knopp",
    "teacher_targets",
    "track_across_frames",
    "updated_center",
]
