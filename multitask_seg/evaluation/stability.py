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
Temporal stability: how much predictions change between frames where the scene did not.

Without camera poses the scene's motion is unknown, so only pixels whose ground truth is
unchanged between the two frames count: a label flip there is flicker, not motion. For
depth, pixels whose true depth changed by at most ``STABLE_DEPTH`` (relative) count, and
the figure is the predicted depth's change relative to the true depth.
"""

import numpy as np

# Relative change of the true depth under which a pixel counts as not moving.
STABLE_DEPTH = 0.01


class Stability:
    """
    Label flip rate and relative depth change on unchanged pixels, per true class.

    :param num_classes: C, the model's classes (0: no segmentation).
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.label_pixels = np.zeros(num_classes, np.int64)
        self.flips = np.zeros(num_classes, np.int64)
        # Depth per true class, plus one slot for pixels without a class.
        self.depth_pixels = np.zeros(num_classes + 1, np.int64)
        self.depth_change = np.zeros(num_classes + 1)
        self.pairs = 0

    def update(self, previous: tuple[dict, dict], current: tuple[dict, dict]) -> None:
        """
        Add one pair of consecutive frames, each (truth, prediction).

        Truth: 'segmentation' (H, W) model class ids (255 ignore), 'depth' (H, W) metres
        (0 invalid); prediction: 'segmentation' ids, 'depth' metres (NaN or 0 invalid).
        Tasks missing from either frame, or of another size, are skipped.
        """
        (truth0, pred0), (truth1, pred1) = previous, current
        counted = False
        classes = None
        if self._both('segmentation', truth0, pred0, truth1, pred1) and self.num_classes:
            t0 = truth0['segmentation'].astype(np.int64)
            t1 = truth1['segmentation'].astype(np.int64)
            valid = (t1 < self.num_classes) & (t0 == t1)
            flipped = valid & (pred0['segmentation'] != pred1['segmentation'])
            self.label_pixels += np.bincount(t1[valid], minlength=self.num_classes)
            self.flips += np.bincount(t1[flipped], minlength=self.num_classes)
            classes = np.where(t1 < self.num_classes, t1, self.num_classes)
            counted = True
        if self._both('depth', truth0, pred0, truth1, pred1):
            d0, d1 = truth0['depth'].astype(np.float64), truth1['depth'].astype(np.float64)
            p0, p1 = pred0['depth'].astype(np.float64), pred1['depth'].astype(np.float64)
            with np.errstate(invalid='ignore', divide='ignore'):
                valid = ((d0 > 0) & (d1 > 0) & np.isfinite(p0) & np.isfinite(p1) & (p0 > 0)
                         & (p1 > 0) & (np.abs(d1 - d0) <= STABLE_DEPTH * d1))
            if classes is None or classes.shape != d1.shape:
                classes = np.full(d1.shape, self.num_classes)
            change = np.abs(p1[valid] - p0[valid]) / d1[valid]
            self.depth_pixels += np.bincount(classes[valid], minlength=self.num_classes + 1)
            self.depth_change += np.bincount(classes[valid], change,
                                             minlength=self.num_classes + 1)
            counted = True
        self.pairs += counted

    @staticmethod
    def _both(task: str, truth0: dict, pred0: dict, truth1: dict, pred1: dict) -> bool:
        arrays = [d.get(task) for d in (truth0, pred0, truth1, pred1)]
        return all(a is not None for a in arrays) and len({a.shape for a in arrays}) == 1

    def result(self, classes: list[str]) -> dict:
        """
        Return the figures; None where no pixel counted.

        :return: {'pairs': consecutive frame pairs, 'label_flip_rate': flipped share of
            unchanged pixels, 'label_flip_rate_per_class', 'label_pixels',
            'depth_change': mean |predicted change| / true depth on unchanged pixels,
            'depth_change_per_class', 'depth_pixels'}.
        """
        def ratio(num: np.ndarray, den: np.ndarray) -> float | None:
            return float(num.sum() / den.sum()) if den.sum() else None

        names = list(classes)[:self.num_classes]
        return {
            'pairs': self.pairs,
            'label_flip_rate': ratio(self.flips, self.label_pixels),
            'label_flip_rate_per_class': {
                n: ratio(self.flips[c], self.label_pixels[c]) for c, n in enumerate(names)},
            'label_pixels': int(self.label_pixels.sum()),
            'depth_change': ratio(self.depth_change, self.depth_pixels),
            'depth_change_per_class': {
                n: ratio(self.depth_change[c], self.depth_pixels[c])
                for c, n in enumerate(names)},
            'depth_pixels': int(self.depth_pixels.sum()),
        }
