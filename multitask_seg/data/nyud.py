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
NYUDv2 readers: the official labelled .mat file and pre-extracted raw video frames.

Labelled set (`NyudMat`): `nyu_depth_v2_labeled.mat`, MATLAB v7.3 (HDF5). As h5py sees it:
'images' (N, 3, W, H) uint8, 'depths' (N, W, H) float metres, 'labels' (N, W, H) uint16 raw
ids of 894 classes (0 = unlabelled); MATLAB's column-major order reverses the axes, so
frames are transposed to (H, W, 3) / (H, W). The 894 -> 40 class reduction comes from
`classMapping40.mat` ('mapClass' (1, 894): NYU40 id 1-40 of raw id k at column k); the
standard split from `splits.mat` ('trainNdxs' 795, 'testNdxs' 654, 1-based frame numbers).
Both small files are MATLAB v5 in the usual distribution (v7.3 is read too). Surface
normals of the labelled frames, which the .mat file lacks, come as one PNG per frame,
named by its 4-digit frame number (`<normals>/0001.png`, as DenseTorch's NYUD lists name
them), 8-bit RGB with n = v / 255 * 2 - 1 per channel and (0, 0, 0) where there is no
normal: the dataset folder's normals codec. They are returned in the camera's optical
frame (x right, y down, z forward); `normals_signs` flips the axes of a release that
uses another convention.

Raw frames (`NyudRaw`), depth only::

    root/<scene>/rgb_<key>.jpg|.jpeg|.png    RGB
    root/<scene>/depth_<key>.png             16-bit depth, `depth_scale` metres per unit
                                             (also sync_depth_<key>.png); 0 = invalid

