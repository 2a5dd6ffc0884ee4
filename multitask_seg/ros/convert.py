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
numpy arrays to sensor_msgs images; camera info rescaling. No rclpy here.

Decoding input messages is ``multitask_seg.image_codecs``' job (shared with the bag
reader); it is re-exported here for the node. Anything undecodable raises FrameError
naming the reason, so the node can count the frame as bad and carry on.
"""

import sys

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from ..image_codecs import (DEPTH_ENCODINGS, FrameError, rgb_from_compressed, rgb_from_image,
                            valid_depth)
from ..tasks import TASKS

# Calibration and image aspect ratios may differ this much (relative) from rounding the
# size of a resized image; more means another sensor mode or crop.
ASPECT_TOLERANCE = 0.01

__all__ = ['DEPTH_ENCODINGS', 'FrameError', 'rgb_from_compressed', 'rgb_from_image',
           'color_message', 'confidence_message', 'depth_message', 'image_message',
           'labels_message', 'scaled_camera_info', 'task_message', 'valid_depth']


def task_message(task: str, published: np.ndarray, header: Header,
                 encoding: str | None = None) -> Image:
    """
    Wrap a task's published array as the Image its registry entry describes.

    :param encoding: one of the task's encodings, or None for its default.
    """
    plane, encoding = TASKS[task].ros.plane(published, encoding)
    return image_message(plane, header, encoding)


def labels_message(labels: np.ndarray, header: Header) -> Image:
    """Wrap (H, W) uint8 or uint16 class ids as a mono8 or mono16 Image."""
    return task_message('segmentation', labels, header)


def confidence_message(confidence: np.ndarray, header: Header) -> Image:
    """Wrap (H, W) probabilities of the predicted classes as a 32FC1 Image."""
    return image_message(np.asarray(confidence, np.float32), header, '32FC1')


def color_message(rgb: np.ndarray, header: Header) -> Image:
    """Wrap an (H, W, 3) uint8 RGB array as an rgb8 Image."""
    return image_message(rgb, header, 'rgb8')


def depth_message(depth: np.ndarray, header: Header, encoding: str) -> Image:
    """Wrap (H, W) float32 metres (NaN invalid) as a depth Image (see ``depth_plane``)."""
    return task_message('depth', depth, header, encoding)


def image_message(array: np.ndarray, header: Header, encoding: str) -> Image:
    """Wrap an (H, W) or (H, W, C) array as an Image of ``encoding``, native byte order."""
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

    :raises: ValueError: the calibration's aspect ratio is not the image's (by more than
        ``ASPECT_TOLERANCE``): it was made for another sensor mode or crop, and stretching
        it would put every point in the wrong place.
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
    if abs(sx - sy) > ASPECT_TOLERANCE * max(sx, sy):
        raise ValueError(f'calibrated for {info.width}x{info.height}, the image is '
                         f'{width}x{height}: another aspect ratio ({info.width / info.height:.3f}'
                         f' vs {width / height:.3f}), so it cannot be scaled to the image')
    k = np.array(info.k, dtype=np.float64).reshape(3, 3)
    k[0] *= sx
    k[1] *= sy
    p = np.array(info.p, dtype=np.float64).reshape(3, 4)
    p[0] *= sx
    p[1] *= sy
    out.k = k.ravel().tolist()
    out.p = p.ravel().tolist()
    return out
