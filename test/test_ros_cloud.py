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

"""Point clouds: hand-computed points for a known depth and K, and the message layout."""

from multitask_seg.ros.cloud import cloud_message, cloud_points, pack_rgb
from multitask_seg.ros.rays import ray_table
import numpy as np
import pytest
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

K = np.array([[100.0, 0.0, 2.0], [0.0, 50.0, 1.0], [0.0, 0.0, 1.0]])
NUMPY_TYPES = {PointField.FLOAT32: 'f4', PointField.UINT16: 'u2', PointField.UINT32: 'u4'}


def read_points(msg: PointCloud2) -> np.ndarray:
    """Decode a cloud the way sensor_msgs_py.point_cloud2.read_points_numpy does."""
    order = '>' if msg.is_bigendian else '<'
    dtype = np.dtype({'names': [f.name for f in msg.fields],
                      'formats': [order + NUMPY_TYPES[f.datatype] for f in msg.fields],
                      'offsets': [f.offset for f in msg.fields],
                      'itemsize': msg.point_step})
    assert msg.row_step == msg.point_step * msg.width
    return np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width)


def hand_points(depth: np.ndarray) -> list[tuple[float, float, float]]:
    points = []
    for v in range(depth.shape[0]):
        for u in range(depth.shape[1]):
            z = depth[v, u]
            points.append(((u - 2.0) * z / 100.0, (v - 1.0) * z / 50.0, z))
    return points


def test_points_match_the_pinhole_model():
    depth = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0], [0.5, 1.5, 2.5, 3.5]],
                     np.float32)
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[1, 2] = (255, 128, 1)
    labels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    points = cloud_points(depth, ray_table(K.ravel(), [], 'plumb_bob', 3, 4), rgb, labels)
    assert points.shape == (3, 4)
    got = np.stack([points['x'], points['y'], points['z']], -1).reshape(-1, 3)
    np.testing.assert_allclose(got, hand_points(depth), rtol=1e-6)
    assert points['label'].ravel().tolist() == list(range(12))
    assert points['rgb'][1, 2].view(np.uint32) == 0xFF8001


def test_invalid_depth_gives_nan_points_and_decimation_keeps_the_grid():
    depth = np.full((5, 6), 2.0, np.float32)
    depth[0, 0] = np.nan
    points = cloud_points(depth, ray_table(K, [0.0] * 5, 'plumb_bob', 5, 6, 2),
                          np.zeros((5, 6, 3), np.uint8), np.zeros((5, 6), np.uint16),
                          decimation=2)
    assert points.shape == (3, 3)
    assert np.isnan(points['x'][0, 0]) and np.isnan(points['z'][0, 0])
    assert points['x'][2, 2] == pytest.approx((4 - 2.0) * 2.0 / 100.0)
    assert points['y'][2, 2] == pytest.approx((4 - 1.0) * 2.0 / 50.0)


def test_uncalibrated_camera_is_refused():
    with pytest.raises(ValueError, match='focal length'):
        ray_table(np.zeros(9), [], '', 2, 2)


def test_rays_of_another_size_are_refused():
    with pytest.raises(ValueError, match='ray table'):
        cloud_points(np.ones((4, 4), np.float32), ray_table(K, [], '', 4, 4),
                     np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), decimation=2)


def test_message_layout_reads_back():
    depth = np.array([[1.0, np.nan], [3.0, 4.0]], np.float32)
    rgb = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], np.uint8)
    labels = np.array([[0, 1], [2, 3]], np.uint8)
    header = Header(frame_id='camera_optical')
    msg = cloud_message(cloud_points(depth, ray_table(K, [], '', 2, 2), rgb, labels), header)
    assert msg.header is header
    assert (msg.height, msg.width, msg.point_step, msg.is_dense) == (2, 2, 20, False)
    assert [f.name for f in msg.fields] == ['x', 'y', 'z', 'rgb', 'label']
    back = read_points(msg)
    assert back['z'][1].tolist() == [3.0, 4.0]
    assert back['label'].ravel().tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(back['rgb'].view(np.uint32), pack_rgb(rgb).view(np.uint32))
    assert back['rgb'].view(np.uint32)[1, 1] == (10 << 16) | (11 << 8) | 12
