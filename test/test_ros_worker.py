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

"""Latest-frame slots and the batch worker: drop-oldest, batching, errors, clean stop."""

import threading
import time

from multitask_seg.ros.worker import BatchWorker, LatestFrames
import pytest


def test_newer_frame_replaces_the_waiting_one():
    frames = LatestFrames()
    assert frames.put('a', 1) is False
    assert frames.put('a', 2) is True
    assert frames.put('b', 3) is False
    assert frames.take_all() == {'a': 2, 'b': 3}
    assert frames.take_all(timeout=0.01) == {}


def test_close_wakes_waiters_and_returns_what_was_left():
    frames = LatestFrames()
    result = []
    thread = threading.Thread(target=lambda: result.append(frames.take_all()))
    thread.start()
    time.sleep(0.05)
    assert frames.close() == {}
    thread.join(1.0)
    assert result == [None]
    frames.put('a', 1)
    assert frames.take_all() is None


def test_worker_batches_every_waiting_camera_and_survives_errors():
    frames = LatestFrames()
    batches, errors = [], []
    release = threading.Event()

    def process(batch):
        batches.append(batch)
        if batch.get('a') == 'boom':
            raise RuntimeError('boom')
        release.wait(2.0)

    worker = BatchWorker(frames, process, errors.append)
    worker.start()
    frames.put('a', 'boom')
    time.sleep(0.1)
    frames.put('a', 1)
    time.sleep(0.1)
    # The worker is busy with {'a': 1}; these wait and then go together.
    frames.put('a', 2)
    frames.put('b', 3)
    frames.put('a', 4)
    release.set()
    time.sleep(0.1)
    assert worker.stop() == {}
    assert batches == [{'a': 'boom'}, {'a': 1}, {'a': 4, 'b': 3}]
    assert [str(e) for e in errors] == ['boom']


def test_stop_reports_a_stuck_worker():
    frames = LatestFrames()
    worker = BatchWorker(frames, lambda batch: time.sleep(0.5), print)
    worker.start()
    frames.put('a', 1)
    time.sleep(0.05)
    frames.put('a', 2)
    with pytest.raises(TimeoutError):
        worker.stop(timeout=0.05)
    assert worker.stop() == {}
