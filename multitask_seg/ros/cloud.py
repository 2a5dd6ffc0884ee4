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
0x00RRGGBB, and label, the uint32 class id; 20 bytes per point, little-endian. A model
with surface normals adds normal_x, normal_y, normal_z (float32, the unit normal in the
optical frame, as PCL's PointNormal names them; 32 bytes per point).
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
NORMAL_POINT_DTYPE = np.dtype({
    'names': POINT_DTYPE.names + ('normal_x', 'normal_y', 'normal_z'),
    'formats': ['<f4', '<f4', '<f4', '<f4', '<u4', '<f4', '<f4', '<f4'],
    'offsets': [0, 4, 8, 12, 16, 20, 24, 28],
    'itemsize': 32,
})
DATATYPES = {np.dtype('<f4'): PointField.FLOAT32, np.dtype('<u4'): PointField.UINT32}


def point_fields(dtype: np.dtype) -> list[PointField]:
    """Return the PointFields that describe a structured point dtype."""
    return [PointField(name=name, offset=offset, datatype=DATATYPES[field], count=1)
            for name, (field, offset) in dtype.fields.items()]


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """Pack (..., 3) uint8 RGB into (...) float32 values with bits 0x00RRGGBB (rviz)."""
    rgb = rgb.astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return packed.view(np.float32)


def cloud_points(depth: np.ndarray, rays: np.ndarray, rgb: np.ndarray, labels: np.ndarray,
                 decimation: int = 1, normals: np.ndarray | None = None) -> np.ndarray:
    """
    Back-project a depth image to an organised structured array of POINT_DTYPE.

    :param depth: (H, W) float32 metres along the optical axis; NaN (or any non-finite
        value) is invalid.
    :param rays: (ceil(H / n), ceil(W / n), 2) unit-z rays of the kept pixels, from
        ``rays.ray_table`` (undistorted; NaN where the calibration gives none).
    :param rgb: (H, W, 3) uint8 colour per pixel.
    :param labels: (H, W) class ids.
    :param decimation: keep every n-th row and column, pixel (0, 0) first.
    :param normals: (H, W, 3) unit normals per pixel, or None.

    :return: (ceil(H / n), ceil(W / n)) POINT_DTYPE array (NORMAL_POINT_DTYPE with
        normals): (x, y, z) = (rx z, ry z, z).
    """
    if decimation < 1:
        raise ValueError(f'decimation must be >= 1, got {decimation}')
    step = slice(None, None, decimation)
    z = depth[step, step].astype(np.float32)
    if rays.shape != (*z.shape, 2):
        raise ValueError(f'ray table {rays.shape[:2]} does not fit the decimated depth '
                         f'image {z.shape}')
    z = np.where(np.isfinite(z) & np.isfinite(rays[..., 0]), z, np.float32(np.nan))
    points = np.empty(z.shape, POINT_DTYPE if normals is None else NORMAL_POINT_DTYPE)
    points['x'] = rays[..., 0] * z
    points['y'] = rays[..., 1] * z
    points['z'] = z
    points['rgb'] = pack_rgb(rgb[step, step])
    points['label'] = labels[step, step]
    if normals is not None:
        for axis, name in enumerate(('normal_x', 'normal_y', 'normal_z')):
            points[name] = normals[step, step, axis]
    return points


def cloud_message(points: np.ndarray, header: Header) -> PointCloud2:
    """Wrap an organised (rows, cols) array of cloud_points' dtypes as a PointCloud2."""
    msg = PointCloud2()
    msg.header = header
    msg.height, msg.width = points.shape
    msg.fields = point_fields(points.dtype)
    msg.is_bigendian = False
    msg.point_step = points.dtype.itemsize
    msg.row_step = points.dtype.itemsize * points.shape[1]
    msg.is_dense = bool(np.isfinite(points['z']).all())
    msg.data = np.ascontiguousarray(points).tobytes()
    return msg
