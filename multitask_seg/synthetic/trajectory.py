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
"""Smooth camera paths: pose as a closed-form function of time, so any frame rate works."""

from dataclasses import dataclass

import numpy as np

from .camera import Pose


@dataclass(frozen=True)
class LoopPath:
    """
    A person walking around a (possibly very flat) ellipse, looking towards a target.

    :ivar center: (x, y) of the ellipse, metres.
    :ivar radii: (rx, ry) semi-axes, metres; a small ry gives a smooth back-and-forth walk.
    :ivar target: (x, y) point the walker mostly looks at, metres.
    :ivar height: mean camera height, metres.
    :ivar speed: walking speed, metres per second (negative walks clockwise).
    :ivar phase: start angle on the ellipse, radians.
    :ivar look: amplitude of the slow head turn away from the centre, radians.
    :ivar pitch: mean camera pitch, radians (negative looks down).
    """

    center: tuple
    radii: tuple
    target: tuple
    height: float
    speed: float
    phase: float
    look: float
    pitch: float

    def pose(self, t: float) -> Pose:
        """Return the camera pose t seconds after the start."""
        rx, ry = self.radii
        angle = self.phase + self.speed * t / max(rx, ry)
        x = self.center[0] + rx * np.cos(angle) + 0.04 * np.sin(0.7 * t)
        y = self.center[1] + ry * np.sin(angle) + 0.04 * np.cos(0.5 * t)
        # A 1.8 Hz vertical bob mimics footsteps.
        z = self.height + 0.012 * np.sin(2.0 * np.pi * 1.8 * t)
        yaw = np.arctan2(self.target[1] - y, self.target[0] - x)
        yaw += self.look * np.sin(0.3 * t + self.phase)
        pitch = self.pitch + 0.06 * np.sin(0.23 * t + 2.0 * self.phase)
        return Pose(np.array([x, y, z]), float(yaw), float(pitch))

    def footprint(self, n: int = 96) -> np.ndarray:
        """Return (n, 2) points along the path (metres) that furniture must keep clear of."""
        angle = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        rx, ry = self.radii
        return np.stack([self.center[0] + rx * np.cos(angle),
                         self.center[1] + ry * np.sin(angle)], axis=1)


@dataclass(frozen=True)
class LanePath:
    """
    A car driving along +x in its lane with a gentle lateral wander.

    :ivar x0: start position along the street, metres.
    :ivar lane_y: lane centre, metres.
    :ivar speed: metres per second.
    :ivar height: camera height above the road, metres.
    :ivar wander: amplitude of the lateral wander, metres.
    :ivar period: period of the wander, seconds.
    :ivar phase: phase of the wander, radians.
    :ivar pitch: camera pitch, radians.
    """

    x0: float
    lane_y: float
    speed: float
    height: float
    wander: float
    period: float
    phase: float
    pitch: float

    def pose(self, t: float) -> Pose:
        """Return the camera pose t seconds after the start."""
        w = 2.0 * np.pi / self.period
        x = self.x0 + self.speed * t
        y = self.lane_y + self.wander * np.sin(w * t + self.phase)
        yaw = np.arctan2(self.wander * w * np.cos(w * t + self.phase), self.speed)
        z = self.height + 0.01 * np.sin(3.1 * t)
        pitch = self.pitch + 0.006 * np.sin(1.3 * t + self.phase)
        return Pose(np.array([x, y, z]), float(yaw), float(pitch))
