"""The official DoRA augmentation of one clip (main.py `DataAugmentationDINO`, L481-568), with the real
torch/torchvision/Pillow operations and the random parameters drawn from the ported Rng in the TF.js engine's order
(`src/trainer/data/augment.ts`), so both engines draw identical crops, flips and colour parameters for a step:

1. init_aug: ToTensorVideo + ONE RandomResizedCropVideo(precrop, (0.2, 1)) shared by all frames: a crop and
   `torch.nn.functional.interpolate(bilinear, align_corners=False)` (torchvision `_functional_video.resized_crop`);
2. vid_crop: ONE RandomResizedCropVideo(global, (0.4, 1)) + ONE RandomHorizontalFlipVideo(0.5) for the clip;
3. global_transfo1 PER FRAME: ToPILImage, ColorJitter(0.4, 0.4, 0.2, 0.1) p=0.8, RandomGrayscale 0.2,
   GaussianBlur p=0.1 (Pillow ImageFilter.GaussianBlur), ToTensor + Normalize;
4. local crops, per crop and per frame, from the pre-crop: ToPILImage, RandomResizedCrop(local, (0.05, 0.4),
   BICUBIC), ColorJitter p=0.8, RandomGrayscale 0.2, GaussianBlur p=0.5, Normalize (no flip, as the official code).

Parameters are drawn first (`sample_clip_params`) and rendered after (`render_clip`), so the draws of a whole global
batch can be made cheaply on every rank while each rank renders only its own clips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as TF
import torchvision.transforms.functional as VF
from PIL import Image, ImageFilter

from .rng import Rng

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class AugmentConfig:
    precrop: int = 300
    global_size: int = 224
    local_size: int = 112
    n_local: int = 6
    precrop_scale: tuple[float, float] = (0.2, 1.0)
    global_scale: tuple[float, float] = (0.4, 1.0)
    local_scale: tuple[float, float] = (0.05, 0.4)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.1
    grayscale_p: float = 0.2
    global_blur_p: float = 0.1
    local_blur_p: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @classmethod
    def from_data_config(cls, data: dict[str, Any]) -> "AugmentConfig":
        """The settings of a resolved config's `data` section (batch.ts `augmentConfigFor`)."""
        a = data["augment"]
        return cls(
            precrop=data["precropSize"],
            global_size=data["globalSize"],
            local_size=data["localSize"],
            n_local=data["localCrops"],
            precrop_scale=tuple(data["precropScale"]),
            global_scale=tuple(data["globalScale"]),
            local_scale=tuple(data["localScale"]),
            flip_p=a["hflipProb"],
            jitter_p=a["colorJitterProb"],
            brightness=a["brightness"],
            contrast=a["contrast"],
            saturation=a["saturation"],
            hue=a["hue"],
            grayscale_p=a["grayscaleProb"],
            global_blur_p=a["globalBlurProb"],
            local_blur_p=a["localBlurProb"],
            blur_sigma=tuple(a["blurSigma"]),
        )


@dataclass(frozen=True)
class CropBox:
    top: int
    left: int
    height: int
    width: int


@dataclass(frozen=True)
class ColourParams:
    """ColorJitter factors in application order (None: RandomApply skipped), grayscale, blur radius (or None)."""

    jitter: tuple[tuple[int, ...], float, float, float, float] | None
    grayscale: bool
    blur_sigma: float | None


@dataclass(frozen=True)
class ClipParams:
    frame_width: int
    frame_height: int
    frames: int
    precrop_box: CropBox
    global_box: CropBox
    flip: bool
    global_colour: tuple[ColourParams, ...]
    local_boxes: tuple[tuple[CropBox, ...], ...] = field(default=())
    local_colour: tuple[tuple[ColourParams, ...], ...] = field(default=())


def round_half_even(x: float) -> int:
    """Python's round() (torchvision get_params uses it); matches imageOps.ts `roundHalfEven`."""
    return int(round(x))


