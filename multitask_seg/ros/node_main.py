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
The node's process: ``ros2 run multitask_seg multitask_seg_node``, ``python -m`` this module.

SIGINT and SIGTERM end it with status 0 and no traceback, once or repeatedly, at any moment
after this module starts: its handlers are installed before torch and rclpy are imported.
During start-up the first signal abandons it (SystemExit(0)); once the node spins, a signal
only asks the spin loop to stop, then the node is taken down in order (inference thread,
subscriptions and publishers, context) while further signals are ignored. A terminal's
Ctrl-C under ``ros2 launch`` delivers SIGINT twice (terminal, then launch), hence this.

rclpy's own handlers are not installed: they shut the context down under the inference
thread ("publisher's context is invalid") and raise KeyboardInterrupt wherever the main
thread happens to be, including inside destroy_node.
"""

import signal
import sys
import threading
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Seconds the idle spin loop waits before looking for a stop request again.
SPIN_PERIOD = 0.1


class StopSignals:
    """SIGINT/SIGTERM handlers: abort start-up on the first, afterwards only record."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._starting = True
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)

    def running(self) -> None:
        """Start-up is over: signals now only set ``requested``."""
        self._starting = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = not self.requested.is_set()
        self.requested.set()
        if first and self._starting:
            self._starting = False
            raise SystemExit(0)


def make_executor(name: str) -> Any:
    """
    Return the executor ``name`` (params.EXECUTORS) names.

    'events' is rclpy's C++ EventsExecutor (rclpy.experimental, Jazzy and later); where this
    rclpy has none, the Python SingleThreadedExecutor. Measured with the bundled model at its
    defaults (bench_node, one run each): the Python executor's spin loop held the GIL for
    about 1 ms after each frame arrived and slowed inference in the same process, 34.8 fps,
    receive to publish 24.5 ms over a 19.4 ms core; the events executor 37.2 fps, 23.3 over
    20.0 ms, and two cameras 21.8 fps each instead of 17.4.

    Run it with ``spin_once`` (as ``main`` does), never ``spin()``: this rclpy's
    EventsExecutor.spin() keeps a core busy while idle (measured: 1.06 cores with one
    subscription and no traffic; spin_once(0.1) 0.05), and bundled-model inference in the
    same process took 29 ms instead of 8.8.
    """
    from rclpy.executors import SingleThreadedExecutor

    if name == 'events':
        try:
            from rclpy.experimental import EventsExecutor
            return EventsExecutor()
        except ImportError:
            pass
    return SingleThreadedExecutor()


def main(args: list[str] | None = None) -> int:
    """Run the node until SIGINT or SIGTERM; return the process exit status."""
    signals = StopSignals()
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from .node import NODE_NAME, SegmentationNode, TransitionFailed

    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    try:
        try:
            node = SegmentationNode()
        except TransitionFailed:
            return 1  # the node has logged why
        except ValueError as exc:
            rclpy.logging.get_logger(NODE_NAME).fatal(str(exc))
            return 1
        executor = make_executor(node.settings.executor)
        node.get_logger().info(f'executor: {type(executor).__name__}')
        try:
            signals.running()
            executor.add_node(node)
            while not signals.requested.is_set():
                executor.spin_once(timeout_sec=SPIN_PERIOD)
        finally:
            executor.shutdown()
            try:
                node.destroy_node()
            except TimeoutError as exc:
                node.get_logger().warning(f'{exc}; exiting without waiting for it')
        return 0
    finally:
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
