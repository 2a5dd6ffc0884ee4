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

from collections import Counter
from dataclasses import dataclass, fields
import re
import threading
import time
from typing import Sequence

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
import numpy as np

from .stamp_gaps import StampGaps

# 'wait': from a frame's arrival in its callback to the worker taking it (the hand-off, or
# the batch before it still running); the others are the worker's own steps in order.
STAGES = ('wait', 'convert', 'preprocess', 'infer', 'postprocess', 'publish')
LATENCIES = ('stamp_to_publish', 'receive_to_publish')
# A stamp more than this many seconds before its frame arrived, or after it, is not from the
# node's clock (a bag replayed without use_sim_time, a camera with its own clock): its
# stamp_to_publish is no latency and is reported apart.
STAMP_CLOCK_TOLERANCE = 10.0


def reason_key(reason: str) -> str:
    """
    Return the kind of a bad-frame reason: its text with numbers replaced by N.

    Quoted parts ('yuv422', a format string) name the kind and are kept as they are.
    """
    parts = re.split(r"('[^']*')", reason)
    return ''.join(part if i % 2 else re.sub(r'\d+(\.\d+)?', 'N', part)
                   for i, part in enumerate(parts))


@dataclass
class FrameCounts:
    """
    Frames of one camera: received, published, dropped unprocessed, rejected as bad.

    missing: sent by the camera but never received (gaps in its stamps, see stamp_gaps).
    """

    received: int = 0
    published: int = 0
    dropped: int = 0
    bad: int = 0
    missing: int = 0


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
        self._gaps = {camera: StampGaps() for camera in cameras}
        self._latency = {camera: {key: [] for key in LATENCIES} for camera in cameras}
        self._stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
        self._batches: list[int] = []
        self._reasons = {camera: Counter() for camera in cameras}
        self._off_clock = {camera: [] for camera in cameras}
        self._in_progress: dict[str, float] = {}
        self._camera_info = {camera: ('none received: no depth/camera_info and no points',
                                      False) for camera in cameras}
        self._since = time.monotonic()

    def _count(self, camera: str, field: str, n: int = 1) -> None:
        with self._lock:
            for counts in (self._totals[camera], self._window[camera]):
                setattr(counts, field, getattr(counts, field) + n)

    def received(self, camera: str, dropped_waiting: bool, stamp_ns: int | None = None) -> None:
        """
        Count a frame in; ``dropped_waiting``: it replaced one never processed.

        :param stamp_ns: its header stamp; gaps in a camera's stamps count as missing frames.
        """
        self._count(camera, 'received')
        if dropped_waiting:
            self._count(camera, 'dropped')
        if stamp_ns is not None:
            with self._lock:
                missing = self._gaps[camera].add(stamp_ns)
            if missing:
                self._count(camera, 'missing', missing)

    def dropped(self, camera: str, n: int = 1) -> None:
        """Count frames discarded unprocessed (e.g. waiting when the node deactivated)."""
        self._count(camera, 'dropped', n)

    def bad(self, camera: str, reason: str = '') -> None:
        """Count a frame rejected as malformed or unsupported, by kind of ``reason``."""
        self._count(camera, 'bad')
        with self._lock:
            self._reasons[camera][reason_key(reason) or 'unknown'] += 1

    def processing(self, received: dict[str, float]) -> None:
        """Note frames entering the model: {camera: time.monotonic() of their arrival}."""
        with self._lock:
            self._in_progress.update(received)

    def finished(self, cameras: Sequence[str]) -> None:
        """Note that the frames of ``cameras`` left the model (published or not)."""
        with self._lock:
            for camera in cameras:
                self._in_progress.pop(camera, None)

    def camera_info(self, camera: str, state: str, warn: bool = False) -> None:
        """
        Record the state of ``camera``'s calibration: 'ok' or what is missing or wrong.

        :param warn: it is unusable (not merely absent): the status says so and is WARN.
        """
        with self._lock:
            self._camera_info[camera] = (state, warn)

    def published(self, camera: str, stamp_latency: float, receive_latency: float) -> None:
        """
        Record a published frame and its latencies in seconds.

        A ``stamp_latency`` that cannot be one (the stamp is far older than the frame's
        arrival, or after it) is kept apart as an offset between the clocks.
        """
        self._count(camera, 'published')
        offset = stamp_latency - receive_latency
        with self._lock:
            if -STAMP_CLOCK_TOLERANCE <= offset <= STAMP_CLOCK_TOLERANCE:
                self._latency[camera]['stamp_to_publish'].append(stamp_latency)
            else:
                self._off_clock[camera].append(offset)
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
            off_clock = self._off_clock
            self._off_clock = {camera: [] for camera in window}
            totals = {camera: FrameCounts(**vars(c)) for camera, c in self._totals.items()}
            reasons = {camera: dict(c) for camera, c in self._reasons.items()}
            busy = {camera: now - t for camera, t in self._in_progress.items()}
            infos = dict(self._camera_info)
        statuses = [self._stage_status(stages, batches, period)]
        for camera in window:
            status = self._camera_status(camera, window[camera], totals[camera],
                                         latency[camera], period, deadline, busy.get(camera))
            _add_details(status, reasons[camera], off_clock[camera], infos[camera])
            statuses.append(status)
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
                       deadline: float, busy: float | None) -> DiagnosticStatus:
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
        values.append(('frame in progress ms', '-' if busy is None else f'{busy * 1e3:.1f}'))
        level, message = DiagnosticStatus.OK, f'{fps:.1f} fps'
        # Latency first: a frame slower than the period leaves a period without new
        # frames, and 'no frames' would hide that the model is the cause.
        if receive and np.median(receive) > deadline:
            level = DiagnosticStatus.WARN
            message = (f'median latency {np.median(receive) * 1e3:.0f} ms is past the '
                       f'{deadline * 1e3:.0f} ms deadline')
        elif busy is not None and busy > deadline:
            level = DiagnosticStatus.WARN
            message = (f'a frame has been in the model for {busy * 1e3:.0f} ms, past the '
                       f'{deadline * 1e3:.0f} ms deadline')
        elif window.received == 0:
            level, message = DiagnosticStatus.WARN, f'no frames in the last {period:.1f} s'
        elif window.bad:
            level, message = DiagnosticStatus.WARN, f'{window.bad} bad frames'
        elif window.missing:
            level = DiagnosticStatus.WARN
            # Under best effort DDS drops large frames; under either QoS a full input queue
            # (input_depth) overwrites frames the executor had not taken yet.
            message = (f'{window.missing} frames lost before reaching the node (gaps in the '
                       f'camera stamps): best-effort transport or a full input queue')
        return _status(level, f'{self.name}: camera {camera}', self.hardware_id, message,
                       values)


