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

"""Metrics against values worked out by hand on tiny arrays."""

import math

from multitask_seg.metrics import DepthMetric, NormalsMetric, SegmentationMetric
import numpy as np
import pytest


def test_miou_by_hand():
    metric = SegmentationMetric(3)
    # Image 1: class 0 right twice, class 1 once right once as 2; one ignored pixel.
    metric.update(np.array([[0, 0], [1, 2], [2, 0]]), np.array([[0, 0], [1, 1], [255, 255]]))
    # Image 2: a class-2 pixel predicted 0, a class-1 pixel predicted with an id out of range.
    metric.update(np.array([0, 7]), np.array([2, 1]))
    out = metric.compute()
    # Counted over the whole set: class 0: tp 2, fp 1 (from class 2) -> IoU 2/3.
    # class 1: tp 1, fn 2 (one as 2, one out of range) -> 1/3.
    # class 2: tp 0, fp 1, fn 1 -> 0.
    assert out['iou'] == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert out['miou'] == pytest.approx(1 / 3)
    assert out['pixels'] == 6 and out['pixel_accuracy'] == pytest.approx(3 / 6)


def test_absent_class_is_left_out_of_the_mean():
    metric = SegmentationMetric(4)
    metric.update(np.array([0, 1, 1]), np.array([0, 1, 0]))
    out = metric.compute()
    assert out['iou'][2] is None and out['iou'][3] is None
    assert out['miou'] == pytest.approx((1 / 2 + 1 / 2) / 2)


def test_set_level_not_mean_of_images():
    metric = SegmentationMetric(2)
    metric.update(np.array([0]), np.array([0]))
    metric.update(np.array([1, 1, 1]), np.array([0, 0, 0]))
    # Per image means would give 1 and 0; the set's confusion gives class 0: 1/4.
    assert metric.compute()['iou'][0] == pytest.approx(0.25)


def test_depth_by_hand():
    metric = DepthMetric()
    metric.update(np.array([1.0, 3.0, 5.0, 3.0]), np.array([1.0, 2.0, 0.0, np.nan]))
    metric.update(np.array([[6.0]]), np.array([[3.0]]))
    out = metric.compute()
    # Valid (pred, gt): (1, 1), (3, 2), (6, 3); ratios 1, 1.5, 2.
    assert out['pixels'] == 3
    assert out['rmse'] == pytest.approx(math.sqrt((0 + 1 + 9) / 3))
    assert out['rmse_log'] == pytest.approx(
        math.sqrt((math.log(1.5) ** 2 + math.log(2) ** 2) / 3))
    assert out['abs_rel'] == pytest.approx((0 + 0.5 + 1) / 3)
    assert out['sq_rel'] == pytest.approx((0 + 1 / 2 + 9 / 3) / 3)
    # Thresholds 1.25, 1.5625, 1.953: ratio 1.5 passes the second, 2 none.
    assert (out['delta1'], out['delta2'], out['delta3']) == pytest.approx((1 / 3, 2 / 3, 2 / 3))


def test_depth_cap_and_bad_predictions():
    metric = DepthMetric(cap=10.0)
    metric.update(np.array([50.0, -1.0, np.nan, 1.0]), np.array([8.0, 2.0, 2.0, 20.0]))
    out = metric.compute()
    assert out['pixels'] == 3  # gt 20 m is past the cap
    # 50 clipped to 10; -1 and NaN clipped to 1e-3.
    assert out['rmse'] == pytest.approx(math.sqrt((4 + 2 * (2 - 1e-3) ** 2) / 3))


def test_empty_and_mismatched():
    assert math.isnan(DepthMetric().compute()['rmse'])
    assert math.isnan(SegmentationMetric(2).compute()['miou'])
    with pytest.raises(ValueError, match='pixels'):
        DepthMetric().update(np.zeros(3), np.zeros(4))


def test_normals_angles_by_hand():
    metric = NormalsMetric()
    c, s = math.cos(math.radians(10)), math.sin(math.radians(10))
    # Angles 90, 45 and 10 degrees; the zero target and the zero prediction are skipped.
    pred = np.array([[1, 0, 0], [2, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]], float)
    target = np.array([[0, 1, 0], [1, 1, 0], [c, s, 0], [0, 0, 0], [0, 0, 1]], float)
    metric.update(pred.reshape(5, 1, 3), target.reshape(5, 1, 3))
    out = metric.compute()
    assert out['pixels'] == 3
    assert out['mean_deg'] == pytest.approx((90 + 45 + 10) / 3)
    assert out['rmse_deg'] == pytest.approx(math.sqrt((90 ** 2 + 45 ** 2 + 10 ** 2) / 3))
    assert (out['within_11.25'], out['within_22.5'], out['within_30']) == pytest.approx(
        (1 / 3, 1 / 3, 1 / 3))
    assert math.isnan(NormalsMetric().compute()['mean_deg'])
    with pytest.raises(ValueError, match='normals'):
        metric.update(np.zeros((2, 3)), np.zeros((2, 2)))
