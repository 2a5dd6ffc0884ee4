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
How the batch commands end on Ctrl-C (SIGINT) and SIGTERM: cleanly, saying how to go on.

A command that can stop between units of work (a training iteration, a labelling batch)
enters ``GracefulStop``: the first signal only records itself, and the loop calls
``check()`` (or reads ``signum``) at its next safe point, saves what it has and raises
``Stopped``. A second signal raises ``Stopped`` wherever the code is, for a user who will
not wait; files are written atomically (atomic.py), so nothing finished is corrupted
either way. Other commands wrap their ``main`` in ``stoppable``: the first signal stops
them at once. Either way the command prints one line instead of a traceback and exits with
the shell's status for the signal: 130 for SIGINT, 143 for SIGTERM. (The node keeps ROS's
convention, status 0: ros/node_main.py.)
"""

import functools
import signal
import sys
import threading
from types import FrameType
from typing import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """
    A stop signal ended the work; ``status`` is what the command exits with.

    A KeyboardInterrupt, so that no ``except Exception`` swallows it and code that already
    tidies up after Ctrl-C (the evaluator stopping its node, DataLoader) does so for it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f'stopped by {signal.Signals(signum).name}')
        self.signum = signum

    @property
    def status(self) -> int:
        return 128 + self.signum


class GracefulStop:
    """
    While entered, SIGINT/SIGTERM ask the work to stop at its next safe point.

    :param graceful: False: the first signal raises ``Stopped`` at once.
    Entered outside the main thread (where Python cannot take signals) it does nothing.
    """

    def __init__(self, graceful: bool = True) -> None:
        self.graceful = graceful
        self.signum: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> 'GracefulStop':
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None or not self.graceful:
            raise Stopped(signum)
        self.signum = signum

    def check(self) -> None:
        """Raise ``Stopped`` if a stop signal came."""
        if self.signum is not None:
            raise Stopped(self.signum)


def stoppable(prog: str) -> Callable:
    """Decorate a command's ``main``: a stop signal ends it with one line and 128 + signum."""
    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(*args, **kwargs) -> int:
            try:
                with GracefulStop(graceful=False):
                    return main(*args, **kwargs)
            except Stopped as stop:
                print(f'{prog}: {stop}', file=sys.stderr)
                return stop.status
        return run
    return wrap


def exit_with_status(prog: str, main: Callable[[], object]) -> None:
    """
    Run a command whose ``main`` returns its results rather than a status; exit with 0.

    A stop signal ends it as ``stoppable`` does: one line, 128 + signum.
    """
    def run() -> int:
        main()
        return 0
    sys.exit(stoppable(prog)(run)())


def ignore_in_workers(_worker_id: int = 0) -> None:
    """Ignore stop signals (a DataLoader ``worker_init_fn``: the main process decides)."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
