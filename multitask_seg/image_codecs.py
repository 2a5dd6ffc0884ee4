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
Image encodings and their pixel planes, for ROS messages and bag records alike. No ROS here.

Every function takes any object with an Image's fields (``height``, ``width``, ``step``,
``encoding``, ``is_bigendian``, ``data``) or a CompressedImage's (``format``, ``data``):
an rclpy message in the node, a rosbags message in the bag reader and the evaluator. So
the encoding tables and the depth validity rule exist once, and this module imports
neither rclpy nor sensor_msgs.
"""

import io
import struct
from typing import Sequence

import numpy as np
from PIL import JpegImagePlugin, PngImagePlugin

# Colour encodings: channels per pixel, and the order that turns them into RGB.
COLOR_ENCODINGS = {
    'rgb8': (3, [0, 1, 2]),
    'bgr8': (3, [2, 1, 0]),
    'rgba8': (4, [0, 1, 2]),
    'bgra8': (4, [2, 1, 0]),
    'mono8': (1, [0, 0, 0]),
}
# Raw encodings converted by cv_bridge when it is installed.
CV_BRIDGE_PREFIXES = ('bayer_', 'yuv', 'nv21', 'nv24')
COMPRESSED_FORMATS = ('jpeg', 'jpg', 'png')
# compressed_depth_image_transport's formats ('16UC1; compressedDepth png', '... rvl').
COMPRESSED_DEPTH_FORMATS = ('compresseddepth', 'rvl')
# What a compressed stream starts with, and Pillow's header reader for it.
MAGIC_BYTES = {'JPEG': b'\xff\xd8\xff', 'PNG': b'\x89PNG\r\n\x1a\n'}
PIL_DECODERS = {'JPEG': JpegImagePlugin.JpegImageFile, 'PNG': PngImagePlugin.PngImageFile}
# Pillow modes that convert to RGB without losing meaning (16-bit depth PNGs do not).
PIL_MODES = ('1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'CMYK', 'YCbCr')
# One-channel class-id planes: numpy dtype of each encoding.
LABEL_ENCODINGS = {'mono8': 'u1', '8UC1': 'u1', 'mono16': 'u2', '16UC1': 'u2'}
# Depth planes the package writes (REP 118): numpy dtype and metres per unit.
DEPTH_ENCODINGS = {'32FC1': ('f4', 1.0), '16UC1': ('u2', 0.001)}
_NAN_BITS = np.float32(np.nan).view(np.int32)
# Ground truth may also come as mono16 millimetres (some RGB-D drivers record that).
TRUTH_DEPTH_ENCODINGS = {**DEPTH_ENCODINGS, 'mono16': ('u2', 0.001)}


class FrameError(ValueError):
    """A message that cannot be turned into an image or plane; the text says why."""


def check_size(height: int, width: int, max_pixels: int) -> None:
    """Raise FrameError for an empty image or one of more than ``max_pixels`` pixels."""
    if height < 1 or width < 1:
        raise FrameError(f'empty image ({height}x{width})')
    if height * width > max_pixels:
        raise FrameError(f'image {height}x{width} is larger than max_pixels={max_pixels}')


def rgb_from_image(msg: object, max_pixels: int) -> np.ndarray:
    """
    Return a raw Image as a new (H, W, 3) uint8 RGB array (writable, C-contiguous).

    :raises: FrameError: unsupported encoding, empty or too large image, ``step`` shorter than
        a row, or ``data`` not ``step * height`` bytes long.
    """
    if msg.encoding.startswith(CV_BRIDGE_PREFIXES):
        return _rgb_via_cv_bridge(msg, max_pixels)
    if msg.encoding not in COLOR_ENCODINGS:
        raise FrameError(f'unsupported encoding {msg.encoding!r} (supported: '
                         f'{", ".join(COLOR_ENCODINGS)}; bayer and yuv with cv_bridge)')
    channels, order = COLOR_ENCODINGS[msg.encoding]
    height, width, step = msg.height, msg.width, msg.step
    # Size first: a huge header must be rejected before its data is looked at.
    check_size(height, width, max_pixels)
    row = width * channels
    if step < row:
        raise FrameError(f'step {step} is shorter than a row ({width} x {channels} bytes)')
    if len(msg.data) != step * height:
        raise FrameError(f'data has {len(msg.data)} bytes, step x height is {step * height}')
    rows = np.frombuffer(msg.data, np.uint8).reshape(height, step)
    pixels = rows[:, :row].reshape(height, width, channels)
    if msg.encoding == 'rgb8':
        return np.ascontiguousarray(pixels) if step != row else pixels.copy()
    return np.ascontiguousarray(pixels[..., order])


def _rgb_via_cv_bridge(msg: object, max_pixels: int) -> np.ndarray:
    # Demosaicing and YUV conversion are OpenCV's job; use ROS's cv_bridge where the robot
    # has it rather than re-implementing them here.
    check_size(msg.height, msg.width, max_pixels)
    try:
        from cv_bridge import CvBridge
    except ImportError:
        raise FrameError(f'encoding {msg.encoding!r} needs cv_bridge (ros-<distro>-cv-bridge),'
                         f' which is not installed') from None
    try:
        rgb = np.asarray(CvBridge().imgmsg_to_cv2(msg, desired_encoding='rgb8'))
    except Exception as exc:  # cv_bridge raises CvBridgeError and cv2.error alike
        raise FrameError(f'cv_bridge cannot convert {msg.encoding!r}: {exc}') from exc
    if rgb.shape != (msg.height, msg.width, 3) or rgb.dtype != np.uint8:
        raise FrameError(f'cv_bridge gave {rgb.shape} {rgb.dtype} for {msg.encoding!r}')
    return np.ascontiguousarray(rgb)


def rgb_from_compressed(msg: object, max_pixels: int) -> np.ndarray:
    """
    Decode a JPEG or PNG CompressedImage to a new (H, W, 3) uint8 RGB array.

    ``format`` may be plain ('jpeg'), image_transport's ('bgr8; jpeg compressed bgr8') or
    empty; the data's magic bytes decide how it is decoded. The compressed stream itself is
    always in RGB order. The size is read from the header and checked against
    ``max_pixels`` before anything is decoded.

    :raises: FrameError: a depth format (compressedDepth, rvl), another format, empty,
        truncated or corrupt data, data that is neither JPEG nor PNG, an unsuitable pixel
        mode (such as 16-bit depth PNGs) or an empty or too large image.
    """
    fmt = msg.format.lower()
    if any(name in fmt for name in COMPRESSED_DEPTH_FORMATS):
        raise FrameError(f'format {msg.format!r} is a compressed depth image '
                         f'(compressed_depth_image_transport), not a colour image')
    if fmt and not any(name in fmt for name in COMPRESSED_FORMATS):
        raise FrameError(f'unsupported compressed format {msg.format!r} (use jpeg or png)')
    data = bytes(msg.data)
    if not data:
        raise FrameError('compressed image has no data (0 bytes)')
    kind = next((name for name, magic in MAGIC_BYTES.items() if data.startswith(magic)),
                None)
    if kind is None:
        raise FrameError(f'data is neither JPEG nor PNG (format {msg.format!r}, '
                         f'{len(data)} bytes starting {data[:8].hex(" ")})')
    try:
        # The plugin reads only the header; Image.open would also apply Pillow's own
        # decompression-bomb limit, which must not pre-empt max_pixels.
        image = PIL_DECODERS[kind](io.BytesIO(data))
    except (OSError, ValueError, SyntaxError, IndexError, struct.error) as exc:
        raise FrameError(f'truncated or corrupt {kind} header ({len(data)} bytes): '
                         f'{exc}') from exc
    check_size(image.height, image.width, max_pixels)
    if image.mode not in PIL_MODES:
        raise FrameError(f'compressed image has pixel mode {image.mode!r}, not a colour '
                         f'or grey image')
    try:
        return np.array(image.convert('RGB'))
    except (OSError, ValueError, SyntaxError) as exc:
        raise FrameError(f'truncated or corrupt {kind} data ({len(data)} bytes, '
                         f'{image.width}x{image.height}): {exc}') from exc


def plane(msg: object, dtype: str) -> np.ndarray:
    """Return an (H, W) native-order array of a one-channel Image, honouring step."""
    item = np.dtype(dtype).newbyteorder('>' if msg.is_bigendian else '<')
    row = msg.width * item.itemsize
    if msg.step < row or len(msg.data) != msg.step * msg.height:
        raise FrameError(f'step {msg.step} and {len(msg.data)} bytes do not fit '
                         f'{msg.height}x{msg.width} {msg.encoding}')
    rows = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)[:, :row]
    return np.ascontiguousarray(rows).view(item).reshape(msg.height, msg.width).astype(
        item.newbyteorder('='))


def labels_from_image(msg: object) -> np.ndarray:
    """Return the (H, W) uint8 or uint16 class ids of a label Image."""
    if msg.encoding not in LABEL_ENCODINGS:
        raise FrameError(f'labels encoding {msg.encoding!r} is not one of '
                         f'{sorted(LABEL_ENCODINGS)}')
    return plane(msg, LABEL_ENCODINGS[msg.encoding])


def depth_from_image(msg: object, scale: float | None = None,
                     encodings: dict = DEPTH_ENCODINGS) -> np.ndarray:
    """
    Return the (H, W) float32 metres of a depth Image, 0 where it holds no valid depth.

    :param scale: metres per unit; None takes REP 118's (1 for 32FC1, 0.001 for 16UC1).
    :param encodings: the accepted table (``TRUTH_DEPTH_ENCODINGS`` also takes mono16).
    """
    if msg.encoding not in encodings:
        raise FrameError(f'depth encoding {msg.encoding!r} is not one of {sorted(encodings)}')
    dtype, default_scale = encodings[msg.encoding]
    depth = plane(msg, dtype) * np.float32(scale or default_scale)
    return np.where(np.isfinite(depth) & (depth > 0), depth, 0).astype(np.float32)


def valid_depth(depth: np.ndarray, valid_range: Sequence[float]) -> np.ndarray:
    """
    Return (H, W) float32 metres with NaN where a prediction is not trusted.

    The inference core clips depth to the range the model was trained on, so values at
    either end of ``valid_range`` (or beyond) stand for 'outside it' and become NaN. Every
    writer of predicted depth applies this before ``depth_plane``. Float32 depth with every
    pixel inside the range is returned itself, uncopied: two reductions cost a sixth of the
    copy and masking (0.04 against 0.25 ms per 640x480 frame, cached), and a trained
    model's depth is mostly inside its range.
    """
    low, high = valid_range
    if depth.dtype == np.float32 and depth.size and low < depth.min() and depth.max() < high:
        return depth  # also no NaN: a NaN makes min() NaN, and the comparison false
    depth = depth.astype(np.float32, copy=True)
    with np.errstate(invalid='ignore'):
        depth[~((depth > low) & (depth < high))] = np.nan
    return depth


def _nan_where_not(valid: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Return float32 ``depth`` with NaN where not ``valid``, by bit masks."""
    # np.where on a mask mixed like predicted depth's (many invalid pixels) costs 1.7 ms per
    # 640x480 frame on this CPU; selecting bits with integer AND / OR costs 0.4 ms.
    keep = -valid.view(np.int8).astype(np.int32)  # all bits set where valid
    bits = depth.view(np.int32) & keep
    bits |= _NAN_BITS & ~keep
    return bits.view(np.float32)


