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
Warp the previous frame into the current view, where camera poses and true depth are known.

Temporal stability without poses can only use pixels whose ground truth did not change;
with them (synthetic trajectories: ``multitask_seg.synthetic`` Frame.pose and .depth), each
pixel of the current frame is traced to where its scene point was in the previous frame,
so moving pixels count too. Cameras follow OpenCV (x right, y down, z forward); poses
are (4, 4) camera-to-world. Pixels whose point was outside the previous image or hidden
there (its true depth there differs by more than ``OCCLUSION``) get no previous value.
"""

import numpy as np

from ..tasks import IGNORE_LABEL

# Relative depth difference past which the traced point was hidden in the previous frame.
OCCLUSION = 0.05


def _rays(K: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return (..., 3) camera-frame rays with z = 1 through pixels (rows, cols)."""
    return np.stack([(cols - K[0, 2]) / K[0, 0], (rows - K[1, 2]) / K[1, 1],
                     np.ones_like(cols, np.float64)], -1)


def trace_back(depth: np.ndarray, K: np.ndarray, previous_pose: np.ndarray,
               pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Return, per pixel of the current frame, the previous frame's pixel of its scene point.

    :param depth: (H, W) true z-depth of the current frame in metres, 0 = invalid.
    :param K: (3, 3) intrinsics of both frames.
    :return: rows, cols (H, W) int64 (nearest pixel), z (H, W) the point's depth in the
        previous camera, and valid (H, W) bool (depth known, in front of and inside the
        previous image).
    """
    height, width = depth.shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    points = _rays(K, rows, cols) * depth[..., None]
    # Current camera -> world -> previous camera.
    to_previous = np.linalg.inv(previous_pose) @ pose
    prev = points @ to_previous[:3, :3].T + to_previous[:3, 3]
    z = prev[..., 2]
    with np.errstate(invalid='ignore', divide='ignore'):
        u = K[0, 0] * prev[..., 0] / z + K[0, 2]
        v = K[1, 1] * prev[..., 1] / z + K[1, 2]
    u = np.nan_to_num(np.round(u), nan=-1.0, posinf=-1.0, neginf=-1.0)
    v = np.nan_to_num(np.round(v), nan=-1.0, posinf=-1.0, neginf=-1.0)
    valid = (depth > 0) & (z > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    return (np.where(valid, v, 0).astype(np.int64), np.where(valid, u, 0).astype(np.int64),
            z, valid)


def warp_previous(previous: tuple[dict, dict], depth: np.ndarray, K: np.ndarray,
                  previous_pose: np.ndarray, pose: np.ndarray) -> tuple[dict, dict]:
    """
    Return the previous frame's (truth, prediction) as seen from the current camera.

    :param previous: (truth, prediction) of the previous frame: 'segmentation' (H, W) ids
        and 'depth' (H, W) metres (truth depth is needed: it finds hidden points).
    :param depth: (H, W) true depth of the current frame in metres.
    :return: truth with 'segmentation' 255 and 'depth' 0 where the point has no previous
        value; prediction likewise (depth NaN); depths are z in the current camera.
    """
    truth, pred = previous
    rows, cols, z, valid = trace_back(depth, K, previous_pose, pose)
    seen = truth['depth'][rows, cols]
    valid &= (seen > 0) & (np.abs(seen - z) <= OCCLUSION * z)
    to_current = np.linalg.inv(pose) @ previous_pose
    rays = _rays(K, rows.astype(np.float64), cols.astype(np.float64))

    def depth_here(values: np.ndarray) -> np.ndarray:
        # The previous frame's depth at the traced pixel, as z of the current camera.
        points = rays * values[rows, cols][..., None]
        return (points @ to_current[2, :3] + to_current[2, 3]).astype(np.float32)

    out_truth, out_pred = {}, {}
    if 'segmentation' in truth:
        out_truth['segmentation'] = np.where(valid, truth['segmentation'][rows, cols],
                                             IGNORE_LABEL)
    out_truth['depth'] = np.where(valid, depth_here(truth['depth']), 0.0).astype(np.float32)
    if 'segmentation' in pred:
        out_pred['segmentation'] = pred['segmentation'][rows, cols]
    if 'depth' in pred:
        out_pred['depth'] = np.where(valid, depth_here(pred['depth']), np.nan)
    return out_truth, out_pred
