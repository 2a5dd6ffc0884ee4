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
Organised point clouds from a depth image and its pixels' rays. No rclpy here.

The layout is what sensor_msgs_py.point_cloud2 and rviz read: x, y, z float32 metres in
the camera's optical frame (x right, y down, z forward), rgb as a float32 whose bits are
0x00RRGGBB, and label, the uint32 class id; 20 bytes per point, little-endian.
Pixels without valid depth become NaN points, so the cloud keeps its image layout.
"""

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

POINT_DTYPE = np.dtype({
    'names': ['x', 'y', 'z', 'rgb', 'label'],
    'formats': ['<f4', '<f4', '<f4', '<f4', '<u4'],
    'offsets': [0, 4, 8, 12, 16],
    'itemsize': 20,
})
FIELDS = [
    PointField(name='x', offset=0, datatype=PointField.FLOAT32, count=1),
    PointField(name='y', offset=4, datatype=PointField.FLOAT32, count=1),
    PointField(name='z', offset=8, datatype=PointField.FLOAT32, count=1),
    PointField(name='rgb', offset=12, datatype=PointField.FLOAT32, count=1),
    PointField(name='label', offset=16, datatype=PointField.UINT32, count=1),
]


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """Pack (..., 3) uint8 RGB into (...) float32 values with bits 0x00RRGGBB (rviz)."""
    rgb = rgb.astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return packed.view(np.float32)


def cloud_points(depth: np.ndarray, rays: np.ndarray, rgb: np.ndarray, labels: np.ndarray,
                 decimation: int = 1) -> np.ndarray:
    """
    Back-project a depth image to an organised structured array of POINT_DTYPE.

    :param depth: (H, W) float32 metres along the optical axis; NaN (or any non-finite
        value) is invalid.
    :param rays: (ceil(H / n), ceil(W / n), 2) unit-z rays of the kept pixels, from
        ``rays.ray_table`` (undistorted; NaN where the calibration gives none).
    :param rgb: (H, W, 3) uint8 colour per pixel.
    :param labels: (H, W) class ids.
    :param decimation: keep every n-th row and column, pixel (0, 0) first.

    :return: (ceil(H / n), ceil(W / n)) POINT_DTYPE array: (x, y, z) = (rx z, ry z, z).
    """
    if decimation < 1:
        raise ValueError(f'decimation must be >= 1, got {decimation}')
    step = slice(None, None, decimation)
    z = depth[step, step].astype(np.float32)
    if rays.shape != (*z.shape, 2):
        raise ValueError(f'ray table {rays.shape[:2]} does not fit the decimated depth '
                         f'image {z.shape}')
    z = np.where(np.isfinite(z) & np.isfinite(rays[..., 0]), z, np.float32(np.nan))
    points = np.empty(z.shape, POINT_DTYPE)
    points['x'] = rays[..., 0] * z
    points['y'] = rays[..., 1] * z
    points['z'] = z
    points['rgb'] = pack_rgb(rgb[step, step])
    points['label'] = labels[step, step]
    return points


def cloud_message(points: np.ndarray, header: Header) -> PointCloud2:
    """Wrap an organised (rows, cols) POINT_DTYPE array as a PointCloud2."""
    msg = PointCloud2()
    msg.header = header
    msg.height, msg.width = points.shape
    msg.fields = FIELDS
    msg.is_bigendian = False
    msg.point_step = POINT_DTYPE.itemsize
    msg.row_step = POINT_DTYPE.itemsize * points.shape[1]
    msg.is_dense = bool(np.isfinite(points['z']).all())
    msg.data = np.ascontiguousarray(points).tobytes()
    return msg
