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
The dataset folder layout and its file codecs.

    root/
      images/<name>.png         RGB, 8 bit
      segmentation/<name>.png   class ids, 8-bit grey, 255 = ignore   (optional per sample)
      depth/<name>.png          depth in 1/scale m, 16-bit grey, 0 = invalid  (optional)
      normals/<name>.png        unit vectors, 8-bit RGB, n = v / 255 * 2 - 1, (0, 0, 0) =
                                invalid                                (optional per sample)
      camera.yaml               ROS camera_info YAML: K, width, height, zero distortion
      meta.yaml                 domain, class names, class colours, depth_png.scale

The depth scale (units per metre) is meta.yaml's depth_png.scale: 1000 (millimetres, up to
65.535 m; the default, and what folders without the key hold) or, for outdoor data, 256
(KITTI's 1/256 m, up to 255.99 m). A value the scale cannot hold is refused, never
written as a different one.

A sample without a file in an annotation folder has no annotation for that task. Each
task's folder and PNG codec are its rules in ``multitask_seg.tasks``.
"""

import os
from typing import Optional, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError
import yaml

from ..tasks import (DEPTH_PNG_SCALE, depth_scale_for, IGNORE_LABEL, KITTI_DEPTH_SCALE,
                     MAX_PNG_DEPTH, max_png_depth, png_to_depth, TASKS)
from ..tasks import depth_to_png as _depth_to_png

__all__ = ['CAMERA_FILE', 'DatasetFormatError', 'DEPTH_PNG_SCALE', 'IGNORE_LABEL', 'IMAGE_DIR',
           'KITTI_DEPTH_SCALE', 'MAX_PNG_DEPTH', 'META_FILE', 'TASK_DIRS', 'camera_yaml',
           'depth_scale_for', 'depth_to_png', 'load_yaml', 'max_png_depth', 'meta_yaml',
           'parse_camera', 'parse_depth_scale', 'parse_meta', 'png_to_depth', 'read_png',
           'read_target', 'write_png', 'write_target']

IMAGE_DIR = 'images'
TASK_DIRS = {name: task.codec.folder for name, task in TASKS.items()}
CAMERA_FILE = 'camera.yaml'
META_FILE = 'meta.yaml'


class DatasetFormatError(ValueError):
    """A dataset file is missing, unreadable or inconsistent; the message names the file."""


def depth_to_png(depth: np.ndarray, scale: float = DEPTH_PNG_SCALE,
                 what: str = 'depth') -> np.ndarray:
    """``multitask_seg.tasks.depth_to_png``, raising DatasetFormatError naming ``what``."""
    try:
        return _depth_to_png(depth, scale, what)
    except ValueError as exc:
        raise DatasetFormatError(str(exc)) from exc


def read_png(path: str, modes: Sequence[str], what: str) -> np.ndarray:
    """Read a PNG whose Pillow mode is one of `modes`; raise DatasetFormatError naming the file."""
    if not os.path.isfile(path):
        raise DatasetFormatError(f'{path}: file not found')
    try:
        with Image.open(path) as img:
            img.load()
            if img.format != 'PNG':
                raise DatasetFormatError(f'{path}: expected a PNG file, got {img.format}')
            if img.mode not in modes:
                raise DatasetFormatError(
                    f'{path}: {what} must be a PNG of mode {" or ".join(modes)}, got mode '
                    f'{img.mode!r}')
            return np.array(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        if isinstance(err, DatasetFormatError):
            raise
        raise DatasetFormatError(f'{path}: cannot read {what} PNG ({err})') from err


def read_target(path: str, task: str, scale: float = DEPTH_PNG_SCALE) -> np.ndarray:
    """
    Read a task's annotation PNG and decode it with the task's codec (see the docs).

    :param scale: the folder's depth units per metre, for codecs that take one.
    """
    codec = TASKS[task].codec
    png = read_png(path, codec.modes, task)
    return codec.decode(png, scale) if codec.scaled else codec.decode(png)


def write_target(path: str, task: str, target: np.ndarray,
                 scale: float = DEPTH_PNG_SCALE) -> None:
    """
    Encode a task's annotation with the task's codec and write it as PNG.

    :raises: DatasetFormatError: a value the codec cannot hold, naming the file.
    """
    codec = TASKS[task].codec
    try:
        png = codec.encode(target, scale, path) if codec.scaled else codec.encode(target)
    except ValueError as exc:
        raise DatasetFormatError(str(exc) if path in str(exc) else f'{path}: {exc}') from exc
    write_png(path, png)


def write_png(path: str, array: np.ndarray) -> None:
    """Write uint8 (H, W) / (H, W, 3) or uint16 (H, W) arrays losslessly as PNG."""
    if array.dtype == np.uint16:
        img = Image.frombytes('I;16', (array.shape[1], array.shape[0]),
                              np.ascontiguousarray(array, '<u2').tobytes())
    else:
        img = Image.fromarray(array)
    img.save(path, format='PNG')


def camera_yaml(K: np.ndarray, width: int, height: int, name: str) -> dict:
    """Return the ROS camera_info YAML dictionary of an undistorted pinhole camera."""
    K = np.asarray(K, np.float64)
    P = np.concatenate([K, np.zeros((3, 1))], axis=1)
    return {
        'image_width': int(width), 'image_height': int(height), 'camera_name': name,
        'camera_matrix': {'rows': 3, 'cols': 3, 'data': K.ravel().tolist()},
        'distortion_model': 'plumb_bob',
        'distortion_coefficients': {'rows': 1, 'cols': 5, 'data': [0.0] * 5},
        'rectification_matrix': {'rows': 3, 'cols': 3, 'data': np.eye(3).ravel().tolist()},
        'projection_matrix': {'rows': 3, 'cols': 4, 'data': P.ravel().tolist()},
    }


def load_yaml(path: str) -> dict:
    """Load a YAML mapping; raise DatasetFormatError naming the file on any problem."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except FileNotFoundError as err:
        raise DatasetFormatError(f'{path}: file not found') from err
    except yaml.YAMLError as err:
        raise DatasetFormatError(f'{path}: invalid YAML ({err})') from err
    if not isinstance(data, dict):
        raise DatasetFormatError(f'{path}: expected a YAML mapping')
    return data


def parse_camera(path: str) -> tuple:
    """Return (K (3, 3) float64, width, height) from a camera.yaml."""
    data = load_yaml(path)
    try:
        K = np.array(data['camera_matrix']['data'], np.float64).reshape(3, 3)
        width, height = int(data['image_width']), int(data['image_height'])
    except (KeyError, TypeError, ValueError) as err:
        raise DatasetFormatError(f'{path}: bad camera description ({err!r})') from err
    coeffs = data.get('distortion_coefficients', {}).get('data', [])
    if any(float(c) != 0.0 for c in coeffs):
        raise DatasetFormatError(f'{path}: distorted cameras are not supported')
    return K, width, height


def parse_meta(path: str) -> tuple:
    """Return (domain or None, class names tuple, colours tuple of [r, g, b]) from meta.yaml."""
    data = load_yaml(path)
    classes = data.get('classes', [])
    colors = data.get('colors', [])
    if not all(isinstance(c, str) for c in classes):
        raise DatasetFormatError(f'{path}: classes must be a list of names')
    if len(colors) != len(classes) or not all(
            isinstance(c, list) and len(c) == 3 for c in colors):
        raise DatasetFormatError(f'{path}: colors must list one [r, g, b] per class')
    return data.get('domain'), tuple(classes), tuple(list(map(int, c)) for c in colors)


def parse_depth_scale(path: str) -> float:
    """Return meta.yaml's depth PNG units per metre (millimetres when it names none)."""
    if not os.path.isfile(path):
        return DEPTH_PNG_SCALE
    depth_png = load_yaml(path).get('depth_png') or {}
    scale = depth_png.get('scale', DEPTH_PNG_SCALE) if isinstance(depth_png, dict) else None
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise DatasetFormatError(f'{path}: depth_png.scale must be a positive number of '
                                 f'units per metre, got {scale!r}')
    return float(scale)


def meta_yaml(domain: Optional[str], classes: Sequence[str], colors: Sequence,
              depth_scale: float = DEPTH_PNG_SCALE) -> dict:
    """Return the meta.yaml dictionary; ``depth_scale``: depth PNG units per metre."""
    units = 'millimetres' if depth_scale == DEPTH_PNG_SCALE else f'1/{depth_scale:g} m'
    return {
        'domain': domain, 'classes': list(classes),
        'colors': [[int(v) for v in c] for c in colors], 'ignore_label': IGNORE_LABEL,
        **{f'{name}_png': dict(task.codec.meta) for name, task in TASKS.items()},
        'depth_png': {'units': units, 'scale': float(depth_scale), 'invalid': 0,
                      'max_metres': round(max_png_depth(depth_scale), 4)},
    }
