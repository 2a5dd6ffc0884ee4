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
"""Write samples into the dataset folder layout (see folder_format)."""

import os
from typing import Optional, Sequence

import numpy as np
import yaml

from .folder_format import (
    CAMERA_FILE, camera_yaml, DEPTH_PNG_SCALE, IGNORE_LABEL, IMAGE_DIR, META_FILE, meta_yaml,
    TASK_DIRS, write_png, write_target)
from ..tasks import TASKS


class FolderWriter:
    """
    Creates a dataset folder and writes one sample at a time.

    :param root: output folder (created if needed).
    :param classes: class names; label i of segmentation PNGs is classes[i].
    :param colors: one [r, g, b] (0-255) per class.
    :param K: (3, 3) pinhole intrinsics in pixels, shared by all images.
    :param width: image width in pixels.
    :param height: image height in pixels.
    :param domain: free-form dataset domain written to meta.yaml (e.g. 'indoor').
    :param depth_scale: depth PNG units per metre, recorded in meta.yaml: 1000 (millimetres,
        up to 65.535 m) or 256 (KITTI's 1/256 m, up to 255.99 m, for outdoor ranges); see
        ``folder_format.depth_scale_for``.
    """

    def __init__(self, root: str, *, classes: Sequence[str], colors: Sequence, K: np.ndarray,
                 width: int, height: int, domain: Optional[str] = None,
                 depth_scale: float = DEPTH_PNG_SCALE):
        self.root = root
        self.depth_scale = float(depth_scale)
        self.size = (int(height), int(width))
        self.num_classes = len(classes)
        os.makedirs(os.path.join(root, IMAGE_DIR), exist_ok=True)
        for folder in TASK_DIRS.values():
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        files = {CAMERA_FILE: camera_yaml(K, width, height, domain or 'camera'),
                 META_FILE: meta_yaml(domain, classes, colors, self.depth_scale)}
        for file_name, content in files.items():
            with open(os.path.join(root, file_name), 'w') as f:
                yaml.safe_dump(content, f, sort_keys=False, default_flow_style=None)

    def _check(self, name: str, what: str, array: np.ndarray, dtype: type, ndim: int) -> None:
        if array.dtype != dtype or array.ndim != ndim or array.shape[:2] != self.size:
            raise ValueError(
                f'{name}: {what} must be {np.dtype(dtype).name} with {ndim} dims and size '
                f'{self.size}, got {array.dtype} {array.shape}')

    def write(self, name: str, image: np.ndarray, **targets: Optional[np.ndarray]) -> None:
        """
        Write one sample; annotations left out or None are simply not written.

        :param name: file stem shared by the image and its annotations.
        :param image: (H, W, 3) uint8 RGB.
        :param targets: task name -> annotation (see ``multitask_seg.tasks``):
            segmentation (H, W) uint8 class ids, 255 = ignore; depth (H, W) float metres,
            0 = invalid (stored as uint16 1/depth_scale m); normals (H, W, 3) float unit
            vectors, all 0 = invalid (stored as 8-bit RGB).

        :raises: DatasetFormatError: a depth the scale cannot hold, naming the file and value.
        """
        if os.sep in name or name.startswith('.'):
            raise ValueError(f'invalid sample name {name!r}')
        unknown = sorted(set(targets) - set(TASKS))
        if unknown:
            raise ValueError(f'{name}: unknown annotation(s) {unknown}; known: {list(TASKS)}')
        self._check(name, 'image', image, np.uint8, 3)
        write_png(os.path.join(self.root, IMAGE_DIR, name + '.png'), image)
        for task, target in targets.items():
            if target is None:
                continue
            target = np.asarray(target)
            shape = self.size + TASKS[task].pixel_shape
            if target.shape != shape:
                raise ValueError(f'{name}: {task} must have shape {shape}, got {target.shape}')
            if task == 'segmentation':
                self._check_labels(name, target)
            write_target(os.path.join(self.root, TASK_DIRS[task], name + '.png'), task, target,
                         self.depth_scale)

    def _check_labels(self, name: str, labels: np.ndarray) -> None:
        if labels.dtype != np.uint8:
            raise ValueError(f'{name}: segmentation must be uint8, got {labels.dtype}')
        bad = (labels >= self.num_classes) & (labels != IGNORE_LABEL)
        if bad.any():
            raise ValueError(f'{name}: label {int(labels[bad][0])} is not a class id')