def centre_crop_box_for_ratio(height: int, width: int, ratio: Sequence[float]) -> CropBox:
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, round_half_even(width / min(ratio))
    elif in_ratio > max(ratio):
        h, w = height, round_half_even(height * max(ratio))
    else:
        w, h = width, height
    return CropBox((height - h) // 2, (width - w) // 2, h, w)


def sample_resized_crop_box(
    rng: Rng, height: int, width: int, scale: Sequence[float], ratio: Sequence[float]
) -> CropBox:
    """torchvision RandomResizedCrop.get_params with the ported Rng (imageOps.ts `sampleResizedCropBox`)."""
    area = height * width
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_low, log_high))
        w = round_half_even(math.sqrt(target_area * aspect))
        h = round_half_even(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = rng.int(0, height - h + 1)
            left = rng.int(0, width - w + 1)
            return CropBox(top, left, h, w)
    return centre_crop_box_for_ratio(height, width, ratio)


def sample_colour_params(rng: Rng, cfg: AugmentConfig, blur_p: float) -> ColourParams:
    """RandomApply(ColorJitter) (kept when rand <= p), RandomGrayscale (rand < p), DINO GaussianBlur (rand <= p)."""
    jitter = None
    if rng.next() <= cfg.jitter_p:
        order = tuple(rng.shuffle([0, 1, 2, 3]))
        b = rng.uniform(max(0.0, 1 - cfg.brightness), 1 + cfg.brightness)
        c = rng.uniform(max(0.0, 1 - cfg.contrast), 1 + cfg.contrast)
        s = rng.uniform(max(0.0, 1 - cfg.saturation), 1 + cfg.saturation)
        h = rng.uniform(-cfg.hue, cfg.hue)
        jitter = (order, b, c, s, h)
    grayscale = rng.next() < cfg.grayscale_p
    blur = rng.uniform(cfg.blur_sigma[0], cfg.blur_sigma[1]) if rng.next() <= blur_p else None
    return ColourParams(jitter, grayscale, blur)


def sample_clip_params(rng: Rng, frames: int, frame_height: int, frame_width: int, cfg: AugmentConfig) -> ClipParams:
    """Every random parameter of one clip, in the official call order (augment.ts `sampleAugmentParams`)."""
    precrop_box = sample_resized_crop_box(rng, frame_height, frame_width, cfg.precrop_scale, cfg.ratio)
    global_box = sample_resized_crop_box(rng, cfg.precrop, cfg.precrop, cfg.global_scale, cfg.ratio)
    flip = rng.next() < cfg.flip_p
    global_colour = tuple(sample_colour_params(rng, cfg, cfg.global_blur_p) for _ in range(frames))
    boxes, colours = [], []
    for _ in range(cfg.n_local):
        crop_boxes, crop_colours = [], []
        for _ in range(frames):
            crop_boxes.append(sample_resized_crop_box(rng, cfg.precrop, cfg.precrop, cfg.local_scale, cfg.ratio))
            crop_colours.append(sample_colour_params(rng, cfg, cfg.local_blur_p))
        boxes.append(tuple(crop_boxes))
        colours.append(tuple(crop_colours))
    return ClipParams(
        frame_width, frame_height, frames, precrop_box, global_box, flip, global_colour, tuple(boxes), tuple(colours)
    )


_JITTER_OPS = (VF.adjust_brightness, VF.adjust_contrast, VF.adjust_saturation, VF.adjust_hue)


def apply_colour(img: Image.Image, params: ColourParams) -> Image.Image:
    """flip_and_color_jitter (torchvision ColorJitter.forward's op order) + utils.GaussianBlur, on a PIL image."""
    if params.jitter is not None:
        order, *factors = params.jitter
        for op in order:
            img = _JITTER_OPS[op](img, factors[op])
    if params.grayscale:
        img = VF.rgb_to_grayscale(img, num_output_channels=3)
    if params.blur_sigma is not None:
        img = img.filter(ImageFilter.GaussianBlur(radius=params.blur_sigma))
    return img


def _crop_resize_bilinear(clip: torch.Tensor, box: CropBox, size: int) -> torch.Tensor:
    """`_functional_video.resized_crop`: slice, then interpolate(bilinear, align_corners=False) of a [C,T,H,W] clip."""
    crop = clip[..., box.top : box.top + box.height, box.left : box.left + box.width]
    return TF.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False)


def _to_u8_frames(cfhw: torch.Tensor) -> np.ndarray:
    """ToPILImage's conversion of each frame of a float [C, F, H, W] clip: `mul(255).byte()` (truncation), as one
    contiguous uint8 [F, H, W, 3] array (frame t is then `Image.fromarray(out[t])` without another copy)."""
    return cfhw.mul(255).byte().permute(1, 2, 3, 0).contiguous().numpy()


