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
What a robot engineer asks beyond per-frame accuracy, from one pass over a bag.

Streaming accuracy (``streaming``), temporal stability (``stability``), accuracy by
object size (``small_objects``) and calibration (``calibration``), each fed frame by
frame in bag order alongside the scorer. A metric the input cannot give is reported
with the reason instead of figures.
"""

import numpy as np

from .calibration import Calibration
from .small_objects import SmallObjects
from .stability import Stability
from .streaming import (current_frames, CURVE_STEPS, frame_period, GAP, marked_latencies,
                        StreamingAccuracy)
from .warp import warp_previous
from ..checkpoint import ModelInfo
from ..tasks import IGNORE_LABEL

CONFIDENCE = 'segmentation_confidence'


def shift_labels(labels: np.ndarray, offset: int) -> np.ndarray:
    """Return ground-truth ids moved by ``offset`` into the model's classes (255 stays)."""
    labels = labels.astype(np.int64)
    return np.where(labels == IGNORE_LABEL, IGNORE_LABEL, labels + offset)


class RobotMetrics:
    """
    Streaming accuracy, stability, small objects and calibration of one evaluation.

    :param info: the model's classes.
    :param stamps_ns: header stamp of every frame of the bag, in bag order.
    :param label_offset: added to valid ground-truth ids, as the scorer does.
    :param depth_cap: score depth only where ground truth <= cap metres.
    :param published: live mode: (times, published), seconds on one clock of when each
        frame was sent and when its prediction came back (NaN: never); the streaming
        figures then use these real moments. Without it, ``add``'s ``latency`` does.
    :param latency_source: how the measured latency was obtained, for the report.
    :param poses: header stamp -> (K (3, 3), camera-to-world pose (4, 4)); where two
        consecutive frames have both and true depth, stability warps the previous frame
        into the current view (see ``warp``) instead of comparing pixels in place.
    """

    def __init__(self, info: ModelInfo, stamps_ns: list[int], *, label_offset: int = 0,
                 depth_cap: float | None = None,
                 published: tuple[np.ndarray, np.ndarray] | None = None,
                 latency_source: str = '',
                 poses: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
                 marks: dict[str, float] | None = None) -> None:
        self.classes = list(info.classes)
        self.label_offset = label_offset
        stamps = np.asarray(stamps_ns, np.int64)
        self.times = (stamps - stamps.min()) * 1e-9 if stamps.size else np.zeros(0)
        self.period = frame_period(self.times)
        self.latency_source = latency_source
        # Latencies measured elsewhere (engines, precisions, tiers) to place on the curve.
        self.marks = dict(marks or {})
        n = len(self.times)
        schedules = {}
        if self.period > 0:
            for step in range(CURVE_STEPS):
                schedules[f'{step}'] = current_frames(self.times, self.times + step * self.period,
                                                      self.period)
        self._latencies: list[float] = []
        if published is not None:
            sent, back = (np.asarray(a, np.float64) for a in published)
            sent_period = frame_period(sent[np.isfinite(sent)])
            order = np.where(np.isfinite(sent), sent, np.inf)
            schedules['measured'] = current_frames(order, back, sent_period)
            self._latencies = [float(v) for v in (back - sent)[np.isfinite(back - sent)]]
        else:
            schedules['measured'] = np.full(n, -1, np.int64)
        self._live = published is not None
        self.streaming = StreamingAccuracy(len(self.classes), schedules, depth_cap)
        self.stability = Stability(len(self.classes))
        self.small_objects = SmallObjects(len(self.classes))
        self.calibration = Calibration()
        self._previous: tuple[int, dict, dict | None] | None = None
        self.stamps = [int(s) for s in stamps_ns]
        self.poses = poses or {}
        self.warped_pairs = 0

    def add(self, index: int, truth: dict[str, np.ndarray],
            prediction: dict[str, np.ndarray] | None, latency: float | None = None) -> None:
        """
        Add frame ``index`` of the bag.

        :param truth: ground truth as the bag gives it (dataset ids; see ``scoring``).
        :param prediction: as the node publishes it, optionally with 'segmentation_confidence'
            (H, W); None when the model gave no output for the frame.
        :param latency: offline: seconds until this frame's prediction was ready.
        """
        truth = dict(truth)
        if 'segmentation' in truth:
            truth['segmentation'] = shift_labels(truth['segmentation'], self.label_offset)
        if latency is not None and not self._live and self.period > 0:
            self._latencies.append(latency)
            self.streaming.schedules['measured'][index] = current_frames(
                self.times, [self.times[index] + latency], self.period)[0]
        self.streaming.add(index, truth, prediction)
        if prediction is not None:
            self._add_frame(truth, prediction)
            previous = self._previous
            if (previous is not None and previous[0] == index - 1 and previous[2] is not None
                    and self.times[index] - self.times[index - 1] <= GAP * self.period):
                self.stability.update(self._in_view(index, previous[1], previous[2], truth),
                                      (truth, prediction))
        self._previous = (index, truth, prediction)

    def _in_view(self, index: int, truth0: dict, pred0: dict, truth: dict) -> tuple[dict, dict]:
        """Return the previous frame warped into frame ``index``'s view where poses allow."""
        before, now = (self.poses.get(self.stamps[i]) for i in (index - 1, index))
        if before is None or now is None or 'depth' not in truth or 'depth' not in truth0:
            return truth0, pred0
        self.warped_pairs += 1
        return warp_previous((truth0, pred0), truth['depth'], now[0], before[1], now[1])

    def _add_frame(self, truth: dict, prediction: dict) -> None:
        labels, seg = truth.get('segmentation'), prediction.get('segmentation')
        if labels is not None and seg is not None and labels.shape == seg.shape and self.classes:
            self.small_objects.update(seg, labels)
        if CONFIDENCE in prediction and seg is not None:
            self.calibration.update(prediction[CONFIDENCE], seg, labels,
                                    prediction.get('depth'), truth.get('depth'))

    def result(self) -> dict:
        """Return {'streaming', 'stability', 'small_objects', 'calibration'} for results.json."""
        return {'streaming': self._streaming(), 'stability': self._stability(),
                'small_objects': self._small_objects(), 'calibration': self._calibration()}

    def _streaming(self) -> dict:
        if self.period <= 0:
            return {'available': False, 'reason': 'fewer than two frames with distinct stamps: '
                                                  'no consecutive ground truth'}
        curve = [{'latency_s': step * self.period, **self.streaming.result(f'{step}')}
                 for step in range(CURVE_STEPS)]
        if not any(point['frames'] for point in curve[1:]):
            return {'available': False, 'reason': 'no prediction whose frame is followed by '
                                                  'ground truth on consecutive frames'}
        out = {'available': True, 'frame_period_s': self.period, 'classic': curve[0],
               'curve': curve, 'latency_source': self.latency_source,
               'latency_s': float(np.median(self._latencies)) if self._latencies else None}
        out['streaming'] = self.streaming.result('measured') if self._latencies else None
        out['marks'] = marked_latencies(curve, self.marks)
        return out

    def _stability(self) -> dict:
        result = self.stability.result(self.classes)
        if not result['pairs']:
            return {'available': False, 'reason': 'no two consecutive frames (stamps at most '
                                                  f'{GAP} frame periods apart) with ground '
                                                  'truth and predictions'}
        method = 'pixels whose ground truth is unchanged (no camera poses)'
        if self.warped_pairs:
            method = (f'pixels whose ground truth is unchanged, {self.warped_pairs} of the '
                      'pairs warped into the current view with camera poses and true depth')
        return {'available': True, 'method': method, 'warped_pairs': self.warped_pairs,
                **result}

    def _small_objects(self) -> dict:
        result = self.small_objects.result(self.classes)
        if not sum(result['objects']):
            return {'available': False, 'reason': 'no segmentation ground truth with '
                                                  'predictions'}
        return {'available': True, **result}

    def _calibration(self) -> dict:
        result = self.calibration.result()
        if not result['pixels']:
            return {'available': False, 'reason': 'no segmentation confidence with ground '
                                                  'truth (offline mode computes it; live mode '
                                                  'records it with --confidence; a recorded '
                                                  "bag needs the node's "
                                                  '<camera>/segmentation/confidence topic)'}
        return {'available': True, 'bins': len(result['count']), **result}
