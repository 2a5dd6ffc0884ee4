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
      camera.yaml               ROS camera_info YAML: K, width, height, zero distortion
      meta.yaml                 domain, class names, class colours, depth_png.scale

The depth scale (units per metre) is meta.yaml's depth_png.scale: 1000 (millimetres, up to
65.535 m; the default, and what folders without the key hold) or, for outdoor data, 256
(KITTI's 1/256 m, up to 255.99 m). A value the scale cannot hold is refused, never
written as a different one.

A sample without a file in an annotation folder has no annotation for that task.
"""

import os
from typing import Optional, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError
import yaml

IMAGE_DIR = 'images'
TASK_DIRS = {'segmentation': 'segmentation', 'depth': 'depth'}
CAMERA_FILE = 'camera.yaml'
META_FILE = 'meta.yaml'
IGNORE_LABEL = 255
# Depth PNG units per metre: millimetres by default, KITTI's 1/256 m for far ranges.
DEPTH_PNG_SCALE = 1000.0
KITTI_DEPTH_SCALE = 256.0


class DatasetFormatError(ValueError):
    """A dataset file is missing, unreadable or inconsistent; the message names the file."""


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
    :raises: DatasetFormatError: a valid depth the scale cannot hold (beyond 65535 / scale
        metres, or so small it would round to 0 = invalid).
    """
    depth = np.asarray(depth, np.float64)
    with np.errstate(invalid='ignore'):
        valid = np.isfinite(depth) & (depth > 0)
    units = np.round(np.where(valid, depth, 0.0) * scale)
    bad = valid & ((units > 65535) | (units < 1))
    if bad.any():
        value = float(depth[bad].max() if (units[bad] > 65535).any() else depth[bad].min())
        raise DatasetFormatError(
            f'{what}: depth {value:.6g} m cannot be stored at {scale:g} units per metre '
            f'(valid depth is {1 / scale:.4g}-{max_png_depth(scale):.6g} m); write the set '
            f'with depth_scale={KITTI_DEPTH_SCALE:g} (1/256 m, up to '
            f'{max_png_depth(KITTI_DEPTH_SCALE):.2f} m) or mark such depth invalid (0)')
    return units.astype(np.uint16)


def png_to_depth(units: np.ndarray, scale: float = DEPTH_PNG_SCALE) -> np.ndarray:
    """Decode uint16 units of 1/``scale`` m into (H, W) float32 metres, 0 = invalid."""
    return (units.astype(np.float32) / np.float32(scale)).astype(np.float32)


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
        'depth_png': {'units': units, 'scale': float(depth_scale), 'invalid': 0,
                      'max_metres': round(max_png_depth(depth_scale), 4)},
    }
