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
Pinhole intrinsics, camera poses and per-pixel ray directions.

World frame: x forward along a street or room axis, y left, z up, metres.
Camera frame: OpenCV convention (x right, y down, z along the optical axis).
"""

from dataclasses import dataclass
import functools

import numpy as np


@dataclass(frozen=True)
class Pose:
    """
    Camera pose in the world frame.

    :ivar position: (3,) camera centre in metres.
    :ivar yaw: heading about world z in radians (0 looks along +x).
    :ivar pitch: elevation of the optical axis in radians (negative looks down).
    """

    position: np.ndarray
    yaw: float
    pitch: float

    def rotation(self) -> np.ndarray:
        """Return the (3, 3) camera-to-world rotation; its columns are the camera axes."""
        cy, sy = np.cos(self.yaw), np.sin(self.yaw)
        cp, sp = np.cos(self.pitch), np.sin(self.pitch)
        forward = np.array([cy * cp, sy * cp, sp])
        right = np.array([sy, -cy, 0.0])
        down = np.cross(forward, right)
        return np.stack([right, down, forward], axis=1)

    def matrix(self) -> np.ndarray:
        """Return the (4, 4) camera-to-world transform (metres)."""
        out = np.eye(4)
        out[:3, :3] = self.rotation()
        out[:3, 3] = self.position
        return out


def intrinsics(height: int, width: int, hfov_deg: float) -> np.ndarray:
    """
    Return the (3, 3) pinhole matrix K (pixels): square pixels, centred principal point.

    OpenCV convention: pixel (u, v) has its centre at integer coordinates, so the principal
    point of a centred camera is ((W - 1) / 2, (H - 1) / 2).
    """
    focal = 0.5 * width / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[focal, 0.0, (width - 1) / 2.0], [0.0, focal, (height - 1) / 2.0],
                     [0.0, 0.0, 1.0]])


@functools.lru_cache(maxsize=8)
def _camera_rays(height: int, width: int, fx: float, fy: float, cx: float,
                 cy: float) -> np.ndarray:
    u = (np.arange(width, dtype=np.float64) - cx) / fx
    v = (np.arange(height, dtype=np.float64) - cy) / fy
    rays = np.empty((3, height, width), np.float64)
    rays[0] = u[None, :]
    rays[1] = v[:, None]
    rays[2] = 1.0
    rays.flags.writeable = False
    return rays


def world_rays(K: np.ndarray, height: int, width: int, pose: Pose) -> np.ndarray:
    """
    Return (3, H, W) float32 world-frame ray directions through every pixel centre.

    The directions are not normalised: their camera-frame z component is 1, so a ray parameter
    t is directly the z-depth (metres along the optical axis) of the point o + t * d.
    """
    rays = _camera_rays(height, width, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    rotation = pose.rotation()
    flat = rotation @ rays.reshape(3, -1)
    return flat.reshape(3, height, width).astype(np.float32)


def to_camera(points: np.ndarray, pose: Pose) -> np.ndarray:
    """Express (..., 3) world points (metres) in the camera frame."""
    return (points - pose.position) @ pose.rotation()
