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
Joint augmentations that keep image, labels, depth and normals consistent.

A sample is ``{'image': (H, W, 3) uint8, 'targets': {task: array}}`` with targets
'segmentation' (H, W) uint8/int ids (255 = ignore), 'depth' (H, W) float32 metres
(0 = invalid) and 'normals' (H, W, 3) float32 (all 0 = invalid); any subset may be present.
Randomness comes from the caller's generator, so a resumed run replays the same crops.
"""

from dataclasses import dataclass, field

from multitask_seg.tasks import TASKS
import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    """
    Training augmentation settings (the authors' recipe by default).

    :ivar scale: [low, high] random zoom factor; depth is divided by it, since zooming in
        by s looks like standing s times closer.
    :ivar crop: [height, width] of the training crop; smaller images are padded with
        each task's 'no annotation' fill (``multitask_seg.tasks``).
    :ivar flip: random horizontal mirror (normals' x is negated).
    :ivar color_jitter: strength of random brightness, contrast and saturation changes,
        applied to the image only; 0 disables.
    """

    scale: list[float] = field(default_factory=lambda: [0.8, 2.0])
    crop: list[int] = field(default_factory=lambda: [400, 400])
    flip: bool = True
    color_jitter: float = 0.2


def _resize(array: np.ndarray, size: tuple[int, int], task: str | None) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(array))
    t = t[None, None] if t.ndim == 2 else t.permute(2, 0, 1)[None]
    if task is None:  # the image: smooth
        out = F.interpolate(t.float(), size=size, mode='bilinear', align_corners=False)
        out = out.round().clamp(0, 255).to(torch.uint8)
    else:  # annotations: nearest, so no label or depth is invented between two others
        out = F.interpolate(t.float(), size=size, mode='nearest').to(t.dtype)
    out = out[0]
    return (out[0] if array.ndim == 2 else out.permute(1, 2, 0)).numpy()


def random_scale(sample: dict, low: float, high: float, rng: np.random.Generator) -> dict:
    """Zoom image and targets by a factor drawn from [low, high]; depth is divided by it."""
    s = float(rng.uniform(low, high))
    height, width = sample['image'].shape[:2]
    size = (max(1, round(height * s)), max(1, round(width * s)))
    targets = {task: _resize(t, size, task) for task, t in sample['targets'].items()}
    if 'depth' in targets:
        targets['depth'] = targets['depth'] / np.float32(s)
    return {**sample, 'image': _resize(sample['image'], size, None), 'targets': targets}


def random_crop(sample: dict, crop: tuple[int, int], rng: np.random.Generator) -> dict:
    """Cut a crop-sized window; pad first where the image is smaller (fill = missing)."""
    ch, cw = crop
    height, width = sample['image'].shape[:2]
    top = int(rng.integers(0, max(height - ch, 0) + 1))
    left = int(rng.integers(0, max(width - cw, 0) + 1))

    def cut(array: np.ndarray, fill) -> np.ndarray:
        out = np.full((ch, cw) + array.shape[2:], fill, dtype=array.dtype)
        window = array[top:top + ch, left:left + cw]
        out[:window.shape[0], :window.shape[1]] = window
        return out

    return {**sample, 'image': cut(sample['image'], 0),
            'targets': {task: cut(t, TASKS[task].fill) for task, t in sample['targets'].items()}}


def horizontal_flip(sample: dict) -> dict:
    """Mirror left-right; surface normals' x component changes sign."""
    targets = {task: np.ascontiguousarray(t[:, ::-1]) for task, t in sample['targets'].items()}
    if 'normals' in targets:
        targets['normals'] = targets['normals'] * np.array([-1, 1, 1], np.float32)
    return {**sample, 'image': np.ascontiguousarray(sample['image'][:, ::-1]),
            'targets': targets}


def color_jitter(image: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Randomly change brightness, contrast and saturation of an (H, W, 3) uint8 image."""
    b, c, s = rng.uniform(1 - strength, 1 + strength, size=3)
    x = image.astype(np.float32) * b
    x = (x - x.mean()) * c + x.mean()
    grey = x.mean(axis=2, keepdims=True)
    x = (x - grey) * s + grey
    return np.clip(x, 0, 255).round().astype(np.uint8)


def augment(sample: dict, config: AugmentConfig, rng: np.random.Generator) -> dict:
    """Apply scale, crop, flip and colour jitter as ``config`` says, in that order."""
    sample = random_scale(sample, *config.scale, rng)
    sample = random_crop(sample, tuple(config.crop), rng)
    if config.flip and rng.random() < 0.5:
        sample = horizontal_flip(sample)
    if config.color_jitter > 0:
        sample = {**sample, 'image': color_jitter(sample['image'], config.color_jitter, rng)}
    return sample
