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
"""Read the dataset folder layout (see folder_format) sample by sample."""

from dataclasses import dataclass
import os

import numpy as np

from .folder_format import (
    CAMERA_FILE, DatasetFormatError, IGNORE_LABEL, IMAGE_DIR, META_FILE, parse_camera,
    parse_depth_scale, parse_meta, read_png, read_target, TASK_DIRS)


@dataclass
class Sample:
    """
    One image and the annotations that exist for it.

    :ivar name: file stem.
    :ivar image: (H, W, 3) uint8 RGB.
    :ivar targets: task name -> annotation, holding only the tasks annotated for this sample:
        'segmentation': (H, W) uint8 class ids, 255 = ignore;
        'depth': (H, W) float32 metres, 0 = invalid;
        'normals': (H, W, 3) float32 unit vectors, all 0 = invalid.
    """

    name: str
    image: np.ndarray
    targets: dict

    @property
    def tasks(self) -> tuple:
        """Names of the annotated tasks, in a fixed order."""
        return tuple(task for task in TASK_DIRS if task in self.targets)


def _stems(folder: str) -> set:
    if not os.path.isdir(folder):
        return set()
    return {f[:-4] for f in os.listdir(folder) if f.endswith('.png')}


class FolderDataset:
    """
    Random access to a dataset folder.

    :ivar root: the folder.
    :ivar names: sorted sample names (stems of images/*.png).
    :ivar domain: domain named by meta.yaml, or None.
    :ivar classes: class names; segmentation label i is classes[i].
    :ivar colors: one [r, g, b] per class.
    :ivar K: (3, 3) float64 intrinsics from camera.yaml, or None without one.
    :ivar size: (height, width) from camera.yaml, or None.
    :ivar depth_scale: depth PNG units per metre (meta.yaml; millimetres if it names none).
    """

    def __init__(self, root: str):
        self.root = root
        image_dir = os.path.join(root, IMAGE_DIR)
        if not os.path.isdir(image_dir):
            raise DatasetFormatError(f'{image_dir}: image folder not found')
        self.domain, self.classes, self.colors = parse_meta(os.path.join(root, META_FILE))
        self.depth_scale = parse_depth_scale(os.path.join(root, META_FILE))
        self.K, self.size = None, None
        camera = os.path.join(root, CAMERA_FILE)
        if os.path.exists(camera):
            self.K, width, height = parse_camera(camera)
            self.size = (height, width)
        self.names = sorted(_stems(image_dir))
        self._annotated = {}
        for task, folder in TASK_DIRS.items():
            stems = _stems(os.path.join(root, folder))
            orphans = sorted(stems - set(self.names))
            if orphans:
                raise DatasetFormatError(
                    f'{os.path.join(root, folder, orphans[0] + ".png")}: no matching image in '
                    f'{image_dir}')
            self._annotated[task] = stems

    def __len__(self) -> int:
        return len(self.names)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample `index` is annotated for `task` (without reading it)."""
        return self.names[index] in self._annotated[task]

    def _path(self, folder: str, name: str) -> str:
        return os.path.join(self.root, folder, name + '.png')

    def _check_labels(self, path: str, labels: np.ndarray) -> None:
        # Only class ids need the dataset's own list to be checked.
        bad = (labels >= len(self.classes)) & (labels != IGNORE_LABEL)
        if bad.any():
            raise DatasetFormatError(
                f'{path}: label {int(labels[bad][0])} is neither a class id '
                f'(0-{len(self.classes) - 1}) nor {IGNORE_LABEL}')

    def __getitem__(self, index: int) -> Sample:
        name = self.names[index]
        path = self._path(IMAGE_DIR, name)
        image = read_png(path, ('RGB',), 'image')
        if self.size is not None and image.shape[:2] != self.size:
            raise DatasetFormatError(
                f'{path}: image size {image.shape[:2]} differs from {self.size} in camera.yaml')
        targets = {}
        for task, folder in TASK_DIRS.items():
            if name not in self._annotated[task]:
                continue
            path = self._path(folder, name)
            target = read_target(path, task, self.depth_scale)
            if target.shape[:2] != image.shape[:2]:
                raise DatasetFormatError(
                    f'{path}: size {target.shape[:2]} differs from its image '
                    f'{image.shape[:2]}')
            if task == 'segmentation':
                self._check_labels(path, target)
            targets[task] = target
        return Sample(name=name, image=image, targets=targets)
