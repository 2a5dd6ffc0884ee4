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
Latest-frame slots and the inference thread: callbacks store, one thread computes.

Each camera has a slot for one frame; a newer frame replaces a waiting one (drop-oldest),
so work never queues up behind a slow model. The worker takes every waiting frame at once
so frames from several cameras share one batched forward pass.
"""

import threading
from typing import Any, Callable, Hashable


class LatestFrames:
    """One slot per key holding only the newest item; ``put`` never blocks."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._slots: dict[Hashable, Any] = {}
        self._closed = False

    def put(self, key: Hashable, item: Any) -> bool:
        """Store ``item`` for ``key``; return True if it replaced (dropped) a waiting one."""
        with self._cond:
            replaced = key in self._slots
            self._slots[key] = item
            self._cond.notify()
        return replaced

    def take_all(self, timeout: float | None = None) -> dict[Hashable, Any] | None:
        """
        Wait for items and return all of them, emptying the slots.

        Returns an empty dict after ``timeout`` seconds without items, None once closed.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._slots or self._closed, timeout)
            if self._closed:
                return None
            items, self._slots = self._slots, {}
        return items

    def close(self) -> dict[Hashable, Any]:
        """Wake every waiter and return the items left; ``take_all`` returns None from now on."""
        with self._cond:
            self._closed = True
            items, self._slots = self._slots, {}
            self._cond.notify_all()
        return items


class BatchWorker:
    """
    A thread feeding every batch of waiting frames to ``process``.

    :param frames: where callbacks put frames.
    :param process: called with {key: item} on the worker thread.
    :param on_error: called with an exception ``process`` raised; the worker keeps running.
    """

    def __init__(self, frames: LatestFrames,
                 process: Callable[[dict[Hashable, Any]], None],
                 on_error: Callable[[Exception], None]) -> None:
        self.frames = frames
        self._process = process
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name='inference', daemon=True)

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> dict[Hashable, Any]:
        """
        Close the slots, let the batch in progress finish, and join the thread.

        Returns the frames left unprocessed. Raises TimeoutError if the thread was still
        running after ``timeout`` seconds.
        """
        left = self.frames.close()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f'inference thread still busy after {timeout} s')
        return left

    def _run(self) -> None:
        while (batch := self.frames.take_all()) is not None:
            try:
                self._process(batch)
            except Exception as exc:  # one bad batch must not end the node's output
                self._on_error(exc)
