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
Frames lost before they reached the node, inferred from gaps in a camera's stamps. No ROS.

DDS drops best-effort samples without telling the reader; what the node can see is the
sequence of header stamps. The camera's frame period is the median of its recent
intervals; an interval of n periods (n >= 2, rounded) means n - 1 frames never arrived.
Intervals under ``tolerance`` periods are jitter, not losses. A stamp that goes back
(a replayed bag looping, a clock reset) or a pause longer than ``max_gap`` periods (a
camera stopped and restarted) starts the estimate afresh and counts nothing.
"""

from collections import deque

import numpy as np


class StampGaps:
    """
    Count frames missing from one camera's stamp sequence.

    :param history: intervals kept for the period estimate.
    :param tolerance: intervals longer than this many periods are gaps.
    :param max_gap: gaps longer than this many periods are pauses, not losses.
    :param warm_up: intervals needed before gaps are counted.
    """

    def __init__(self, history: int = 30, tolerance: float = 1.5, max_gap: float = 30.0,
                 warm_up: int = 5) -> None:
        self.tolerance, self.max_gap, self.warm_up = tolerance, max_gap, warm_up
        self._intervals: deque[int] = deque(maxlen=history)
        self._last: int | None = None

    @property
    def period_ns(self) -> float | None:
        """Return the estimated frame period in nanoseconds, None until warmed up."""
        if len(self._intervals) < self.warm_up:
            return None
        return float(np.median(self._intervals))

    def add(self, stamp_ns: int) -> int:
        """Take the next frame's header stamp (ns); return how many frames went missing."""
        last, self._last = self._last, stamp_ns
        if last is None or stamp_ns == last:
            return 0
        interval = stamp_ns - last
        if interval < 0:
            self._intervals.clear()
            return 0
        period = self.period_ns
        if period is None or interval < self.tolerance * period:
            self._intervals.append(interval)
            return 0
        if interval > self.max_gap * period:
            self._intervals.clear()
            return 0
        return max(int(round(interval / period)) - 1, 1)
