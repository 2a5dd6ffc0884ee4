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

"""What /diagnostics says about slow frames, foreign stamps, bad frames and camera_info."""

import time

from diagnostic_msgs.msg import DiagnosticStatus
from multitask_seg.ros.diagnostics import NodeStats


def camera_report(stats: NodeStats, deadline: float = 0.1) -> tuple[DiagnosticStatus, dict]:
    _, status = stats.report(deadline)
    return status, {kv.key: kv.value for kv in status.values}


def test_a_frame_slower_than_the_period_is_reported_as_late_not_as_missing():
    stats = NodeStats(['cam'], 'seg', 'cpu')
    stats.received('cam', dropped_waiting=False)
    camera_report(stats)
    # The next period: nothing new arrived, the frame is still in the model since 2 s.
    stats.processing({'cam': time.monotonic() - 2.0})
    status, values = camera_report(stats)
    assert status.level == DiagnosticStatus.WARN
    assert 'in the model for' in status.message and '100 ms deadline' in status.message
    assert float(values['frame in progress ms']) >= 2000
    # It is published 2 s after it arrived, in a period that received nothing new.
    stats.finished(['cam'])
    stats.published('cam', stamp_latency=2.01, receive_latency=2.0)
    status, values = camera_report(stats)
    assert status.message == 'median latency 2000 ms is past the 100 ms deadline'
    assert values['frame in progress ms'] == '-'
    status, _ = camera_report(stats)
    assert status.message.startswith('no frames in the last')


def test_stamps_from_another_clock_are_kept_out_of_stamp_latency():
    stats = NodeStats(['cam'], 'seg', 'cpu')
    stats.received('cam', dropped_waiting=False)
    stats.received('cam', dropped_waiting=False)
    # A bag recorded 1.8e9 s ago replayed against the wall clock, and a live frame.
    stats.published('cam', stamp_latency=1.8e9, receive_latency=0.04)
    stats.published('cam', stamp_latency=0.07, receive_latency=0.05)
    status, values = camera_report(stats)
    assert values['stamp_to_publish ms median'] == '70.0'
    assert values['stamp_to_publish ms max'] == '70.0'
    assert values['stamps off this clock in period'] == '1'
    assert abs(float(values['stamp offset s median']) - 1.8e9) < 1
    assert 'stamps 1.8e+09 s behind this clock' in status.message
    # Stamps after the frame's arrival cannot be from the node's clock either.
    stats.received('cam', dropped_waiting=False)
    stats.published('cam', stamp_latency=-3600.0, receive_latency=0.05)
    status, values = camera_report(stats)
    assert values['stamp_to_publish ms median'] == '-'
    assert 'ahead of this clock' in status.message


def test_bad_frames_are_counted_by_kind_of_reason():
    stats = NodeStats(['cam'], 'seg', 'cpu')
    for reason in ('image 120x120 is larger than max_pixels=10000',
                   'image 200x300 is larger than max_pixels=10000',
                   "unsupported encoding 'yuv422'"):
        stats.received('cam', dropped_waiting=False)
        stats.bad('cam', reason)
    status, values = camera_report(stats)
    assert values['bad total: image NxN is larger than max_pixels=N'] == '2'
    assert values["bad total: unsupported encoding 'yuv422'"] == '1'
    assert values['bad total'] == '3'


def test_camera_info_state_is_reported():
    stats = NodeStats(['cam'], 'seg', 'cpu')
    stats.received('cam', dropped_waiting=False)
    status, values = camera_report(stats)
    assert values['camera_info'].startswith('none received')
    assert status.level == DiagnosticStatus.OK
    stats.camera_info('cam', 'not used: calibrated for 1280x720', warn=True)
    stats.received('cam', dropped_waiting=False)
    status, values = camera_report(stats)
    assert values['camera_info'] == 'not used: calibrated for 1280x720'
    assert status.level == DiagnosticStatus.WARN
    assert status.message.endswith('; camera_info not used: calibrated for 1280x720')
