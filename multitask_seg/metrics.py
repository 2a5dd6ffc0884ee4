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
Accuracy metrics the paper's authors' way, shared by training validation and bag evaluation.

All accumulate over a whole evaluation set and compute once at the end: mIoU from one
confusion matrix, depth and normal errors from sums over every valid pixel of the set (not
means of per-image figures). Accumulators hold float64/int64 tensors in ``state`` so distributed
training can all-reduce them.
"""

import numpy as np
import torch


def _tensor(array: np.ndarray | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(array).detach().cpu()


class SegmentationMetric:
    """
    Confusion matrix over a set: mIoU, per-class IoU and pixel accuracy.

    :param num_classes: C; predicted or true ids outside [0, C) are not counted as valid
        ground truth (so 255 = ignore is never counted).
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        # Rows: true class; columns: predicted class, plus one column for predictions out of
        # range, which only ever count as misses.
        self.state = {'confusion': torch.zeros(num_classes, num_classes + 1, dtype=torch.int64)}

    def update(self, pred: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> None:
        """
        Add one image or batch: ``pred`` and ``target`` class ids of the same shape.

        Pixels whose target is 255 or out of range are skipped.
        """
        pred, target = _tensor(pred).long().flatten(), _tensor(target).long().flatten()
        if pred.shape != target.shape:
            raise ValueError(f'prediction has {pred.numel()} pixels, target {target.numel()}')
        n = self.num_classes
        valid = (target >= 0) & (target < n)
        pred = pred[valid]
        pred = torch.where((pred >= 0) & (pred < n), pred, n)
        counts = torch.bincount(target[valid] * (n + 1) + pred, minlength=n * (n + 1))
        self.state['confusion'] += counts.view(n, n + 1)

    def compute(self) -> dict:
        """
        Return the set's figures.

        :return: {'miou': mean IoU over classes with a non-zero union, 'iou': per-class list
            (None where a class never appears in truth or prediction), 'pixel_accuracy',
            'pixels': valid pixels counted}.
        """
        full = self.state['confusion'].double()
        confusion = full[:, :self.num_classes]
        true_positive = confusion.diag()
        union = confusion.sum(0) + full.sum(1) - true_positive
        iou = true_positive / union.clamp(min=1)
        present = union > 0
        pixels = full.sum()
        return {
            'miou': float(iou[present].mean()) if present.any() else float('nan'),
            'iou': [float(v) if p else None for v, p in zip(iou, present)],
            'pixel_accuracy': float(true_positive.sum() / pixels) if pixels else float('nan'),
            'pixels': int(pixels),
        }


class DepthMetric:
    """
    Depth errors over every valid pixel of a set, in metres.

    :param cap: if given, only pixels with ground truth <= cap count, and predictions are
        clipped to it (the usual 80 m cap for KITTI, 10 m for NYUD).
    :param min_depth: predictions are clipped below to this, so log errors stay finite.
    """

    KEYS = ('n', 'sq', 'sq_log', 'abs_rel', 'sq_rel', 'd1', 'd2', 'd3')

    def __init__(self, cap: float | None = None, min_depth: float = 1e-3) -> None:
        self.cap = cap
        self.min_depth = min_depth
        self.state = {k: torch.zeros((), dtype=torch.float64) for k in self.KEYS}

    def update(self, pred: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> None:
        """Add prediction and ground truth depth (metres, same shape); target 0/NaN = invalid."""
        pred, target = _tensor(pred).double().flatten(), _tensor(target).double().flatten()
        if pred.shape != target.shape:
            raise ValueError(f'prediction has {pred.numel()} pixels, target {target.numel()}')
        valid = torch.isfinite(target) & (target > 0)
        if self.cap is not None:
            valid &= target <= self.cap
        gt = target[valid]
        p = torch.nan_to_num(pred[valid], nan=self.min_depth).clamp(min=self.min_depth)
        if self.cap is not None:
            p = p.clamp(max=self.cap)
        err = p - gt
        ratio = torch.maximum(p / gt, gt / p)
        s = self.state
        s['n'] += gt.numel()
        s['sq'] += (err ** 2).sum()
        s['sq_log'] += ((p.log() - gt.log()) ** 2).sum()
        s['abs_rel'] += (err.abs() / gt).sum()
        s['sq_rel'] += (err ** 2 / gt).sum()
        for k, key in enumerate(('d1', 'd2', 'd3'), start=1):
            s[key] += (ratio < 1.25 ** k).sum()

    def compute(self) -> dict:
        """Return rmse, rmse_log, abs_rel, sq_rel, delta1-3 and the pixel count."""
        s = {k: float(v) for k, v in self.state.items()}
        n = s['n']
        if n == 0:
            nan = float('nan')
            return {'rmse': nan, 'rmse_log': nan, 'abs_rel': nan, 'sq_rel': nan,
                    'delta1': nan, 'delta2': nan, 'delta3': nan, 'pixels': 0}
        return {'rmse': (s['sq'] / n) ** 0.5, 'rmse_log': (s['sq_log'] / n) ** 0.5,
                'abs_rel': s['abs_rel'] / n, 'sq_rel': s['sq_rel'] / n,
                'delta1': s['d1'] / n, 'delta2': s['d2'] / n, 'delta3': s['d3'] / n,
                'pixels': int(n)}


class NormalsMetric:
    """
    Angular errors of surface normals over every valid pixel of a set, in degrees.

    The standard figures of normal estimation (Eigen & Fergus 2015 and after): mean and
    RMSE of the angle between predicted and true normal, and the share of pixels within
    11.25, 22.5 and 30 degrees.
    """

    THRESHOLDS = (11.25, 22.5, 30.0)
    KEYS = ('n', 'sum', 'sq') + tuple(f'within_{t}' for t in THRESHOLDS)

    def __init__(self) -> None:
        self.state = {k: torch.zeros((), dtype=torch.float64) for k in self.KEYS}

    def update(self, pred: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> None:
        """
        Add (..., 3) predicted and true normals of the same shape.

        Pixels whose target or prediction is all 0 (or not finite) are invalid and skipped;
        the others need not be unit length.
        """
        pred, target = _tensor(pred).double(), _tensor(target).double()
        if pred.shape != target.shape or pred.shape[-1:] != (3,):
            raise ValueError(f'normals must be (..., 3) of one shape, got prediction '
                             f'{tuple(pred.shape)} and target {tuple(target.shape)}')
        pred, target = pred.reshape(-1, 3), target.reshape(-1, 3)
        valid = torch.ones(len(pred), dtype=torch.bool)
        for v in (pred, target):
            valid &= torch.isfinite(v).all(1) & (v.abs().sum(1) > 0)
        cosine = torch.nn.functional.cosine_similarity(pred[valid], target[valid], dim=1)
        angle = torch.rad2deg(torch.arccos(cosine.clamp(-1.0, 1.0)))
        s = self.state
        s['n'] += angle.numel()
        s['sum'] += angle.sum()
        s['sq'] += (angle ** 2).sum()
        for t in self.THRESHOLDS:
            s[f'within_{t}'] += (angle < t).sum()

    def compute(self) -> dict:
        """Return mean_deg, rmse_deg, within_11.25, within_22.5, within_30 and pixels."""
        s = {k: float(v) for k, v in self.state.items()}
        n = s['n']
        keys = ['mean_deg', 'rmse_deg'] + [f'within_{t:g}' for t in self.THRESHOLDS]
        if n == 0:
            return {**{k: float('nan') for k in keys}, 'pixels': 0}
        values = [s['sum'] / n, (s['sq'] / n) ** 0.5] + [
            s[f'within_{t}'] / n for t in self.THRESHOLDS]
        return {**dict(zip(keys, values)), 'pixels': int(n)}
