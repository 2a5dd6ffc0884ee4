# Copyright 2026 The multitask_seg Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
The task registry: every rule about a task, keyed by the task's name. No ROS here.

``TASKS[name]`` says how many channels the task's head has, what value marks a target
pixel as 'no annotation', which loss trains it (by name: the functions live in
``distill.losses``), how a network output becomes the full-resolution array that the
node publishes, which pixels of a target or prediction are valid, which accumulator of
``multitask_seg.metrics`` scores it, how it is stored in a dataset folder, and the
topic and encoding the node publishes it with. Consumers loop over this table instead
of branching on task names, so a new task is one entry here.

Arrays, per task (H, W = the image's size):

    segmentation  (H, W) class ids: uint8 (uint16 past 255 classes), 255 = ignore
    depth         (H, W) float32 metres; 0 (targets) or NaN (published) = invalid
    normals       (H, W, 3) float32 unit vectors in the camera's optical frame
                  (x right, y down, z forward); all 0 = invalid
"""

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from .image_codecs import DEPTH_ENCODINGS, depth_plane, valid_depth
from .metrics import DepthMetric, NormalsMetric, SegmentationMetric

# The class id of 'no label' in every label image, target and batch.
IGNORE_LABEL = 255
# Dataset-folder depth PNGs: uint16 units of 1 / scale metres, 0 = invalid; millimetres by
# default, KITTI's 1/256 m for far ranges (meta.yaml's depth_png.scale says which).
DEPTH_PNG_SCALE = 1000.0
KITTI_DEPTH_SCALE = 256.0
MAX_PNG_DEPTH = 65535 / DEPTH_PNG_SCALE
# Normals PNGs: 8-bit RGB, n = v / 255 * 2 - 1 per channel (the NYUD convention).
NORMALS_PNG_MAX = 255.0


def upsample(output: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly resize a (N, C, h, w) network output to (N, C, H, W)."""
    if tuple(output.shape[-2:]) == tuple(size):
        return output
    return F.interpolate(output, size=size, mode='bilinear', align_corners=False)


def labels_from_logits(logits: torch.Tensor, size: tuple[int, int],
                       confidence: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """
    Map (1, C, h, w) logits to (H, W) class ids: uint8, or uint16 past 255 classes.

    Class id 255 stays reserved for 'ignore' in uint8 label images.

    :param confidence: also return the (H, W) float32 softmax probability of each
        pixel's class (else None).
    """
    # Channels-last logits make both the resize and the per-pixel max run on
    # contiguous class vectors: about 7x faster than the default layout here.
    logits = logits.contiguous(memory_format=torch.channels_last)
    scores = upsample(logits, size).permute(0, 2, 3, 1)[0]
    best, ids = scores.max(-1)
    dtype = np.uint8 if logits.shape[1] <= IGNORE_LABEL else np.uint16
    labels = ids.to(torch.int32).numpy().astype(dtype)
    if not confidence:
        return labels, None
    # max softmax = 1 / sum(exp(score - max score)).
    return labels, (1.0 / (scores - best[..., None]).exp().sum(-1)).numpy()


# Post-processing: (1, C, h, w) output, image size, the model's ModelInfo, whether to add
# the segmentation confidence -> {name: full-resolution array}.

def _finish_segmentation(output: torch.Tensor, size: tuple[int, int], info: Any,
                         confidence: bool) -> dict[str, np.ndarray]:
    if confidence and info.temperature != 1.0:
        # Dividing by T > 0 keeps every argmax: only the confidence changes.
        output = output / info.temperature
    labels, probability = labels_from_logits(output, size, confidence)
    if confidence:
        return {'segmentation': labels, 'segmentation_confidence': probability}
    return {'segmentation': labels}


def _finish_depth(output: torch.Tensor, size: tuple[int, int], info: Any,
                  confidence: bool) -> dict[str, np.ndarray]:
    low, high = info.depth_range
    return {'depth': upsample(output, size)[0, 0].clamp(low, high).contiguous().numpy()}


def _finish_normals(output: torch.Tensor, size: tuple[int, int], info: Any,
                    confidence: bool) -> dict[str, np.ndarray]:
    # Normalised after upsampling: interpolating unit vectors shortens them.
    normals = F.normalize(upsample(output, size)[0], dim=0)
    return {'normals': normals.permute(1, 2, 0).contiguous().numpy()}


# Validity: an array of the task (target, or prediction as published) -> (H, W) bool.

def _valid_labels(labels: np.ndarray) -> np.ndarray:
    return np.asarray(labels) != IGNORE_LABEL


def _valid_depth(depth: np.ndarray) -> np.ndarray:
    depth = np.asarray(depth)
    with np.errstate(invalid='ignore'):
        return np.isfinite(depth) & (depth > 0)


def _valid_normals(normals: np.ndarray) -> np.ndarray:
    normals = np.asarray(normals)
    return np.isfinite(normals).all(-1) & (np.abs(normals).sum(-1) > 0)


# Published values: the post-processed prediction -> what the node publishes.

def _published_as_is(array: np.ndarray, info: Any) -> np.ndarray:
    return array


def _published_depth(depth: np.ndarray, info: Any) -> np.ndarray:
    return valid_depth(depth, info.depth_range)


# Dataset-folder codecs: target <-> the array a PNG holds.

def _labels_to_png(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype != np.uint8:
        raise ValueError(f'label PNGs hold uint8 class ids, got {labels.dtype}')
    return labels


def _png_to_labels(png: np.ndarray) -> np.ndarray:
    return png


def max_png_depth(scale: float = DEPTH_PNG_SCALE) -> float:
    """Return the largest depth in metres a uint16 PNG of ``scale`` units per metre holds."""
    return 65535 / scale


def depth_scale_for(max_depth: float) -> float:
    """Return the scale that holds depth up to ``max_depth`` m: millimetres if they can."""
    return DEPTH_PNG_SCALE if max_depth <= max_png_depth(DEPTH_PNG_SCALE) else KITTI_DEPTH_SCALE


def depth_to_png(depth: np.ndarray, scale: float = DEPTH_PNG_SCALE,
                 what: str = 'depth') -> np.ndarray:
    """
    Encode (H, W) float metres as uint16 units of 1/``scale`` m (rounded), 0 = invalid.

    Invalid depth (0, negative, NaN, inf) is written as 0.

    :param what: names the data (a file) in the error.
    :raises: ValueError: a valid depth the scale cannot hold (beyond 65535 / scale metres,
        or so small it would round to 0 = invalid); the dataset layer re-raises it as
        DatasetFormatError.
    """
    depth = np.asarray(depth, np.float64)
    with np.errstate(invalid='ignore'):
        valid = np.isfinite(depth) & (depth > 0)
    units = np.round(np.where(valid, depth, 0.0) * scale)
    bad = valid & ((units > 65535) | (units < 1))
    if bad.any():
        value = float(depth[bad].max() if (units[bad] > 65535).any() else depth[bad].min())
        raise ValueError(
            f'{what}: depth {value:.6g} m cannot be stored at {scale:g} units per metre '
            f'(valid depth is {1 / scale:.4g}-{max_png_depth(scale):.6g} m); write the set '
            f'with depth_scale={KITTI_DEPTH_SCALE:g} (1/256 m, up to '
            f'{max_png_depth(KITTI_DEPTH_SCALE):.2f} m) or mark such depth invalid (0)')
    return units.astype(np.uint16)


def png_to_depth(units: np.ndarray, scale: float = DEPTH_PNG_SCALE) -> np.ndarray:
    """Decode uint16 units of 1/``scale`` m into (H, W) float32 metres, 0 = invalid."""
    return (units.astype(np.float32) / np.float32(scale)).astype(np.float32)


def normals_to_png(normals: np.ndarray) -> np.ndarray:
    """
    Encode (H, W, 3) unit normals as 8-bit RGB: v = round((n + 1) / 2 * 255).

    Invalid normals (all 0 or not finite) become (0, 0, 0), which no unit vector encodes
    to (all three components would have to be below -0.996).
    """
    normals = np.asarray(normals, np.float64)
    valid = _valid_normals(normals)
    values = np.rint((np.clip(np.nan_to_num(normals), -1, 1) + 1) / 2 * NORMALS_PNG_MAX)
    return np.where(valid[..., None], values, 0).astype(np.uint8)


def png_to_normals(rgb: np.ndarray) -> np.ndarray:
    """
    Decode 8-bit RGB normals (n = v / 255 * 2 - 1) into (H, W, 3) float32 unit vectors.

    (0, 0, 0) and vectors shorter than 0.5 after decoding (mid-grey, as some releases
    mark missing normals) are invalid and become all 0; the rest are renormalised, so
    the 8-bit rounding leaves unit vectors.
    """
    n = rgb.astype(np.float32) / np.float32(NORMALS_PNG_MAX) * 2 - 1
    length = np.sqrt((n * n).sum(-1, keepdims=True))
    valid = (rgb.astype(np.int32).sum(-1, keepdims=True) > 0) & (length >= 0.5)
    return np.where(valid, n / np.maximum(length, 1e-6), 0).astype(np.float32)


# ROS planes: (published array, encoding or None for the task's default) -> (plane, encoding).

def _labels_plane(labels: np.ndarray, encoding: str | None) -> tuple[np.ndarray, str]:
    return labels, 'mono8' if labels.dtype == np.uint8 else 'mono16'


def _depth_plane(depth: np.ndarray, encoding: str | None) -> tuple[np.ndarray, str]:
    encoding = encoding or next(iter(DEPTH_ENCODINGS))
    return depth_plane(depth, encoding), encoding


def _normals_plane(normals: np.ndarray, encoding: str | None) -> tuple[np.ndarray, str]:
    return np.ascontiguousarray(normals, np.float32), '32FC3'


# Metric factories: (number of classes, depth cap in metres or None) -> accumulator, or
# None where the model cannot be scored on the task.

def _segmentation_metric(classes: int, cap: float | None) -> SegmentationMetric | None:
    return SegmentationMetric(classes) if classes else None


def _depth_metric(classes: int, cap: float | None) -> DepthMetric:
    return DepthMetric(cap=cap)


def _normals_metric(classes: int, cap: float | None) -> NormalsMetric:
    return NormalsMetric()


@dataclass(frozen=True)
class FileCodec:
    """
    How a task's targets are stored in the dataset folder layout.

    :ivar folder: sub-folder of the dataset root, one ``<name>.png`` per sample.
    :ivar modes: Pillow modes such a PNG may have.
    :ivar encode: target -> the array written to the PNG (uint8 or uint16).
    :ivar decode: the array read from the PNG -> target.
    :ivar meta: what meta.yaml says about the encoding.
    :ivar scaled: encode and decode take the folder's ``scale`` (units per metre) too.
    """

    folder: str
    modes: tuple[str, ...]
    encode: Callable[..., np.ndarray]
    decode: Callable[..., np.ndarray]
    meta: dict
    scaled: bool = False


@dataclass(frozen=True)
class RosOutput:
    """
    How the node publishes a task, per camera ``<c>``.

    :ivar topic: ``<c>/<topic>``, a sensor_msgs/Image.
    :ivar encodings: the encodings it may have (the plane function picks, or the node
        parameter ``encoding_parameter`` when there is one).
    :ivar plane: (published array, encoding or None) -> (plane, encoding).
    :ivar encoding_parameter: the node parameter that chooses the encoding, or None.
    """

    topic: str
    encodings: tuple[str, ...]
    plane: Callable[[np.ndarray, str | None], tuple[np.ndarray, str]]
    encoding_parameter: str | None = None


@dataclass(frozen=True)
class Task:
    """
    Every rule about one task (see the module docs for the arrays).

    :ivar name: the key of the task in model outputs, targets, losses and metrics.
    :ivar channels: output channels of the head; None: one per segmentation class.
    :ivar fill: target value that means 'no annotation' (padding, missing samples).
    :ivar pixel_shape: per-pixel shape of a target: () for a plane, (3,) for vectors.
    :ivar batch_dtype: dtype of the task's targets in a training batch.
    :ivar loss: name of the loss in ``distill.losses.LOSSES``.
    :ivar finish: (output (1, C, h, w), (H, W), ModelInfo, confidence) -> {name: array}.
    :ivar valid: target or published prediction -> (H, W) bool of the valid pixels.
    :ivar published: (post-processed prediction, ModelInfo) -> the array as published
        and scored, invalid pixels marked.
    :ivar metric: (classes, depth cap) -> accumulator of ``multitask_seg.metrics``.
    :ivar capped: ground truth beyond an evaluation depth cap is not scored.
    :ivar codec: the dataset-folder file codec.
    :ivar ros: the node's output.
    """

    name: str
    channels: int | None
    fill: float
    pixel_shape: tuple[int, ...]
    batch_dtype: str
    loss: str
    finish: Callable[..., dict[str, np.ndarray]]
    valid: Callable[[np.ndarray], np.ndarray]
    published: Callable[[np.ndarray, Any], np.ndarray]
    metric: Callable[[int, float | None], Any]
    capped: bool
    codec: FileCodec
    ros: RosOutput


TASKS: dict[str, Task] = {
    'segmentation': Task(
        name='segmentation', channels=None, fill=IGNORE_LABEL, pixel_shape=(),
        batch_dtype='int64', loss='cross_entropy', finish=_finish_segmentation,
        valid=_valid_labels, published=_published_as_is, metric=_segmentation_metric,
        capped=False,
        # 'P' (palette) PNGs store class ids as palette indices, as in VOC.
        codec=FileCodec('segmentation', ('L', 'P'), _labels_to_png, _png_to_labels,
                        {'units': 'class ids', 'invalid': IGNORE_LABEL}),
        ros=RosOutput('segmentation/labels', ('mono8', 'mono16'), _labels_plane)),
    'depth': Task(
        name='depth', channels=1, fill=0.0, pixel_shape=(), batch_dtype='float32',
        loss='berhu', finish=_finish_depth, valid=_valid_depth,
        published=_published_depth, metric=_depth_metric, capped=True,
        codec=FileCodec('depth', ('I;16', 'I;16B'), depth_to_png, png_to_depth,
                        {'units': 'millimetres', 'scale': DEPTH_PNG_SCALE, 'invalid': 0},
                        scaled=True),
        ros=RosOutput('depth/image', tuple(DEPTH_ENCODINGS), _depth_plane,
                      encoding_parameter='depth_encoding')),
    'normals': Task(
        name='normals', channels=3, fill=0.0, pixel_shape=(3,), batch_dtype='float32',
        loss='cosine', finish=_finish_normals, valid=_valid_normals,
        published=_published_as_is, metric=_normals_metric, capped=False,
        codec=FileCodec('normals', ('RGB',), normals_to_png, png_to_normals,
                        {'units': 'unit vectors, n = v / 255 * 2 - 1', 'invalid': [0, 0, 0]}),
        ros=RosOutput('normals/image', ('32FC3',), _normals_plane)),
}