def depth_plane(depth: np.ndarray, encoding: str) -> np.ndarray:
    """
    Encode (H, W) metres as a REP 118 depth plane; the one validity rule of every writer.

    Depth that is not finite, not positive, or that the encoding cannot represent is
    invalid: NaN in '32FC1' (metres), 0 in '16UC1' (millimetres, rounded; beyond
    65.535 m or rounding to 0 mm it cannot be held, so it is not clipped to a false value).
    A '32FC1' plane may be ``depth`` itself, when it already has NaN at every invalid pixel.
    """
    depth = np.asarray(depth, np.float32)
    with np.errstate(invalid='ignore'):
        if encoding == '32FC1' and not ((depth <= 0) | np.isinf(depth)).any():
            # Published predictions come NaN wherever invalid (valid_depth): checking that
            # took 0.2 ms per 640x480 frame, masking again 1.6 ms, in the node.
            return depth
        valid = np.isfinite(depth) & (depth > 0)
    if encoding == '32FC1':
        return _nan_where_not(valid, depth)
    if encoding == '16UC1':
        per_metre = round(1 / DEPTH_ENCODINGS['16UC1'][1])
        millimetres = np.rint(np.where(valid, depth, 0).astype(np.float64) * per_metre)
        held = valid & (millimetres >= 1) & (millimetres <= np.iinfo(np.uint16).max)
        return np.where(held, millimetres, 0).astype(np.uint16)
    raise ValueError(f'depth encoding must be one of {tuple(DEPTH_ENCODINGS)}, got '
                     f'{encoding!r}')