An image pairs with the depth of the same <key>; with `max_time_diff` set and numeric keys
(timestamps in seconds), else with the depth of the nearest timestamp within it. Images
without a partner are left out (`unmatched` counts them).
"""

import os
import re
from typing import Optional

import h5py
import numpy as np
from PIL import Image, UnidentifiedImageError

from .folder_dataset import Sample
from .folder_format import DatasetFormatError, IGNORE_LABEL, read_png, read_target
from .matfile import load_numeric

NYU40_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser',
    'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'refrigerator',
    'television', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
    'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
    'otherfurniture', 'otherprop',
)
# The palette ScanNet and most NYU40 tools draw with.
NYU40_COLORS = (
    [174, 199, 232], [152, 223, 138], [31, 119, 180], [255, 187, 120], [188, 189, 34],
    [140, 86, 75], [255, 152, 150], [214, 39, 40], [197, 176, 213], [148, 103, 189],
    [196, 156, 148], [23, 190, 207], [178, 76, 76], [247, 182, 210], [66, 188, 102],
    [219, 219, 141], [140, 57, 197], [202, 185, 52], [51, 176, 203], [200, 54, 131],
    [92, 193, 61], [78, 71, 183], [172, 114, 82], [255, 127, 14], [91, 163, 138],
    [153, 98, 156], [140, 153, 101], [158, 218, 229], [100, 125, 154], [178, 127, 135],
    [120, 185, 128], [146, 111, 194], [44, 160, 44], [112, 128, 144], [96, 207, 209],
    [227, 119, 194], [213, 92, 176], [94, 106, 211], [82, 84, 163], [100, 85, 144],
)
# Kinect RGB intrinsics (pixels, 640x480) of the NYU toolbox; the labelled frames use them.
NYU_K = np.array([[518.857901, 0.0, 325.582449],
                  [0.0, 519.469611, 253.736166],
                  [0.0, 0.0, 1.0]])
SPLIT_KEYS = {'train': 'trainNdxs', 'test': 'testNdxs'}


def nyu40_lut(mapping_path: str) -> np.ndarray:
    """
    Return the (895,) uint8 lookup raw NYU id -> NYU40 id 0-39, 255 for unlabelled (raw 0).

    :param mapping_path: classMapping40.mat with 'mapClass' (1, 894) of NYU40 ids 1-40.
    """
    map_class = load_numeric(mapping_path, ['mapClass'])['mapClass'].ravel().astype(np.int64)
    if map_class.min() < 0 or map_class.max() > len(NYU40_CLASSES):
        raise DatasetFormatError(f'{mapping_path}: mapClass values must lie in 0-40')
    # NYU40 id 0 (if any raw class has it) means 'no class' like raw 0.
    return np.concatenate([[IGNORE_LABEL], np.where(map_class > 0, map_class - 1,
                                                    IGNORE_LABEL)]).astype(np.uint8)


def _clean_depth(depth: np.ndarray) -> np.ndarray:
    depth = np.asarray(depth, np.float32)
    return np.where(np.isfinite(depth) & (depth > 0), depth, 0).astype(np.float32)


class NyudMat:
    """
    The 1449 labelled NYUDv2 frames from `nyu_depth_v2_labeled.mat` (see the module docs).

    :param path: nyu_depth_v2_labeled.mat.
    :param mapping: classMapping40.mat; without it samples have depth only.
    :param splits: splits.mat; with it `split` picks 'train' or 'test' frames.
    :param split: 'train' or 'test' (needs `splits`); None = all frames.
    :param normals: folder of per-frame normals PNGs (see the module docs); frames without
        a file there have no normals.
    :param normals_signs: factors (+1 or -1) applied to the stored x, y, z to reach the
        optical frame, e.g. [1, -1, -1] for normals stored with y up and z towards the
        camera.
    :ivar names: 1-based frame numbers of the selected frames, as 4-digit strings.
    :ivar classes: the 40 NYU40 class names (label i is classes[i]).
    :ivar colors: one [r, g, b] per class.
    :ivar K: (3, 3) Kinect RGB intrinsics in pixels.
    """

    classes = NYU40_CLASSES
    colors = NYU40_COLORS
    K = NYU_K

    def __init__(self, path: str, *, mapping: Optional[str] = None,
                 splits: Optional[str] = None, split: Optional[str] = None,
                 normals: Optional[str] = None, normals_signs: tuple = (1, 1, 1)):
        self.path = path
        self._file, self._pid = None, None
        count = self._check_layout()
        self._lut = nyu40_lut(mapping) if mapping else None
        indices = np.arange(count)
        if split is not None or splits is not None:
            if split not in SPLIT_KEYS or splits is None:
                raise ValueError(f'give both splits= and split= (one of {sorted(SPLIT_KEYS)})')
            key = SPLIT_KEYS[split]
            indices = load_numeric(splits, [key])[key].ravel().astype(np.int64) - 1
            if indices.min() < 0 or indices.max() >= count:
                raise DatasetFormatError(f'{splits}: {key} must hold frame numbers 1-{count}')
        self._indices = indices
        self.names = [f'{i + 1:04d}' for i in indices]
        self._normals, self._signs = normals, np.asarray(normals_signs, np.float32)
        self._with_normals = set()
        if normals is not None:
            if not os.path.isdir(normals):
                raise DatasetFormatError(f'{normals}: normals folder not found')
            if self._signs.shape != (3,) or not np.isin(self._signs, (-1, 1)).all():
                raise ValueError(f'normals_signs must be three of +1/-1, got {normals_signs}')
            self._with_normals = {n for n in self.names
                                  if os.path.isfile(self._normals_path(n))}

    def _normals_path(self, name: str) -> str:
        return os.path.join(self._normals, name + '.png')

    def _check_layout(self) -> int:
        try:
            with h5py.File(self.path, 'r') as f:
                shapes = {key: f[key].shape for key in ('images', 'depths', 'labels')}
        except (OSError, KeyError) as err:
            raise DatasetFormatError(f'{self.path}: not a NYUDv2 labelled file ({err})') from err
        count, channels = shapes['images'][:2]
        plane = shapes['images'][2:]
        if channels != 3 or any(shapes[k] != (count, *plane) for k in ('depths', 'labels')):
            raise DatasetFormatError(f'{self.path}: expected images (N, 3, W, H) and depths, '
                                     f'labels (N, W, H); got {shapes}')
        return count

    def _h5(self) -> h5py.File:
        # One handle per process: HDF5 handles must not cross a DataLoader fork.
        if self._pid != os.getpid():
            self._file, self._pid = h5py.File(self.path, 'r'), os.getpid()
        return self._file

    def __getstate__(self) -> dict:
        # DataLoader workers started by spawn get a copy that reopens the file itself.
        return {**self.__dict__, '_file': None, '_pid': None}

    def __len__(self) -> int:
        return len(self.names)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample `index` has `task` (depth always; labels with a mapping)."""
        return (task == 'depth' or (task == 'segmentation' and self._lut is not None)
                or (task == 'normals' and self.names[index] in self._with_normals))

    def __getitem__(self, index: int) -> Sample:
        f, frame = self._h5(), int(self._indices[index])
        image = np.ascontiguousarray(f['images'][frame].transpose(2, 1, 0))
        targets = {'depth': _clean_depth(f['depths'][frame].T)}
        if self._lut is not None:
            raw = f['labels'][frame].T
            if raw.max() >= len(self._lut):
                raise DatasetFormatError(f'{self.path}: frame {frame + 1} has raw label '
                                         f'{int(raw.max())} beyond the class mapping')
            targets['segmentation'] = self._lut[raw]
        if self.has(index, 'normals'):
            path = self._normals_path(self.names[index])
            normals = read_target(path, 'normals') * self._signs
            if normals.shape[:2] != image.shape[:2]:
                raise DatasetFormatError(f'{path}: size {normals.shape[:2]} differs from its '
                                         f'image {image.shape[:2]}')
            targets['normals'] = normals
        return Sample(name=self.names[index], image=image, targets=targets)


