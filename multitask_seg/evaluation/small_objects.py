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
Accuracy by object size: every connected region of a class in the ground truth is an object.

Objects (8-connected regions of one class) fall into bins by their area relative to the
image. Per object: recall is the share of its pixels predicted as its class; IoU is that
overlap over the union of the object and the predicted regions (8-connected, of its
class) that touch it, so a prediction that spills over the object costs IoU but not
recall. Figures per bin are means over objects, each object counting once whatever its
size, which is what makes small objects visible.
"""

import numpy as np
from scipy import ndimage

# Bin edges, as shares of the image's pixels.
EDGES = (0.0, 0.001, 0.01, 0.1, 1.0)
EIGHT = np.ones((3, 3), bool)


def bin_names(edges: tuple[float, ...] = EDGES) -> list[str]:
    """Return a readable name per bin: '< 0.1 %', '0.1-1 %', ..."""
    pct = [f'{100 * e:g}' for e in edges]
    names = [f'{a}-{b} %' for a, b in zip(pct[:-1], pct[1:])]
    names[0] = f'< {pct[1]} %'
    return names


class SmallObjects:
    """
    Object-averaged IoU and recall per size bin, per class and over all classes.

    :param num_classes: C, the model's classes.
    :param edges: bin edges as shares of the image; the last bin includes its top edge.
    """

    def __init__(self, num_classes: int, edges: tuple[float, ...] = EDGES) -> None:
        self.num_classes = num_classes
        self.edges = np.asarray(edges, np.float64)
        shape = (num_classes, len(edges) - 1)
        self.objects = np.zeros(shape, np.int64)
        self.iou_sum = np.zeros(shape)
        self.recall_sum = np.zeros(shape)

    def update(self, pred: np.ndarray, truth: np.ndarray) -> None:
        """Add one frame: (H, W) predicted and true model class ids (255 = ignore)."""
        if pred.shape != truth.shape:
            raise ValueError(f'prediction is {pred.shape}, ground truth {truth.shape}')
        bins = len(self.edges) - 1
        for c in np.unique(truth):
            if c >= self.num_classes:
                continue
            objects, n = ndimage.label(truth == c, EIGHT)
            regions, m = ndimage.label(pred == c, EIGHT)
            area = np.bincount(objects.ravel(), minlength=n + 1)[1:]
            region_area = np.bincount(regions.ravel(), minlength=m + 1)
            inside = (objects > 0) & (regions > 0)
            # Each (object, predicted region) pair that overlaps, with its pixel count.
            pairs, overlap = np.unique(objects[inside] * (m + 1) + regions[inside],
                                       return_counts=True)
            obj, reg = pairs // (m + 1) - 1, pairs % (m + 1)
            hit = np.bincount(obj, overlap, minlength=n)
            touching = np.bincount(obj, region_area[reg], minlength=n)
            iou = hit / (area + touching - hit)
            share = area / truth.size
            b = np.clip(np.searchsorted(self.edges, share, side='right') - 1, 0, bins - 1)
            self.objects[c] += np.bincount(b, minlength=bins)
            self.iou_sum[c] += np.bincount(b, iou, minlength=bins)
            self.recall_sum[c] += np.bincount(b, hit / area, minlength=bins)

    def result(self, classes: list[str]) -> dict:
        """
        Return the figures; None for a bin without objects.

        :return: {'bins': names, 'edges': shares of the image, 'objects', 'iou',
            'recall': one value per bin over all classes, 'per_class': {class: {'objects',
            'iou', 'recall'}} for the classes that have objects}.
        """
        def mean(total: np.ndarray, count: np.ndarray) -> list[float | None]:
            return [float(t / c) if c else None for t, c in zip(total, count)]

        per_class = {
            name: {'objects': self.objects[c].tolist(),
                   'iou': mean(self.iou_sum[c], self.objects[c]),
                   'recall': mean(self.recall_sum[c], self.objects[c])}
            for c, name in enumerate(list(classes)[:self.num_classes]) if self.objects[c].any()}
        count = self.objects.sum(0)
        return {'bins': bin_names(tuple(self.edges)), 'edges': self.edges.tolist(),
                'objects': count.tolist(), 'iou': mean(self.iou_sum.sum(0), count),
                'recall': mean(self.recall_sum.sum(0), count), 'per_class': per_class}