def _normalise(images: np.ndarray, cfg: AugmentConfig) -> torch.Tensor:
    """ToTensor + Normalize of uint8 [n, H, W, 3] images at once: the same float32 operations per element as
    torchvision's per-image `to_tensor` (÷255) and `normalize` (−mean, ÷std), so the values are bit-identical."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
    mean = torch.tensor(cfg.mean, dtype=x.dtype).view(-1, 1, 1)
    std = torch.tensor(cfg.std, dtype=x.dtype).view(-1, 1, 1)
    return x.sub_(mean).div_(std)


@dataclass
class AugmentedClip:
    global_crops: torch.Tensor  # [F, 3, G, G] normalised
    local_crops: torch.Tensor  # [nl, F, 3, L, L] normalised
    global_rgb: np.ndarray  # [F, G, G, 3] uint8: what the teacher saw, before Normalize


def render_clip(frames: np.ndarray, params: ClipParams, cfg: AugmentConfig) -> AugmentedClip:
    """Renders a clip (uint8 [F, H, W, 3]) with explicit parameters."""
    f, h, w, _ = frames.shape
    if (params.frames, params.frame_height, params.frame_width) != (f, h, w):
        raise ValueError(f"augment: params were drawn for {params.frames} frames of {params.frame_width}x"
                         f"{params.frame_height}, the clip has {f} frames of {w}x{h}")  # fmt: skip
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float() / 255.0  # ToTensorVideo
    precrop = _crop_resize_bilinear(clip, params.precrop_box, cfg.precrop)  # [C, F, P, P]
    glob = _crop_resize_bilinear(precrop, params.global_box, cfg.global_size)
    if params.flip:
        glob = glob.flip(-1)
    g, l, nl = cfg.global_size, cfg.local_size, cfg.n_local
    glob_u8 = _to_u8_frames(glob)
    pre_u8 = _to_u8_frames(precrop) if nl else None
    rgb = np.empty((f, g, g, 3), dtype=np.uint8)
    local_u8 = np.empty((nl, f, l, l, 3), dtype=np.uint8)
    for t in range(f):
        rgb[t] = np.asarray(apply_colour(Image.fromarray(glob_u8[t], mode="RGB"), params.global_colour[t]))
        if pre_u8 is None:
            continue
        pre_pil = Image.fromarray(pre_u8[t], mode="RGB")
        for i in range(nl):
            box = params.local_boxes[i][t]
            crop = VF.resized_crop(
                pre_pil, box.top, box.left, box.height, box.width, [l, l], VF.InterpolationMode.BICUBIC
            )
            local_u8[i, t] = np.asarray(apply_colour(crop, params.local_colour[i][t]))
    local = _normalise(local_u8.reshape(nl * f, l, l, 3), cfg).reshape(nl, f, 3, l, l)
    return AugmentedClip(_normalise(rgb, cfg), local, rgb)


def params_to_json(p: ClipParams) -> dict[str, Any]:
    """The same JSON shape as augment.ts `ClipAugmentParams` (for logs and the cross-engine test)."""

    def box(b: CropBox) -> dict[str, int]:
        return {"top": b.top, "left": b.left, "height": b.height, "width": b.width}

    def colour(c: ColourParams) -> dict[str, Any]:
        jitter = None
        if c.jitter is not None:
            order, br, co, sa, hu = c.jitter
            jitter = {"order": list(order), "brightness": br, "contrast": co, "saturation": sa, "hue": hu}
        return {"jitter": jitter, "grayscale": c.grayscale, "blurSigma": c.blur_sigma}

    return {
        "frameWidth": p.frame_width,
        "frameHeight": p.frame_height,
        "frames": p.frames,
        "precropBox": box(p.precrop_box),
        "globalBox": box(p.global_box),
        "flip": p.flip,
        "globalColour": [colour(c) for c in p.global_colour],
        "localBoxes": [[box(b) for b in row] for row in p.local_boxes],
        "localColour": [[colour(c) for c in row] for row in p.local_colour],
    }


def centre_crop_params(frames: int, frame_height: int, frame_width: int, cfg: AugmentConfig) -> ClipParams:
    """The deterministic "identity" of this pipeline (augment.ts `centreCropParams`, used to inspect a checkpoint):
    the largest centred square as the pre-crop, the whole pre-crop as global and local crops, no flip or colour."""
    side = min(frame_height, frame_width)
    precrop = CropBox((frame_height - side) // 2, (frame_width - side) // 2, side, side)
    whole = CropBox(0, 0, cfg.precrop, cfg.precrop)
    identity = ColourParams(None, False, None)
    return ClipParams(
        frame_width, frame_height, frames, precrop, whole, False, (identity,) * frames,
        tuple((whole,) * frames for _ in range(cfg.n_local)), tuple((identity,) * frames for _ in range(cfg.n_local)),
    )  # fmt: skip
