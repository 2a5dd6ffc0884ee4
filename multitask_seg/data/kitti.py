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
KITTI readers: depth completion (sparse LiDAR depth) and semantics (Cityscapes label ids).

Depth (`KittiDepth`), the official depth-completion release beside the raw recordings::

    depth_root/[<split>/]<drive>/proj_depth/<source>/<camera>/<frame>.png
        16-bit depth, value / 256 = metres, 0 = invalid; source 'groundtruth'
        (data_depth_annotated) or 'velodyne_raw' (data_depth_velodyne)
    raw_root/<date>/<drive>/<camera>/data/<frame>.png     RGB of the raw recording

with <drive> like 2011_09_26_drive_0001_sync, <date> its first 10 characters and <camera>
image_02 (left colour) or image_03. Every depth map needs its RGB frame.

Semantics (`KittiSemantics`), data_semantics/training::

    root/image_2/<name>.png      RGB
    root/semantic/<name>.png     8-bit Cityscapes label ids 0-33 (optional per image)

Label ids are mapped to training classes by a class map (default: the six KITTI-6 classes
road, sidewalk, building, vegetation, car, sky); other ids become 255 = ignore.
"""

import os
from typing import Optional, Sequence

import numpy as np

from .class_map import ClassMap, ClassMapSpec, KITTI6_MAP
from .folder_dataset import Sample
from .folder_format import DatasetFormatError, read_png

DEPTH_PNG_SCALE = 256.0
DEPTH_SOURCES = ('groundtruth', 'velodyne_raw')
_DEPTH_MODES = ('I;16', 'I;16B', 'I')


def _pngs(folder: str) -> list:
    return sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.png'))


def _read_pair(image_path: str, target_path: str, modes: Sequence[str], what: str) -> tuple:
    image = read_png(image_path, ('RGB',), 'image')
    target = read_png(target_path, modes, what)
    if target.shape != image.shape[:2]:
        raise DatasetFormatError(f'{target_path}: size {target.shape} differs from its image '
                                 f'{image.shape[:2]}')
    return image, target


class KittiDepth:
    """
    KITTI depth-completion maps with their raw RGB frames (layout in the module docs).

    :param depth_root: data_depth_annotated or data_depth_velodyne folder.
    :param raw_root: folder of the raw recordings (<date>/<drive>/...).
    :param split: 'train' or 'val' subfolder of depth_root; None = drives directly inside.
    :param source: 'groundtruth' or 'velodyne_raw'.
    :param camera: 'image_02' or 'image_03'.
    :ivar names: '<drive>/<camera>/<frame>' per sample, sorted.
    :ivar classes: () as the samples have no segmentation.
    """

    classes = ()
    colors = ()
    K = None

    def __init__(self, depth_root: str, raw_root: str, *, split: Optional[str] = None,
                 source: str = 'groundtruth', camera: str = 'image_02'):
        if source not in DEPTH_SOURCES:
            raise ValueError(f'source must be one of {DEPTH_SOURCES}, got {source!r}')
        root = os.path.join(depth_root, split) if split else depth_root
        if not os.path.isdir(root):
            raise DatasetFormatError(f'{root}: folder not found')
        self.names, self._files = [], []
        for drive in sorted(os.listdir(root)):
            folder = os.path.join(root, drive, 'proj_depth', source, camera)
            if not os.path.isdir(folder):
                continue
            rgb_folder = os.path.join(raw_root, drive[:10], drive, camera, 'data')
            for frame in _pngs(folder):
                rgb = os.path.join(rgb_folder, frame + '.png')
                if not os.path.isfile(rgb):
                    raise DatasetFormatError(f'{rgb}: RGB frame of '
                                             f'{os.path.join(folder, frame)}.png not found')
                self.names.append(f'{drive}/{camera}/{frame}')
                self._files.append((rgb, os.path.join(folder, frame + '.png')))
        if not self.names:
            raise DatasetFormatError(
                f'{root}: no <drive>/proj_depth/{source}/{camera}/*.png found')

    def __len__(self) -> int:
        return len(self.names)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample `index` has `task`: depth only."""
        return task == 'depth'

    def __getitem__(self, index: int) -> Sample:
        image, units = _read_pair(*self._files[index], _DEPTH_MODES, 'depth')
        depth = (units.astype(np.float32) / np.float32(DEPTH_PNG_SCALE)).astype(np.float32)
        return Sample(name=self.names[index], image=image, targets={'depth': depth})


class KittiSemantics:
    """
    KITTI semantic segmentation frames (layout in the module docs).

    :param root: data_semantics/training (or testing: images without labels).
    :param class_map: Cityscapes id -> class name, as a dict or YAML path (see class_map).
    :param classes: target class names in id order; default from the map.
    :ivar names: image stems, sorted.
    :ivar classes: target class names; label i is classes[i].
    :ivar colors: one [r, g, b] per class.
    """

    K = None

    def __init__(self, root: str, *, class_map: ClassMapSpec = KITTI6_MAP,
                 classes: Optional[Sequence[str]] = None):
        self.root = root
        image_dir = os.path.join(root, 'image_2')
        if not os.path.isdir(image_dir):
            raise DatasetFormatError(f'{image_dir}: image folder not found')
        self._map = ClassMap(class_map, classes)
        self.classes, self.colors = self._map.classes, self._map.colors
        self.names = _pngs(image_dir)
        label_dir = os.path.join(root, 'semantic')
        self._labelled = set(_pngs(label_dir)) if os.path.isdir(label_dir) else set()

    def __len__(self) -> int:
        return len(self.names)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample `index` has `task`: segmentation where a label PNG exists."""
        return task == 'segmentation' and self.names[index] in self._labelled

    def __getitem__(self, index: int) -> Sample:
        name = self.names[index]
        image_path = os.path.join(self.root, 'image_2', name + '.png')
        if name not in self._labelled:
            return Sample(name=name, image=read_png(image_path, ('RGB',), 'image'), targets={})
        label_path = os.path.join(self.root, 'semantic', name + '.png')
        image, ids = _read_pair(image_path, label_path, ('L',), 'semantic')
        return Sample(name=name, image=image, targets={'segmentation': self._map(ids)})
