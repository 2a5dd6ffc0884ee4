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
    CAMERA_FILE, camera_yaml, DEPTH_PNG_SCALE, depth_to_png, IMAGE_DIR, META_FILE, meta_yaml,
    TASK_DIRS, write_png)


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

    def write(self, name: str, image: np.ndarray, *, segmentation: Optional[np.ndarray] = None,
              depth: Optional[np.ndarray] = None) -> None:
        """
        Write one sample; annotations left as None are simply not written.

        :param name: file stem shared by the image and its annotations.
        :param image: (H, W, 3) uint8 RGB.
        :param segmentation: (H, W) uint8 class ids, 255 = ignore.
        :param depth: (H, W) float metres, 0 = invalid (stored as uint16 1/depth_scale m).

        :raises: DatasetFormatError: a depth the scale cannot hold, naming the file and value.
        """
        if os.sep in name or name.startswith('.'):
            raise ValueError(f'invalid sample name {name!r}')
        self._check(name, 'image', image, np.uint8, 3)
        write_png(os.path.join(self.root, IMAGE_DIR, name + '.png'), image)
        if segmentation is not None:
            self._check(name, 'segmentation', segmentation, np.uint8, 2)
            bad = (segmentation >= self.num_classes) & (segmentation != 255)
            if bad.any():
                raise ValueError(f'{name}: label {int(segmentation[bad][0])} is not a class id')
            write_png(os.path.join(self.root, TASK_DIRS['segmentation'], name + '.png'),
                      segmentation)
        if depth is not None:
            depth = np.asarray(depth)
            if depth.ndim != 2 or depth.shape != self.size:
                raise ValueError(f'{name}: depth must have size {self.size}, got {depth.shape}')
            path = os.path.join(self.root, TASK_DIRS['depth'], name + '.png')
            write_png(path, depth_to_png(depth, self.depth_scale, path))
