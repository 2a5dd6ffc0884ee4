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
One scorer for every mode: metrics over the whole set, counts, and what the pictures need.

Ground truth comes as a sample's targets, predictions as the node publishes them (each
task's arrays and validity rule are in ``multitask_seg.tasks``: 'segmentation' (H, W) ids,
255 = ignore; 'depth' (H, W) float32 metres, 0 or NaN = invalid; 'normals' (H, W, 3) unit
vectors, all 0 = invalid). Each task is scored by the accumulator of
``multitask_seg.metrics`` that the registry names, over the whole set as the paper's
authors computed it. Pixels valid in the truth but not in the prediction (depth outside
the trained range, say) are left out and show as lower coverage, not as errors.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..checkpoint import ModelInfo
from ..tasks import IGNORE_LABEL, TASKS

# Ground-truth distance bins of the depth-error picture.
DISTANCE_BINS = 32
# Error messages kept in the results; the counts still count all of them.
MAX_ERRORS = 20


@dataclass
class Sample:
    """
    One frame kept for the picture grid.

    :ivar image: (H, W, 3) uint8 RGB.
    :ivar truth: ground truth targets (see the module docs).
    :ivar prediction: predicted tasks (see the module docs).
    """

    image: np.ndarray
    truth: dict[str, np.ndarray]
    prediction: dict[str, np.ndarray]


@dataclass
class DistanceErrors:
    """
    Depth errors binned by ground-truth distance.

    :ivar edges: (B + 1,) bin edges in metres; depths past the last edge count in the last bin.
    :ivar count: (B,) valid pixels per bin.
    :ivar abs_sum: (B,) summed absolute errors in metres.
    :ivar sq_sum: (B,) summed squared errors in square metres.
    """

    edges: np.ndarray
    count: np.ndarray = field(init=False)
    abs_sum: np.ndarray = field(init=False)
    sq_sum: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        bins = len(self.edges) - 1
        self.count = np.zeros(bins, np.int64)
        self.abs_sum = np.zeros(bins)
        self.sq_sum = np.zeros(bins)

    def update(self, pred: np.ndarray, truth: np.ndarray) -> None:
        """Add matching 1-D arrays of valid predicted and true depths in metres."""
        bins = np.clip(np.searchsorted(self.edges, truth, side='right') - 1,
                       0, len(self.count) - 1)
        err = pred.astype(np.float64) - truth
        self.count += np.bincount(bins, minlength=len(self.count))
        self.abs_sum += np.bincount(bins, np.abs(err), minlength=len(self.count))
        self.sq_sum += np.bincount(bins, err ** 2, minlength=len(self.count))


def latency_summary(seconds: list[float]) -> dict[str, float | None]:
    """Return p50, p95, max and mean of latencies given in seconds, in milliseconds."""
    if not seconds:
        return {'p50_ms': None, 'p95_ms': None, 'max_ms': None, 'mean_ms': None}
    ms = np.asarray(seconds) * 1e3
    return {'p50_ms': float(np.percentile(ms, 50)), 'p95_ms': float(np.percentile(ms, 95)),
            'max_ms': float(ms.max()), 'mean_ms': float(ms.mean())}


