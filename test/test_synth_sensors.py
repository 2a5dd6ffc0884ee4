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
"""Sensor depth: Kinect-like holes indoors, sparse LiDAR rings outdoors, invalid sky."""

from multitask_seg.synthetic import CLASSES, render_frame
import numpy as np


def test_indoor_sensor_depth_has_holes_and_small_errors():
    holes = []
    for seed in range(4):
        frame = render_frame('indoor', seed, height=120, width=160)
        valid, measured = frame.depth > 0, frame.sensor_depth > 0
        assert not (measured & ~valid).any(), 'no depth where nothing was hit'
        holes.append(1.0 - measured[valid].mean())
        rel = np.abs(frame.sensor_depth - frame.depth)[measured] / frame.depth[measured]
        assert np.median(rel) < 0.02 and rel.max() < 0.1
    assert 0.005 < np.mean(holes) < 0.4


def test_outdoor_lidar_is_sparse_rings():
    density = []
    for seed in range(3):
        frame = render_frame('outdoor', seed)
        measured = frame.sensor_depth > 0
        density.append(measured.mean())
        # Rings are one pixel thick: a return rarely has another right below it.
        stacked = (measured[1:] & measured[:-1]).sum() / measured.sum()
        assert stacked < 0.15
        rel = np.abs(frame.sensor_depth - frame.depth)[measured] / frame.depth[measured]
        assert np.median(rel) < 0.01
    assert 0.05 <= np.mean(density) <= 0.10


def test_sky_has_no_depth():
    sky = CLASSES['outdoor'].index('sky')
    for seed in range(2):
        frame = render_frame('outdoor', seed, height=120, width=160)
        is_sky = frame.labels == sky
        assert is_sky.mean() > 0.02
        assert (frame.depth[is_sky] == 0).all() and (frame.sensor_depth[is_sky] == 0).all()
        assert (frame.depth[~is_sky] > 0).mean() > 0.95
