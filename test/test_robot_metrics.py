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

"""The evaluator's streaming, stability, small-object and calibration metrics, by hand."""

from multitask_seg.checkpoint import ModelInfo
from multitask_seg.evaluation.calibration import Calibration
from multitask_seg.evaluation.cli import parse_marks
from multitask_seg.evaluation.model_and_truth import EvaluationError
from multitask_seg.evaluation.robot_metrics import RobotMetrics
from multitask_seg.evaluation.small_objects import bin_names, SmallObjects
from multitask_seg.evaluation.stability import Stability
from multitask_seg.evaluation.streaming import current_frames, frame_period, marked_latencies
from multitask_seg.evaluation.temperature import fit_temperature
from multitask_seg.evaluation.warp import warp_previous
from multitask_seg.synthetic.render import render_sequence, split_seeds
import numpy as np
import pytest

PERIOD_NS = 100_000_000
STAMP0 = 1_700_000_000_000_000_000
# Three frames of a 1 x 4 image; the boundary between classes 0 and 1 moves left.
LABELS = [np.array([[0, 0, 1, 1]]), np.array([[0, 1, 1, 1]]), np.array([[1, 1, 1, 1]])]
DEPTHS = [np.full((1, 4), k + 1.0, np.float32) for k in range(3)]


def info(classes: int = 2) -> ModelInfo:
    return ModelInfo(classes=[f'c{i}' for i in range(classes)],
                     colors=[[0, 0, 0]] * classes)


def perfect_sequence(metrics: RobotMetrics, latency: float | None = None) -> None:
    """Feed the three frames, each predicted exactly (so only lateness costs accuracy)."""
    for k, (labels, depth) in enumerate(zip(LABELS, DEPTHS)):
        truth = {'segmentation': labels.astype(np.uint8), 'depth': depth}
        metrics.add(k, truth, {'segmentation': labels.copy(), 'depth': depth.copy()}, latency)


def test_current_frame_of_each_publish_moment():
    times = np.array([0.0, 0.1, 0.2, 1.0])
    assert frame_period(times) == pytest.approx(0.1)
    # 0.25: frame 2 is current; 0.31: frame 2's sequence ended (gap to 1.0); 1.05: the
    # last frame; 1.1: one period after the bag's end; before the first, or never: none.
    published = np.array([0.0, 0.05, 0.1, 0.25, 0.31, 1.05, 1.1, -0.1, np.nan])
    assert current_frames(times, published, 0.1).tolist() == [0, 0, 1, 2, -1, 3, -1, -1, -1]


def test_prediction_one_frame_late_scores_against_the_next_truth():
    metrics = RobotMetrics(info(), [STAMP0 + k * PERIOD_NS for k in range(3)])
    perfect_sequence(metrics)
    result = metrics.result()['streaming']
    assert result['available'] and result['frame_period_s'] == pytest.approx(0.1)
    classic, late, later = result['curve'][:3]
    assert classic == result['classic']
    assert classic['frames'] == 3 and classic['miou'] == 1.0 and classic['rmse'] == 0.0
    # One period late: prediction 0 against truth 1, prediction 1 against truth 2 (the
    # third has no next frame). Confusion (truth, pred): (0, 0) 1, (1, 0) 2, (1, 1) 5.
    assert late['latency_s'] == pytest.approx(0.1) and late['frames'] == 2
    assert late['miou'] == pytest.approx((1 / 3 + 5 / 7) / 2)
    assert late['pixel_accuracy'] == pytest.approx(6 / 8)
    assert late['rmse'] == pytest.approx(1.0) and late['abs_rel'] == pytest.approx(
        (4 * 1 / 2 + 4 * 1 / 3) / 8)
    # Two periods late: prediction 0 against truth 2 only; depth 2 m off.
    assert later['frames'] == 1 and later['rmse'] == pytest.approx(2.0)
    assert later['miou'] == pytest.approx((0 + 2 / 4) / 2)
    assert result['streaming'] is None and result['latency_s'] is None


