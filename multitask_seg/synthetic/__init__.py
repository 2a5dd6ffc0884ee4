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
Procedural RGB-D scenes with exact labels and depth, plus realistic sensor depth.

Two domains: 'indoor' (NYU-like furnished rooms, Kinect-like depth) and 'outdoor' (KITTI-like
streets, LiDAR-like sparse depth). Scenes are unions of boxes, ellipsoids, a room and a ground
plane, ray-cast with numpy; everything is determined by (domain, seed).
"""

from .classes import CLASSES, COLORS, DOMAINS, IGNORE_LABEL
from .render import Frame, FRAME_PERIOD_NS, render_frame, render_sequence, split_seeds

__all__ = [
    'CLASSES', 'COLORS', 'DOMAINS', 'FRAME_PERIOD_NS', 'Frame', 'IGNORE_LABEL', 'render_frame',
    'render_sequence', 'split_seeds',
]
