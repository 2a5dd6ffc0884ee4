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
Latest-frame slots and the batch worker: drop-oldest, batching, errors, clean stop.

No sleeps: each test waits on events the worker's callbacks set, so the order of events
is fixed whatever the machine's load. Timeouts only bound a wait that should never run out.
"""

import queue
import threading

from multitask_seg.ros.worker import BatchWorker, LatestFrames
import pytest

WAIT = 10.0


class WatchedCondition(threading.Condition):
    """A Condition that says when a thread has started waiting on it."""

    def __init__(self):
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout=None):
        # Set while the lock is still held: whoever takes the lock next finds the waiter
        # already parked.
        self.waiting.set()
        return super().wait(timeout)


def test_newer_frame_replaces_the_waiting_one():
    frames = LatestFrames()
    assert frames.put('a', 1) is False
    assert frames.put('a', 2) is True
    assert frames.put('b', 3) is False
    assert frames.take_all() == {'a': 2, 'b': 3}
    assert frames.take_all(timeout=0.01) == {}


def test_close_wakes_waiters_and_returns_what_was_left():
    frames = LatestFrames()
    frames._cond = WatchedCondition()
    result = []
    thread = threading.Thread(target=lambda: result.append(frames.take_all()))
    thread.start()
    assert frames._cond.waiting.wait(WAIT)
    assert frames.close() == {}
    thread.join(WAIT)
    assert not thread.is_alive() and result == [None]
    frames.put('a', 1)
    assert frames.take_all() is None


def test_worker_batches_every_waiting_camera_and_survives_errors():
    frames = LatestFrames()
    started, errors = queue.Queue(), []
    release = threading.Event()

    def process(batch):
        started.put(dict(batch))
        if batch.get('a') == 'boom':
            raise RuntimeError('boom')
        assert release.wait(WAIT)

    worker = BatchWorker(frames, process, errors.append)
    worker.start()
    frames.put('a', 'boom')
    assert started.get(timeout=WAIT) == {'a': 'boom'}
    frames.put('a', 1)
    assert started.get(timeout=WAIT) == {'a': 1}
    assert [str(e) for e in errors] == ['boom']
    # The worker is busy with {'a': 1}; these wait and then go together.
    assert frames.put('a', 2) is False
    assert frames.put('b', 3) is False
    assert frames.put('a', 4) is True
    release.set()
    assert started.get(timeout=WAIT) == {'a': 4, 'b': 3}
    assert worker.stop() == {}
    assert started.empty() and len(errors) == 1


def test_stop_reports_a_stuck_worker():
    frames = LatestFrames()
    busy, release = threading.Event(), threading.Event()

    def process(batch):
        busy.set()
        assert release.wait(WAIT)

    worker = BatchWorker(frames, process, print)
    worker.start()
    frames.put('a', 1)
    assert busy.wait(WAIT)
    frames.put('a', 2)
    # The thread is held inside process() until release: a short join must give up.
    with pytest.raises(TimeoutError):
        worker.stop(timeout=0.05)
    release.set()
    assert worker.stop() == {}