_RGB = re.compile(r'^rgb_(.+)\.(jpg|jpeg|png)$', re.IGNORECASE)
_DEPTH = re.compile(r'^(?:sync_)?depth_(.+)\.png$', re.IGNORECASE)


def _match(rgb: dict, depth: dict, max_time_diff: Optional[float]) -> list:
    """Return sorted (key, rgb file, depth file) pairs of one scene."""
    pairs = [(k, rgb[k], depth[k]) for k in rgb if k in depth]
    if max_time_diff is not None and depth:
        try:
            times = {float(k): f for k, f in depth.items()}
            stamps = np.array(sorted(times))
            for key in sorted(set(rgb) - set(depth)):
                nearest = stamps[np.abs(stamps - float(key)).argmin()]
                if abs(nearest - float(key)) <= max_time_diff:
                    pairs.append((key, rgb[key], times[nearest]))
        except ValueError as err:
            raise DatasetFormatError(f'max_time_diff needs numeric file keys ({err})') from err
    return sorted(pairs)


class NyudRaw:
    """
    Depth-only samples from pre-extracted NYUDv2 raw frames (layout in the module docs).

    :param root: folder of scene folders.
    :param depth_scale: metres per depth PNG unit (0.001 = millimetres; some releases
        use 1 / 5000).
    :param max_time_diff: seconds; pair by nearest timestamp key when names differ.
    :ivar names: '<scene>/<key>' per sample, sorted.
    :ivar unmatched: number of RGB files left out for lack of depth.
    """

    classes = NYU40_CLASSES
    colors = NYU40_COLORS
    K = NYU_K

    def __init__(self, root: str, *, depth_scale: float = 0.001,
                 max_time_diff: Optional[float] = None):
        if not os.path.isdir(root):
            raise DatasetFormatError(f'{root}: folder not found')
        self.root, self.depth_scale = root, float(depth_scale)
        self._files, self.names, self.unmatched = [], [], 0
        for scene in sorted(os.listdir(root)):
            folder = os.path.join(root, scene)
            if not os.path.isdir(folder):
                continue
            files = os.listdir(folder)
            rgb = {m.group(1): f for f in files if (m := _RGB.match(f))}
            depth = {m.group(1): f for f in files if (m := _DEPTH.match(f))}
            pairs = _match(rgb, depth, max_time_diff)
            self.unmatched += len(rgb) - len(pairs)
            for key, rgb_file, depth_file in pairs:
                self.names.append(f'{scene}/{key}')
                self._files.append((os.path.join(folder, rgb_file),
                                    os.path.join(folder, depth_file)))
        if not self.names:
            raise DatasetFormatError(f'{root}: no <scene>/rgb_<key> with depth_<key>.png found')

    def __len__(self) -> int:
        return len(self.names)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample `index` has `task`: depth only."""
        return task == 'depth'

    def __getitem__(self, index: int) -> Sample:
        rgb_path, depth_path = self._files[index]
        try:
            with Image.open(rgb_path) as img:
                image = np.array(img.convert('RGB'))
        except (UnidentifiedImageError, OSError) as err:
            raise DatasetFormatError(f'{rgb_path}: cannot read image ({err})') from err
        units = read_png(depth_path, ('I;16', 'I;16B', 'I'), 'depth')
        if units.shape != image.shape[:2]:
            raise DatasetFormatError(f'{depth_path}: size {units.shape} differs from its '
                                     f'image {image.shape[:2]}')
        depth = (units.astype(np.float64) * self.depth_scale).astype(np.float32)
        return Sample(name=self.names[index], image=image, targets={'depth': depth})
