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
"""Camera trajectories: smooth, moving, at 10 Hz, never inside geometry."""

from multitask_seg.synthetic import FRAME_PERIOD_NS, render_sequence
import numpy as np
import pytest


@pytest.mark.parametrize('domain,max_step', [('indoor', 0.1), ('outdoor', 1.5)])
def test_consecutive_poses_are_close_and_smooth(domain, max_step):
    frames = list(render_sequence(domain, 11, 12, height=30, width=40))
    stamps = np.array([f.stamp_ns for f in frames])
    assert (np.diff(stamps) == FRAME_PERIOD_NS).all()
    pos = np.array([f.pose[:3, 3] for f in frames])
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    assert (steps > 1e-3).all() and (steps < max_step).all()
    # Second differences (accelerations) stay far below the steps: no jumps or zig-zags.
    assert np.linalg.norm(np.diff(pos, 2, axis=0), axis=1).max() < 0.3 * steps.mean()
    rot = [f.pose[:3, :3] for f in frames]
    angles = [np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))
              for a, b in zip(rot, rot[1:])]
    assert max(angles) < 0.1


def test_indoor_walk_stays_clear_of_furniture():
    for seed in range(3):
        for frame in render_sequence('indoor', seed, 20, height=30, width=40):
            assert frame.depth[frame.depth > 0].min() > 0.15
