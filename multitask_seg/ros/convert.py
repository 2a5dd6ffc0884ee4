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
sensor_msgs images to numpy RGB arrays and back; camera info rescaling. No rclpy here.

Input images: Image in rgb8, bgr8, rgba8, bgra8 or mono8 (row padding in ``step``
honoured), bayer and yuv encodings through cv_bridge where it is installed, or
CompressedImage in JPEG or PNG. Anything else raises FrameError naming the
reason, so the node can count the frame as bad and carry on.
"""

import io
import sys
from typing import Sequence

import numpy as np
from PIL import Image as PilImage
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

# Channels per pixel, and the order that turns them into RGB.
ENCODINGS = {
    'rgb8': (3, [0, 1, 2]),
    'bgr8': (3, [2, 1, 0]),
    'rgba8': (4, [0, 1, 2]),
    'bgra8': (4, [2, 1, 0]),
    'mono8': (1, [0, 0, 0]),
}
# Raw encodings converted by cv_bridge when it is installed.
CV_BRIDGE_PREFIXES = ('bayer_', 'yuv', 'nv21', 'nv24')
COMPRESSED_FORMATS = ('jpeg', 'jpg', 'png')
# Pillow modes that convert to RGB without losing meaning (16-bit depth PNGs do not).
PIL_MODES = ('1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'CMYK', 'YCbCr')
DEPTH_ENCODINGS = ('32FC1', '16UC1')


class FrameError(ValueError):
    """A message that cannot be turned into an RGB image; the text says why."""


def _check_size(height: int, width: int, max_pixels: int) -> None:
    if height < 1 or width < 1:
        raise FrameError(f'empty image ({height}x{width})')
    if height * width > max_pixels:
        raise FrameError(f'image {height}x{width} is larger than max_pixels={max_pixels}')


def rgb_from_image(msg: Image, max_pixels: int) -> np.ndarray:
    """
    Return a raw Image as a new (H, W, 3) uint8 RGB array (writable, C-contiguous).

    :raises: FrameError: unsupported encoding, empty or too large image, ``step`` shorter than
        a row, or ``data`` not ``step * height`` bytes long.
    """
    if msg.encoding.startswith(CV_BRIDGE_PREFIXES):
        return _rgb_via_cv_bridge(msg, max_pixels)
    if msg.encoding not in ENCODINGS:
        raise FrameError(f'unsupported encoding {msg.encoding!r} '
                         f'(supported: {", ".join(ENCODINGS)}; bayer and yuv with cv_bridge)')
    channels, order = ENCODINGS[msg.encoding]
    height, width, step = msg.height, msg.width, msg.step
    # Size first: a huge header must be rejected before its data is looked at.
    _check_size(height, width, max_pixels)
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


def _rgb_via_cv_bridge(msg: Image, max_pixels: int) -> np.ndarray:
    # Demosaicing and YUV conversion are OpenCV's job; use ROS's cv_bridge where the robot
    # has it rather than re-implementing them here.
    _check_size(msg.height, msg.width, max_pixels)
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


def rgb_from_compressed(msg: CompressedImage, max_pixels: int) -> np.ndarray:
    """
    Decode a JPEG or PNG CompressedImage to a new (H, W, 3) uint8 RGB array.

    ``format`` may be plain ('jpeg') or image_transport's ('bgr8; jpeg compressed bgr8');
    the compressed stream itself is always in RGB order.

    :raises: FrameError: another format, undecodable data, an unsuitable pixel mode (such as
        16-bit depth PNGs) or an empty or too large image.
    """
    fmt = msg.format.lower()
    if not any(name in fmt for name in COMPRESSED_FORMATS):
        raise FrameError(f'unsupported compressed format {msg.format!r} (use jpeg or png)')
    try:
        image = PilImage.open(io.BytesIO(bytes(msg.data)))
        # Opening reads only the header, so the size is checked before decoding.
        _check_size(image.height, image.width, max_pixels)
        if image.mode not in PIL_MODES:
            raise FrameError(f'compressed image has pixel mode {image.mode!r}, not a colour '
                             f'or grey image')
        return np.array(image.convert('RGB'))
    except FrameError:
        raise
    except (OSError, ValueError, PilImage.DecompressionBombError) as exc:
        raise FrameError(f'cannot decode {msg.format!r} data: {exc}') from exc


def labels_message(labels: np.ndarray, header: Header) -> Image:
    """Wrap (H, W) uint8 or uint16 class ids as a mono8 or mono16 Image."""
    encoding = 'mono8' if labels.dtype == np.uint8 else 'mono16'
    return _image_message(labels, header, encoding)


def color_message(rgb: np.ndarray, header: Header) -> Image:
    """Wrap an (H, W, 3) uint8 RGB array as an rgb8 Image."""
    return _image_message(rgb, header, 'rgb8')


def valid_depth(depth: np.ndarray, valid_range: Sequence[float]) -> np.ndarray:
    """
    Return (H, W) float32 metres with NaN where the prediction is not trusted.

    The predictor clips depth to the range the model was trained on, so values at either
    end of ``valid_range`` stand for 'outside it' and become NaN.
    """
    low, high = valid_range
    depth = depth.astype(np.float32, copy=True)
    with np.errstate(invalid='ignore'):
        depth[~((depth > low) & (depth < high))] = np.nan
    return depth


def depth_message(depth: np.ndarray, header: Header, encoding: str) -> Image:
    """
    Wrap (H, W) float32 metres (NaN invalid) as a depth Image in REP 118 units.

    '32FC1': metres, NaN invalid. '16UC1': millimetres rounded and capped at 65535,
    0 invalid.
    """
    if encoding == '32FC1':
        out = depth.astype(np.float32, copy=False)
    elif encoding == '16UC1':
        finite = np.isfinite(depth)
        millimetres = np.clip(np.rint(np.where(finite, depth, 0) * 1000.0), 1, 65535)
        out = np.where(finite, millimetres, 0).astype(np.uint16)
    else:
        raise ValueError(f'depth encoding must be one of {DEPTH_ENCODINGS}, got {encoding!r}')
    return _image_message(out, header, encoding)


def _image_message(array: np.ndarray, header: Header, encoding: str) -> Image:
    array = np.ascontiguousarray(array)
    msg = Image()
    msg.header = header
    msg.height, msg.width = array.shape[:2]
    msg.encoding = encoding
    msg.is_bigendian = int(sys.byteorder == 'big' and array.dtype.itemsize > 1)
    msg.step = array[0].nbytes
    # bytes is the fast path: assigning an ndarray goes element by element.
    msg.data = array.tobytes()
    return msg


def scaled_camera_info(info: CameraInfo, height: int, width: int,
                       header: Header) -> CameraInfo:
    """
    Return camera info for an image of ``height`` x ``width`` with ``header``.

    When the calibration was made at another resolution, K and P are scaled as
    image_proc's resize does (focal lengths and principal point times the size ratio);
    distortion is unitless and kept. An uncalibrated info (zero size) is only resized.
    """
    out = CameraInfo()
    out.header = header
    out.distortion_model = info.distortion_model
    out.d = list(info.d)
    out.r = list(info.r)
    out.k = list(info.k)
    out.p = list(info.p)
    out.height, out.width = height, width
    same = (info.height, info.width) in ((height, width), (0, 0))
    if same:
        out.binning_x, out.binning_y, out.roi = info.binning_x, info.binning_y, info.roi
        return out
    sx, sy = width / info.width, height / info.height
    k = np.array(info.k, dtype=np.float64).reshape(3, 3)
    k[0] *= sx
    k[1] *= sy
    p = np.array(info.p, dtype=np.float64).reshape(3, 4)
    p[0] *= sx
    p[1] *= sy
    out.k = k.ravel().tolist()
    out.p = p.ravel().tolist()
    return out