def _add_details(status: DiagnosticStatus, reasons: dict[str, int], off_clock: list[float],
                 camera_info: tuple[str, bool]) -> None:
    """Append bad-frame kinds, stamps off the node's clock and the camera_info state."""
    info, info_unusable = camera_info
    values = [('camera_info', info)]
    values += [(f'bad total: {reason}', str(n)) for reason, n in sorted(reasons.items())]
    values.append(('stamps off this clock in period', str(len(off_clock))))
    values.append(('stamp offset s median',
                   f'{np.median(off_clock):.6g}' if off_clock else '-'))
    status.values.extend(KeyValue(key=k, value=v) for k, v in values)
    if off_clock:
        offset = float(np.median(off_clock))
        side = 'behind' if offset > 0 else 'ahead of'
        status.message += (f'; stamps {abs(offset):.3g} s {side} this clock (replayed '
                           f'without use_sim_time?), left out of stamp_to_publish')
    if info_unusable:
        status.message += f'; camera_info {info}'
        status.level = max(status.level, DiagnosticStatus.WARN)


def _millis(label: str, samples: list[float]) -> list[tuple[str, str]]:
    if not samples:
        return [(f'{label} median', '-'), (f'{label} max', '-')]
    return [(f'{label} median', f'{np.median(samples) * 1e3:.1f}'),
            (f'{label} max', f'{max(samples) * 1e3:.1f}')]


def _status(level: bytes, name: str, hardware_id: str, message: str,
            values: list[tuple[str, str]]) -> DiagnosticStatus:
    return DiagnosticStatus(level=level, name=name, hardware_id=hardware_id, message=message,
                            values=[KeyValue(key=k, value=v) for k, v in values])
