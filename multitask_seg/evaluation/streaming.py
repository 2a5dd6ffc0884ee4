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
Streaming accuracy: each prediction scored against the frame current when it is published.

A robot acts on the newest output it has; by then the camera has moved on. So the
prediction of frame t is scored against the ground truth of the frame current at the
moment it is published: the latest frame taken (offline: its header stamp; live: the
moment the replay published it) at or before that moment. A frame stays current until
the next one, and for one frame period at a sequence's end, so a prediction published
into a gap between sequences or after the bag's end is not scored. Latency 0 gives
the classic per-frame figures.
"""

import numpy as np

from ..metrics import DepthMetric, SegmentationMetric

# Frames further apart than this many frame periods are in different sequences (or a gap).
GAP = 1.5
# Latencies of the offline curve, in frame periods.
CURVE_STEPS = 9
# Seconds of slack when comparing moments, well below a stamp's meaning (rounding only).
EPSILON = 1e-6


def frame_period(times: np.ndarray) -> float:
    """Return the median gap between consecutive frame times (s); 0 with under two frames."""
    gaps = np.diff(np.sort(np.asarray(times, np.float64)))
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 0.0


def current_frames(times: np.ndarray, published: np.ndarray, period: float) -> np.ndarray:
    """
    Return, for each publish moment, the index of the frame current then.

    :param times: (N,) seconds each frame was taken, increasing (bag order; +inf for a
        frame never taken).
    :param published: (M,) seconds, NaN for a prediction never published.
    :param period: frame period in seconds (see ``frame_period``).
    :return: (M,) int64 frame indices, -1 where no frame is current: before the first,
        or one period or more after the last frame of a sequence (the bag's last frame,
        or one followed by a gap of over ``GAP`` periods).
    """
    times = np.asarray(times, np.float64)
    published = np.asarray(published, np.float64)
    known = np.isfinite(published)
    index = np.searchsorted(times, np.where(known, published, -np.inf) + EPSILON,
                            side='right') - 1
    ends = np.append(np.diff(times) > GAP * period, True)
    ok = known & (index >= 0)
    stale = np.zeros_like(ok)
    stale[ok] = ends[index[ok]] & (published[ok] - times[index[ok]] >= period - EPSILON)
    return np.where(ok & ~stale, index, -1).astype(np.int64)


class StreamingAccuracy:
    """
    Segmentation and depth figures of predictions scored against the current frame.

    Frames come in bag order, each with its ground truth and its prediction (None if the
    model gave none); a prediction waits until its current frame's truth arrives.

    :param num_classes: C, the model's classes (0: no segmentation).
    :param schedules: name -> (N,) index of the frame current when each frame's
        prediction is published, -1 if none (see ``current_frames``); frame indices are
        never earlier than their own.
    :param depth_cap: score depth only where ground truth <= cap metres.
    """

    def __init__(self, num_classes: int, schedules: dict[str, np.ndarray],
                 depth_cap: float | None = None) -> None:
        self.schedules = {k: np.asarray(v, np.int64) for k, v in schedules.items()}
        self.segmentation = {k: SegmentationMetric(num_classes) for k in self.schedules
                             } if num_classes else {}
        self.depth = {k: DepthMetric(cap=depth_cap) for k in self.schedules}
        self.frames = dict.fromkeys(self.schedules, 0)
        self._waiting: dict[int, dict[str, np.ndarray]] = {}

    def add(self, index: int, truth: dict[str, np.ndarray],
            prediction: dict[str, np.ndarray] | None) -> None:
        """
        Add frame ``index`` with its ground truth and its prediction.

        :param truth: 'segmentation' (H, W) model class ids (255 ignore) and/or 'depth'
            (H, W) metres (0 invalid).
        :param prediction: as the node publishes it, or None when the model gave none.
        """
        if prediction is not None and any(s[index] >= 0 for s in self.schedules.values()):
            self._waiting[index] = prediction
        for name, schedule in self.schedules.items():
            for source in [t for t in self._waiting if schedule[t] == index]:
                self._score(name, self._waiting[source], truth)
        # A prediction is done once every schedule's current frame has passed.
        self._waiting = {t: p for t, p in self._waiting.items()
                         if any(s[t] > index for s in self.schedules.values())}

    def _score(self, name: str, prediction: dict[str, np.ndarray],
               truth: dict[str, np.ndarray]) -> None:
        scored = False
        if name in self.segmentation and 'segmentation' in truth and 'segmentation' in prediction:
            if prediction['segmentation'].shape == truth['segmentation'].shape:
                self.segmentation[name].update(prediction['segmentation'], truth['segmentation'])
                scored = True
        if 'depth' in truth and 'depth' in prediction:
            pred, gt = prediction['depth'], truth['depth']
            if pred.shape == gt.shape:
                # As the scorer does: pixels without a predicted depth are left out.
                valid = np.isfinite(pred) & (pred > 0)
                self.depth[name].update(np.where(valid, pred, 0.0), np.where(valid, gt, 0.0))
                scored = True
        self.frames[name] += scored

    def result(self, name: str) -> dict:
        """Return {'frames', 'miou', 'pixel_accuracy', 'rmse', 'abs_rel'} of a schedule."""
        out = {'frames': self.frames[name], 'miou': None, 'pixel_accuracy': None,
               'rmse': None, 'abs_rel': None}
        if name in self.segmentation and self.segmentation[name].state['confusion'].sum():
            seg = self.segmentation[name].compute()
            out.update(miou=seg['miou'], pixel_accuracy=seg['pixel_accuracy'])
        if float(self.depth[name].state['n']):
            depth = self.depth[name].compute()
            out.update(rmse=depth['rmse'], abs_rel=depth['abs_rel'])
        return out


def marked_latencies(curve: list[dict], marks: dict[str, float]) -> list[dict]:
    """
    Place latencies measured elsewhere (an engine, a precision, a tier) on the curve.

    :param curve: points {'latency_s', 'frames', 'miou', 'rmse', ...} at increasing latency.
    :param marks: name -> latency in seconds.
    :return: per mark {'name', 'latency_s', 'miou', 'rmse'}, the figures interpolated
        linearly between the curve's scored points (None past its end or without figures).
    """
    out = []
    for name, latency in marks.items():
        mark = {'name': name, 'latency_s': float(latency)}
        for key in ('miou', 'rmse'):
            points = [(p['latency_s'], p[key]) for p in curve
                      if p.get('frames') and p.get(key) is not None]
            inside = points and points[0][0] <= latency <= points[-1][0]
            mark[key] = (float(np.interp(latency, *zip(*points))) if inside else None)
        out.append(mark)
    return out