def test_offline_measured_latency_and_live_publish_times():
    stamps = [STAMP0 + k * PERIOD_NS for k in range(3)]
    offline = RobotMetrics(info(), stamps, latency_source='test')
    perfect_sequence(offline, latency=0.15)
    result = offline.result()['streaming']
    assert result['latency_s'] == pytest.approx(0.15)
    # 0.15 s late is as one period late: the frame current then is the next one.
    assert result['streaming'] == {k: v for k, v in result['curve'][1].items()
                                   if k != 'latency_s'}
    # Live: frames sent at 10, 10.1, 10.2 s; answers at 10.05 (frame 0 still current),
    # 10.26 (frame 2 current) and never.
    live = RobotMetrics(info(), stamps, published=(np.array([10.0, 10.1, 10.2]),
                                                   np.array([10.05, 10.26, np.nan])))
    perfect_sequence(live)
    measured = live.result()['streaming']
    assert measured['latency_s'] == pytest.approx(np.median([0.05, 0.16]))
    # Prediction 0 against truth 0 (exact), prediction 1 against truth 2 (depth 1 m off).
    assert measured['streaming']['frames'] == 2
    assert measured['streaming']['rmse'] == pytest.approx(np.sqrt(4 / 8))


def test_single_frame_says_why_nothing_sequential_is_computed():
    metrics = RobotMetrics(info(), [STAMP0])
    metrics.add(0, {'segmentation': LABELS[0].astype(np.uint8)}, {'segmentation': LABELS[0]})
    result = metrics.result()
    assert not result['streaming']['available']
    assert 'no consecutive ground truth' in result['streaming']['reason']
    assert not result['stability']['available']
    assert not result['calibration']['available']
    assert '--confidence' in result['calibration']['reason']
    assert result['small_objects']['available']


def test_flickering_pixel():
    truth = {'segmentation': np.array([[0, 0], [1, 1], [0, 0]]),
             'depth': np.full((3, 2), 2.0)}
    moving = [np.array([[0, 0], [1, 1], [0, 0]]), np.array([[0, 0], [1, 1], [1, 1]])]
    preds = [np.array([[0, 0], [1, 1], [0, 0]]), np.array([[1, 0], [1, 1], [1, 1]]),
             np.array([[0, 0], [1, 1], [0, 0]])]
    depths = [np.full((3, 2), 2.0), np.full((3, 2), 2.0), np.full((3, 2), 2.0)]
    depths[1][1, 1] = 2.2
    stability = Stability(2)
    frames = []
    for k in range(3):
        # The bottom row's truth changes every frame: the scene moved there, not counted.
        labels = truth['segmentation'].copy()
        labels[2] = moving[k % 2][2]
        depth = truth['depth'].copy()
        depth[2] = 2.0 + k
        frames.append(({'segmentation': labels, 'depth': depth},
                       {'segmentation': preds[k], 'depth': depths[k]}))
    stability.update(frames[0], frames[1])
    stability.update(frames[1], frames[2])
    result = stability.result(['c0', 'c1'])
    # Per pair 4 unchanged pixels (2 of each class); pixel (0, 0) flips in both pairs.
    assert result['pairs'] == 2 and result['label_pixels'] == 8
    assert result['label_flip_rate'] == pytest.approx(2 / 8)
    assert result['label_flip_rate_per_class'] == {'c0': pytest.approx(0.5), 'c1': 0.0}
    # Depth: pixel (1, 1) (class 1) moves by 0.2 m on 2 m in both pairs.
    assert result['depth_pixels'] == 8
    assert result['depth_change'] == pytest.approx(2 * 0.1 / 8)
    assert result['depth_change_per_class'] == {'c0': 0.0, 'c1': pytest.approx(0.2 / 4)}


