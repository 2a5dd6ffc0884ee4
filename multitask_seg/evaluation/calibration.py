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
Calibration of the segmentation confidence, and depth error against that confidence.

The confidence of a pixel is the softmax probability of its predicted class (the node's
``<camera>/segmentation/confidence``). Expected calibration error is the standard one
(Guo et al. 2017): pixels in ``BINS`` equal-width confidence bins ((k-1)/M, k/M], and
ECE = sum over bins of (pixels in bin / all pixels) * |accuracy in bin - mean confidence
in bin|; 0 is perfectly calibrated.
"""

import numpy as np

from ..tasks import IGNORE_LABEL

BINS = 15


class Calibration:
    """
    Reliability of the segmentation confidence and depth error per confidence bin.

    :param bins: M, equal-width confidence bins over [0, 1].
    """

    def __init__(self, bins: int = BINS) -> None:
        self.edges = np.linspace(0.0, 1.0, bins + 1)
        self.count = np.zeros(bins, np.int64)
        self.confidence_sum = np.zeros(bins)
        self.correct = np.zeros(bins, np.int64)
        self.depth_count = np.zeros(bins, np.int64)
        self.depth_abs_rel = np.zeros(bins)

    def _bin(self, confidence: np.ndarray) -> np.ndarray:
        bins = len(self.count)
        return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)

    def update(self, confidence: np.ndarray, pred: np.ndarray, truth: np.ndarray | None,
               depth_pred: np.ndarray | None = None,
               depth_truth: np.ndarray | None = None) -> None:
        """
        Add one frame.

        :param confidence: (H, W) probability of each pixel's predicted class.
        :param pred: (H, W) predicted class ids.
        :param truth: (H, W) true model class ids (255 = ignore), or None.
        :param depth_pred: (H, W) predicted metres (NaN or 0 invalid), or None.
        :param depth_truth: (H, W) true metres (0 invalid), or None.
        """
        confidence = np.asarray(confidence, np.float64)
        bins = len(self.count)
        if truth is not None and truth.shape == confidence.shape:
            valid = truth != IGNORE_LABEL
            b = self._bin(confidence[valid])
            self.count += np.bincount(b, minlength=bins)
            self.confidence_sum += np.bincount(b, confidence[valid], minlength=bins)
            self.correct += np.bincount(b, pred[valid] == truth[valid], minlength=bins
                                        ).astype(np.int64)
        if (depth_pred is not None and depth_truth is not None
                and depth_pred.shape == confidence.shape == depth_truth.shape):
            with np.errstate(invalid='ignore'):
                valid = (depth_truth > 0) & np.isfinite(depth_pred) & (depth_pred > 0)
            b = self._bin(confidence[valid])
            err = np.abs(depth_pred[valid].astype(np.float64) - depth_truth[valid]
                         ) / depth_truth[valid]
            self.depth_count += np.bincount(b, minlength=bins)
            self.depth_abs_rel += np.bincount(b, err, minlength=bins)

    def result(self) -> dict:
        """
        Return the figures; None for an empty bin or without pixels.

        :return: {'ece', 'mce' (largest gap of a non-empty bin), 'pixels', 'edges', and per
            bin 'count', 'confidence' (mean), 'accuracy', 'depth_abs_rel', 'depth_pixels'}.
        """
        n = self.count.sum()
        used = self.count > 0
        accuracy = np.where(used, self.correct / np.maximum(self.count, 1), np.nan)
        mean_conf = np.where(used, self.confidence_sum / np.maximum(self.count, 1), np.nan)
        gap = np.abs(accuracy - mean_conf)
        depth = np.where(self.depth_count > 0,
                         self.depth_abs_rel / np.maximum(self.depth_count, 1), np.nan)

        def listed(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in values]

        return {'ece': float((self.count[used] / n * gap[used]).sum()) if n else None,
                'mce': float(gap[used].max()) if n else None, 'pixels': int(n),
                'edges': self.edges.tolist(), 'count': self.count.tolist(),
                'confidence': listed(mean_conf), 'accuracy': listed(accuracy),
                'depth_abs_rel': listed(depth), 'depth_pixels': self.depth_count.tolist()}
