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
Frame counters, stage and latency statistics, and their diagnostic_msgs report.

The node records into ``NodeStats`` from its callbacks and its worker thread; a timer
calls ``report`` every period, which summarises the samples since the last report.
"""

from dataclasses import dataclass, fields
import threading
import time
from typing import Sequence

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
import numpy as np

STAGES = ('convert', 'preprocess', 'infer', 'postprocess', 'publish')
LATENCIES = ('stamp_to_publish', 'receive_to_publish')


@dataclass
class FrameCounts:
    """Frames of one camera: received, published, dropped unprocessed, rejected as bad."""

    received: int = 0
    published: int = 0
    dropped: int = 0
    bad: int = 0


class NodeStats:
    """
    Thread-safe counters since start-up and samples since the last report.

    :param cameras: camera names.
    :param name: prefix of the status names, usually the node's name.
    :param hardware_id: what the statuses report as hardware, e.g. the inference device.
    """

    def __init__(self, cameras: Sequence[str], name: str, hardware_id: str) -> None:
        self.name = name
        self.hardware_id = hardware_id
        # What runs inference ({'engine': ..., 'precision': ..., 'input size': ...}), set by
        # the node once the model is loaded.
        self.engine: dict[str, str] = {}
        self._lock = threading.Lock()
        self._totals = {camera: FrameCounts() for camera in cameras}
        self._window = {camera: FrameCounts() for camera in cameras}
        self._latency = {camera: {key: [] for key in LATENCIES} for camera in cameras}
        self._stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
        self._batches: list[int] = []
        self._since = time.monotonic()

    def _count(self, camera: str, field: str, n: int = 1) -> None:
        with self._lock:
            for counts in (self._totals[camera], self._window[camera]):
                setattr(counts, field, getattr(counts, field) + n)

    def received(self, camera: str, dropped_waiting: bool) -> None:
        """Count a frame in; ``dropped_waiting``: it replaced one never processed."""
        self._count(camera, 'received')
        if dropped_waiting:
            self._count(camera, 'dropped')

    def dropped(self, camera: str, n: int = 1) -> None:
        """Count frames discarded unprocessed (e.g. waiting when the node deactivated)."""
        self._count(camera, 'dropped', n)

    def bad(self, camera: str) -> None:
        """Count a frame rejected as malformed or unsupported."""
        self._count(camera, 'bad')

    def published(self, camera: str, stamp_latency: float, receive_latency: float) -> None:
        """Record a published frame and its latencies in seconds."""
        self._count(camera, 'published')
        with self._lock:
            self._latency[camera]['stamp_to_publish'].append(stamp_latency)
            self._latency[camera]['receive_to_publish'].append(receive_latency)

    def batch(self, size: int, timings: dict[str, float]) -> None:
        """Record a batch of ``size`` frames and its per-stage seconds."""
        with self._lock:
            self._batches.append(size)
            for stage in STAGES:
                self._stages[stage].append(timings.get(stage, 0.0))

    def counts(self, camera: str) -> FrameCounts:
        """Return a copy of the counters since start-up for ``camera``."""
        with self._lock:
            return FrameCounts(**vars(self._totals[camera]))

    def report(self, deadline: float) -> list[DiagnosticStatus]:
        """
        Summarise and reset the samples since the last report.

        :param deadline: seconds; a camera whose median receive-to-publish latency exceeds
            it is reported WARN.

        :return: One status for the inference stages, then one per camera.
        """
        now = time.monotonic()
        with self._lock:
            period = max(now - self._since, 1e-9)
            self._since = now
            stages, self._stages = self._stages, {stage: [] for stage in STAGES}
            batches, self._batches = self._batches, []
            window = self._window
            self._window = {camera: FrameCounts() for camera in window}
            latency = self._latency
            self._latency = {camera: {key: [] for key in LATENCIES} for camera in window}
            totals = {camera: FrameCounts(**vars(c)) for camera, c in self._totals.items()}
        statuses = [self._stage_status(stages, batches, period)]
        for camera in window:
            statuses.append(self._camera_status(camera, window[camera], totals[camera],
                                                latency[camera], period, deadline))
        return statuses

    def _stage_status(self, stages: dict[str, list[float]], batches: list[int],
                      period: float) -> DiagnosticStatus:
        values = list(self.engine.items())
        values += [('batches per second', f'{len(batches) / period:.2f}'),
                   ('mean batch size', f'{np.mean(batches):.2f}' if batches else '-')]
        for stage, samples in stages.items():
            values += _millis(f'{stage} ms', samples)
        return _status(DiagnosticStatus.OK, f'{self.name}: inference', self.hardware_id,
                       f'{len(batches)} batches in {period:.1f} s', values)

    def _camera_status(self, camera: str, window: FrameCounts, totals: FrameCounts,
                       latency: dict[str, list[float]], period: float,
                       deadline: float) -> DiagnosticStatus:
        fps = window.published / period
        values = [('fps', f'{fps:.2f}')]
        values += [(f'{f.name} in period', str(getattr(window, f.name)))
                   for f in fields(FrameCounts)]
        values += [(f'{f.name} total', str(getattr(totals, f.name)))
                   for f in fields(FrameCounts)]
        for key, samples in latency.items():
            values += _millis(f'{key} ms', samples)
        values.append(('deadline ms', f'{deadline * 1e3:.1f}'))
        receive = latency['receive_to_publish']
        level, message = DiagnosticStatus.OK, f'{fps:.1f} fps'
        if window.received == 0:
            level, message = DiagnosticStatus.WARN, f'no frames in the last {period:.1f} s'
        elif receive and np.median(receive) > deadline:
            level = DiagnosticStatus.WARN
            message = (f'median latency {np.median(receive) * 1e3:.0f} ms is past the '
                       f'{deadline * 1e3:.0f} ms deadline')
        elif window.bad:
            level, message = DiagnosticStatus.WARN, f'{window.bad} bad frames'
        return _status(level, f'{self.name}: camera {camera}', self.hardware_id, message,
                       values)


def _millis(label: str, samples: list[float]) -> list[tuple[str, str]]:
    if not samples:
        return [(f'{label} median', '-'), (f'{label} max', '-')]
    return [(f'{label} median', f'{np.median(samples) * 1e3:.1f}'),
            (f'{label} max', f'{max(samples) * 1e3:.1f}')]


def _status(level: bytes, name: str, hardware_id: str, message: str,
            values: list[tuple[str, str]]) -> DiagnosticStatus:
    return DiagnosticStatus(level=level, name=name, hardware_id=hardware_id, message=message,
                            values=[KeyValue(key=k, value=v) for k, v in values])