def test_stability_pairs_only_consecutive_frames():
    # Frames 0, 1 and, after a gap of a second, 2 and 3: pairs (0, 1) and (2, 3).
    stamps = [STAMP0, STAMP0 + PERIOD_NS, STAMP0 + 11 * PERIOD_NS, STAMP0 + 12 * PERIOD_NS]
    metrics = RobotMetrics(info(), stamps)
    labels = np.zeros((1, 2), np.uint8)
    for k in range(4):
        metrics.add(k, {'segmentation': labels}, {'segmentation': np.full((1, 2), k % 2)})
    result = metrics.result()['stability']
    assert result['pairs'] == 2 and result['label_flip_rate'] == 1.0


def test_one_small_and_one_large_object():
    truth = np.full((10, 10), 255)
    truth[0:2, 0:2] = 1   # 4 pixels: 4 % of the image
    truth[4:9, 3:9] = 1   # 30 pixels: 30 %
    pred = np.zeros((10, 10), np.int64)
    pred[0, 0:4] = 1      # half the small object, and 2 pixels beside it
    pred[4:9, 3:9] = 1
    metric = SmallObjects(2, edges=(0.0, 0.05, 1.0))
    metric.update(pred, truth)
    result = metric.result(['c0', 'c1'])
    assert result['bins'] == ['< 5 %', '5-100 %']
    assert result['objects'] == [1, 1]
    assert result['iou'] == [pytest.approx(2 / 6), 1.0]
    assert result['recall'] == [0.5, 1.0]
    assert list(result['per_class']) == ['c1']
    assert bin_names() == ['< 0.1 %', '0.1-1 %', '1-10 %', '10-100 %']


def test_ece_of_a_perfectly_calibrated_and_an_over_confident_classifier():
    # 10 pixels at 0.8 with 8 right, 10 at 0.5 with 5 right: accuracy = confidence.
    truth = np.zeros(20, np.int64)
    pred = np.array([0] * 8 + [1] * 2 + [0] * 5 + [1] * 5)
    confidence = np.array([0.8] * 10 + [0.5] * 10)
    calibrated = Calibration()
    calibrated.update(confidence, pred, truth)
    assert calibrated.result()['ece'] == pytest.approx(0.0, abs=1e-12)
    # Over-confident: 10 pixels at 0.9 with 6 right, plus the 10 calibrated at 0.5.
    pred = np.array([0] * 6 + [1] * 4 + [0] * 5 + [1] * 5)
    confidence = np.array([0.9] * 10 + [0.5] * 10)
    over = Calibration()
    over.update(confidence, pred, truth)
    result = over.result()
    assert result['ece'] == pytest.approx(0.5 * 0.3) and result['mce'] == pytest.approx(0.3)
    # 15 bins ((k-1)/15, k/15]: 0.9 is in bin 13 (0.8667, 0.9333], 0.5 in bin 7.
    assert result['count'][13] == 10 and result['count'][7] == 10
    assert result['accuracy'][13] == pytest.approx(0.6)


def test_depth_error_against_confidence_and_bin_edges():
    calibration = Calibration()
    confidence = np.array([1 / 15, 1.0, 0.0])
    depth_truth = np.array([2.0, 2.0, 0.0])
    depth_pred = np.array([3.0, 2.0, 5.0])
    calibration.update(confidence, np.zeros(3), np.array([0, 0, 255]), depth_pred, depth_truth)
    result = calibration.result()
    # 1/15 closes bin 0, 1.0 closes bin 14; the third pixel has no truth at all.
    assert result['count'][0] == 1 and result['count'][14] == 1 and result['pixels'] == 2
    assert result['depth_abs_rel'][0] == pytest.approx(0.5)
    assert result['depth_abs_rel'][14] == 0.0
    assert result['depth_pixels'][0] == 1


def test_temperature_scaling_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 3.0, (20000, 5))
    scaled = logits / 2.5
    probability = np.exp(scaled - scaled.max(1, keepdims=True))
    probability /= probability.sum(1, keepdims=True)
    labels = (probability.cumsum(1) > rng.random((20000, 1))).argmax(1)
    labels[:100] = 255
    assert fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.05)
    with pytest.raises(ValueError, match='no labelled pixel'):
        fit_temperature(logits[:3], np.full(3, 255))


