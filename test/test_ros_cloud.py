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
Point clouds: hand-computed points for a known depth and K, and the message read back.

Messages are decoded from their own field list (cloud_fields.read_cloud) and, where it is
installed, by sensor_msgs_py.point_cloud2 - never with the encoder's layout.
"""

from cloud_fields import read_cloud
from multitask_seg.ros.cloud import cloud_message, cloud_points
from multitask_seg.ros.rays import ray_table
import numpy as np
import pytest
from sensor_msgs.msg import PointField
from std_msgs.msg import Header

K = np.array([[100.0, 0.0, 2.0], [0.0, 50.0, 1.0], [0.0, 0.0, 1.0]])
DEPTH = np.array([[1.0, np.nan], [3.0, 4.0]], np.float32)
RGB = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], np.uint8)
LABELS = np.array([[0, 1], [2, 3]], np.uint8)
# rviz's rgb: the bits of a float32 are 0x00RRGGBB, written out pixel by pixel.
PACKED = [[0x010203, 0x040506], [0x070809, 0x0A0B0C]]
# An undistorted camera: the pinhole rays of K.
RAYS = ray_table(K, [], '', 2, 2)


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


def test_message_reads_back_from_its_own_field_list():
    header = Header(frame_id='camera_optical')
    msg = cloud_message(cloud_points(DEPTH, RAYS, RGB, LABELS), header)
    assert msg.header is header
    assert (msg.height, msg.width, msg.is_dense) == (2, 2, False)
    # What rviz and sensor_msgs_py look for: float32 x, y, z and rgb, one each.
    types = {f.name: (f.datatype, f.count) for f in msg.fields}
    assert {n: types[n] for n in 'x y z rgb'.split()} == dict.fromkeys(
        'x y z rgb'.split(), (PointField.FLOAT32, 1))
    assert types['label'][1] == 1
    back = read_cloud(msg)
    xyz = np.stack([back['x'], back['y'], back['z']], -1).astype(np.float64)
    # x = (u - 2) z / 100, y = (v - 1) z / 50 at column u, row v; no depth at (0, 1).
    np.testing.assert_allclose(xyz, [[[-0.02, -0.02, 1.0], [np.nan] * 3],
                                     [[-0.06, 0.0, 3.0], [-0.04, 0.0, 4.0]]], rtol=1e-6)
    assert back['label'].tolist() == LABELS.tolist()
    assert back['rgb'].astype('<f4').view('<u4').tolist() == PACKED


def test_sensor_msgs_py_reads_the_same_points():
    point_cloud2 = pytest.importorskip('sensor_msgs_py.point_cloud2')
    msg = cloud_message(cloud_points(DEPTH, RAYS, RGB, LABELS), Header(frame_id='camera'))
    names = ['x', 'y', 'z', 'rgb', 'label']
    theirs = point_cloud2.read_points(msg, field_names=names, skip_nans=False)
    ours = read_cloud(msg).ravel()
    assert len(theirs) == ours.size == 4
    for name in names:
        np.testing.assert_array_equal(np.asarray(theirs[name]), ours[name], err_msg=name)


def test_normals_add_three_fields_that_read_back():
    depth = np.array([[1.0, 2.0], [3.0, np.nan]], np.float32)
    normals = np.array([[[0, 0, -1], [0.6, 0, -0.8]], [[0, -1, 0], [1, 0, 0]]], np.float32)
    points = cloud_points(depth, RAYS, np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint8),
                          normals=normals)
    msg = cloud_message(points, Header())
    assert [f.name for f in msg.fields] == ['x', 'y', 'z', 'rgb', 'label', 'normal_x',
                                            'normal_y', 'normal_z']
    assert [f.offset for f in msg.fields] == [0, 4, 8, 12, 16, 20, 24, 28]
    assert msg.point_step == 32 and msg.row_step == 64
    back = read_cloud(msg)
    got = np.stack([back['normal_x'], back['normal_y'], back['normal_z']], -1)
    np.testing.assert_array_equal(got, normals)
    assert back['z'][1, 0] == 3.0 and back['label'].ravel().tolist() == [0, 0, 0, 0]