class Scorer:
    """
    Accumulate the metrics of a set frame by frame and count what happened to each frame.

    Ground-truth class ids are shifted by ``label_offset`` into the model's class list (a
    joint model's head is the union of several datasets' classes, and the node publishes
    its argmax over all of them), so one confusion matrix covers the model's classes.

    :param info: the evaluated model's classes, colours and depth range.
    :param frames: frames in the bag: every one should end scored, missing or failed.
    :param depth_cap: if given, depth is scored only where ground truth <= cap metres.
    :param samples: frames kept for the picture grid, spread over the bag.
    :param label_offset: added to valid ground-truth class ids.
    """

    def __init__(self, info: ModelInfo, frames: int, *, depth_cap: float | None = None,
                 samples: int = 4, label_offset: int = 0) -> None:
        self.info = info
        self.frames = frames
        self.depth_cap = depth_cap
        self.label_offset = label_offset
        metrics = {name: task.metric(len(info.classes), depth_cap)
                   for name, task in TASKS.items()}
        self.metrics = {name: m for name, m in metrics.items() if m is not None}
        # Valid ground-truth pixels per task, the denominator of its coverage.
        self._truth_pixels = dict.fromkeys(self.metrics, 0)
        top = depth_cap or float(info.depth_range[1])
        self.distance = DistanceErrors(np.linspace(0.0, top, DISTANCE_BINS + 1))
        self.scored = self.missing = self.failed = 0
        self.interrupted = False
        self.stopped: str | None = None
        self.errors: list[str] = []
        self.samples: list[Sample] = []
        # Frame indices to keep, spread over the bag; a frame without output passes its
        # turn to the next one scored.
        self._keep = sorted(set(np.linspace(0, frames - 1, min(samples, frames)).round()
                                .astype(int).tolist()))

    def add(self, index: int, image: np.ndarray | Callable[[], np.ndarray],
            truth: dict[str, np.ndarray], prediction: dict[str, np.ndarray]) -> None:
        """
        Score frame ``index`` of the bag; a frame that cannot be scored counts as failed.

        :param image: (H, W, 3) uint8 RGB, kept only for the picture grid; or a function
            returning it, called only for the frames the grid keeps (so the others need
            not be decoded).
        :param truth: ground truth targets; tasks without ground truth are not scored.
        :param prediction: predicted tasks, at the image's size.
        """
        tasks = [t for t in self.metrics if t in truth and t in prediction]
        for task in tasks:
            if prediction[task].shape != truth[task].shape:
                self.fail(index, f'{task} prediction is {prediction[task].shape}, '
                                 f'ground truth {truth[task].shape}')
                return
        truth = dict(truth)
        if 'segmentation' in truth:
            labels = truth['segmentation'].astype(np.int64)
            truth['segmentation'] = np.where(labels == IGNORE_LABEL, IGNORE_LABEL,
                                             labels + self.label_offset)
        for task in tasks:
            self._add(task, prediction[task], truth[task])
        self.scored += 1
        if self._keep and index >= self._keep[0]:
            self.samples.append(Sample(image() if callable(image) else image, truth,
                                       prediction))
            self._keep = [k for k in self._keep if k > index]

    def _add(self, task: str, pred: np.ndarray, truth: np.ndarray) -> None:
        rule = TASKS[task]
        truth_valid = rule.valid(truth)
        if rule.capped and self.depth_cap is not None:
            truth_valid &= truth <= self.depth_cap
        # Pixels the node reports nothing for (depth outside the trained range) are left
        # out and show up as lower coverage instead of as errors of an arbitrary size.
        valid = truth_valid & rule.valid(pred)
        self._truth_pixels[task] += int(truth_valid.sum())
        mask = valid[..., None] if truth.ndim > valid.ndim else valid
        self.metrics[task].update(pred, np.where(mask, truth, rule.fill))
        if task == 'depth':
            # The error-by-distance picture is the evaluator's own view of depth.
            p = pred[valid]
            if self.depth_cap is not None:
                p = np.minimum(p, self.depth_cap)
            self.distance.update(p, truth[valid])

    @property
    def segmentation(self):
        """Return the segmentation accumulator, or None (the report draws its matrix)."""
        return self.metrics.get('segmentation')

    def miss(self) -> None:
        """Count a frame the model gave no (complete) output for."""
        self.missing += 1

    def fail(self, index: int, message: str) -> None:
        """Count frame ``index`` as failed and keep the reason."""
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f'frame {index}: {message}')

    def stop(self, message: str) -> None:
        """Record the error that ended the run early."""
        self.stopped = message

    @property
    def complete(self) -> bool:
        """Whether every frame of the bag was accounted for, none failed and some scored."""
        accounted = self.scored + self.missing + self.failed == self.frames
        return (accounted and not self.interrupted and self.stopped is None
                and not self.failed and self.scored > 0)

    def result(self) -> dict:
        """Return the counts and metrics as plain JSON-ready data."""
        out = {'complete': self.complete, 'interrupted': self.interrupted,
               'stopped_by': self.stopped,
               'counts': {'frames': self.frames, 'scored': self.scored,
                          'missing': self.missing, 'failed': self.failed,
                          'unseen': self.frames - self.scored - self.missing - self.failed},
               'errors': list(self.errors)}
        for task, metric in self.metrics.items():
            if not self._truth_pixels[task]:
                continue
            figures = metric.compute()
            if 'iou' in figures:
                figures['iou'] = dict(zip(self.info.classes, figures['iou']))
            if TASKS[task].capped:
                figures['cap'] = self.depth_cap
            figures['coverage'] = figures['pixels'] / self._truth_pixels[task]
            out[task] = figures
        return out
