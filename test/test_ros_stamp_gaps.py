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

"""Frames lost in transport, counted from synthetic stamp sequences with known losses."""

from multitask_seg.ros.diagnostics import NodeStats
from multitask_seg.ros.stamp_gaps import StampGaps
import numpy as np

PERIOD = 33_333_333  # 30 fps, in nanoseconds


def camera_stamps(count: int, jitter: float, seed: int = 0) -> np.ndarray:
    """Stamps of a 30 fps camera with up to +-jitter periods of noise."""
    rng = np.random.default_rng(seed)
    t = 1_700_000_000 * 10**9 + np.arange(count) * PERIOD
    return t + (rng.uniform(-jitter, jitter, count) * PERIOD).astype(np.int64)


def count_missing(stamps) -> int:
    gaps = StampGaps()
    return sum(gaps.add(int(s)) for s in stamps)


def test_known_losses_are_counted_through_jitter():
    stamps = camera_stamps(600, jitter=0.2)
    rng = np.random.default_rng(1)
    # Lose 40 single frames and two bursts of 5, never in the first 10 (the warm-up).
    lost = set(rng.choice(np.arange(10, 500), 40, replace=False).tolist())
    lost |= set(range(520, 525)) | set(range(560, 565))
    kept = [s for i, s in enumerate(stamps) if i not in lost]
    assert count_missing(kept) == len(lost)
    assert count_missing(stamps) == 0


def test_replays_pauses_and_duplicates_count_nothing():
    stamps = camera_stamps(100, jitter=0.1)
    looped = np.concatenate([stamps, stamps])       # a bag replayed in a loop
    paused = np.concatenate([stamps, stamps + 100 * 10**9])   # a camera restarted
    repeated = np.repeat(stamps, 2)                 # the same frame twice
    for sequence in (looped, paused, repeated):
        assert count_missing(sequence) == 0


def test_node_stats_report_missing_frames():
    stats = NodeStats(['cam'], 'node', 'cpu')
    stamps = camera_stamps(40, jitter=0.0)
    for i, stamp in enumerate(stamps):
        if i not in (20, 21, 30):
            stats.received('cam', False, int(stamp))
    assert stats.counts('cam').missing == 3
    camera = stats.report(0.1)[1]
    values = {kv.key: kv.value for kv in camera.values}
    assert values['missing total'] == '3' and values['missing in period'] == '3'
    assert 'lost before' in camera.message