def test_warp_follows_a_sideways_camera():
    # Plane 5 m ahead; the camera moves 0.5 m right: with fx = 10 px a point at column u
    # now was at column u + 1 before.
    K = np.array([[10.0, 0, 3.5], [0, 10.0, 1.5], [0, 0, 1]])
    depth = np.full((4, 8), 5.0)
    labels = np.tile(np.arange(8), (4, 1))
    pose0, pose1 = np.eye(4), np.eye(4)
    pose1[0, 3] = 0.5
    truth, pred = warp_previous(({'segmentation': labels, 'depth': depth},
                                 {'segmentation': labels, 'depth': depth + 1.0}),
                                depth, K, pose0, pose1)
    assert truth['segmentation'][:, :7].tolist() == labels[:, 1:].tolist()
    assert (truth['segmentation'][:, 7] == 255).all()
    np.testing.assert_allclose(truth['depth'][:, :7], 5.0)
    np.testing.assert_allclose(pred['depth'][:, :7], 6.0)
    # A prediction that moves with the scene does not flicker once warped; unwarped, the
    # unchanged-truth rule would leave nothing to compare.
    stability = Stability(8)
    seen = np.minimum(labels + 1, 7)  # the scene as the moved camera sees it
    current = ({'segmentation': seen, 'depth': depth},
               {'segmentation': seen, 'depth': depth + 1.0})
    stability.update((truth, pred), current)
    result = stability.result([str(c) for c in range(8)])
    assert result['label_pixels'] == 28 and result['label_flip_rate'] == 0.0
    assert result['depth_change'] == pytest.approx(0.0, abs=1e-6)


def test_warp_matches_the_next_synthetic_frame():
    # A car down a street: 94 % of the labels stay put unwarped, 99 % once warped.
    frames = list(render_sequence('outdoor', split_seeds('test')[0], 2, height=60, width=80))
    previous, current = frames
    truth, _ = warp_previous(({'segmentation': previous.labels, 'depth': previous.depth},
                              {'segmentation': previous.labels}),
                             current.depth, current.K, previous.pose, current.pose)
    traced = truth['segmentation'] != 255
    assert traced.mean() > 0.8
    warped = (truth['segmentation'] == current.labels)[traced].mean()
    unwarped = (previous.labels == current.labels)[traced].mean()
    assert warped > 0.98 and unwarped < 0.96


def test_latencies_measured_elsewhere_are_placed_on_the_curve_by_interpolation():
    # Points at 0, 100 and 200 ms: mIoU 0.6, 0.4, 0.3; RMSE 1, 2, 4 m. 150 ms lies halfway
    # between the last two: 0.35 and 3 m; 50 ms: 0.5 and 1.5 m; 300 ms is past the end.
    curve = [{'latency_s': 0.0, 'frames': 5, 'miou': 0.6, 'rmse': 1.0},
             {'latency_s': 0.1, 'frames': 4, 'miou': 0.4, 'rmse': 2.0},
             {'latency_s': 0.2, 'frames': 3, 'miou': 0.3, 'rmse': 4.0},
             {'latency_s': 0.3, 'frames': 0, 'miou': None, 'rmse': None}]
    marks = marked_latencies(curve, {'a': 0.15, 'b': 0.05, 'c': 0.3})
    assert [m['name'] for m in marks] == ['a', 'b', 'c']
    assert marks[0]['miou'] == pytest.approx(0.35) and marks[0]['rmse'] == pytest.approx(3.0)
    assert marks[1]['miou'] == pytest.approx(0.5) and marks[1]['rmse'] == pytest.approx(1.5)
    assert marks[2]['miou'] is None and marks[2]['rmse'] is None


def test_marks_on_the_command_line_are_name_equals_milliseconds():
    assert parse_marks(['openvino bf16=28.5', 'torch=180']) == {
        'openvino bf16': pytest.approx(0.0285), 'torch': pytest.approx(0.18)}
    for bad in ('28.5', 'x=fast', 'x=-3'):
        with pytest.raises(EvaluationError, match='NAME=MILLISECONDS'):
            parse_marks([bad])
