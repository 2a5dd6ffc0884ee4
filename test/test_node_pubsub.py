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

"""The node over real DDS on this machine: inputs, outputs, parameters, lifecycle."""

import contextlib
import io
import json
import shutil
import threading
import time

from cloud_fields import read_cloud
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import State
from multitask_seg.checkpoint import load_checkpoint, save_checkpoint
from multitask_seg.inference import Predictor
from multitask_seg.ros import node as node_module
from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.node import SegmentationNode
import numpy as np
from PIL import Image as PilImage
import psutil
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
import torch

DEPTH = 2.5
LABEL = 3
# Softmax of the constant logits (1 for class 3, 0 for the other four) at the argmax.
CONFIDENCE = np.e / (np.e + 4)
SUCCESS = TransitionCallbackReturn.SUCCESS
K = [40.0, 0.0, 31.5, 0.0, 30.0, 23.5, 0.0, 0.0, 1.0]


@pytest.fixture(scope='module')
def constant_checkpoint(tiny_checkpoint, tmp_path_factory):
    """Save the tiny model with heads that answer class 3 and 2.5 m at every pixel."""
    model, info, _ = load_checkpoint(tiny_checkpoint)
    with torch.no_grad():
        for head in model.heads.values():
            head.out.weight.zero_()
        model.heads['depth'].out.bias.fill_(DEPTH)
        model.heads['segmentation'].out.bias.copy_(torch.arange(5) == LABEL)
    return save_checkpoint(tmp_path_factory.mktemp('const') / 'const.pt', model, info)


@pytest.fixture
def start(module_context, constant_checkpoint):
    """Start the node and a probe on a background executor; tear both down afterwards."""
    stack = contextlib.ExitStack()

    def start(cameras=('cam',), outputs=('segmentation/labels', 'depth/image'),
              predictor_factory=Predictor, wait=True, headers_only=False, **params):
        params.setdefault('checkpoint', str(constant_checkpoint))
        overrides = [Parameter(k, value=v) for k, v in [('cameras', list(cameras)),
                                                        *params.items()]]
        node = SegmentationNode(context=module_context, parameter_overrides=overrides,
                                predictor_factory=predictor_factory)
        stack.callback(node.destroy_node)
        probe = ProbeNode(list(cameras), outputs, headers_only=headers_only,
                          context=module_context)
        stack.callback(probe.destroy_node)
        stack.enter_context(spinning(node, probe, context=module_context))
        if wait:
            assert probe.wait_matched(transport=params.get('transport', 'raw'))
        return node, probe

    with stack:
        yield start


def frame(node, height=48, width=64, frame_id='cam_optical', seed=0):
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return image_message(rgb, node.get_clock().now().to_msg(), frame_id)


def wait_until(condition, timeout=10.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, 'timed out'
        time.sleep(0.01)


def test_one_frame_gives_labels_and_depth_with_its_header(start):
    node, probe = start()
    sent = frame(node)
    probe.image_pubs['cam'].publish(sent)
    (_, labels), = probe.wait_for('cam/segmentation/labels', 1, 10)
    (_, depth), = probe.wait_for('cam/depth/image', 1, 10)
    for msg in (labels, depth):
        assert msg.header == sent.header
        assert (msg.height, msg.width) == (48, 64)
    assert (labels.encoding, labels.step) == ('mono8', 64)
    assert set(np.frombuffer(labels.data, np.uint8)) == {LABEL}
    assert (depth.encoding, depth.step) == ('32FC1', 256)
    np.testing.assert_allclose(np.frombuffer(depth.data, np.float32), DEPTH, rtol=1e-5)
    # The count is taken after the messages are out: wait for it, not for the messages.
    wait_until(lambda: node.stats.counts('cam').published == 1)
    # The model has no normals head, so the node offers no normals topic.
    assert node.count_publishers('/cam/normals/image') == 0


def test_confidence_only_while_subscribed(start):
    node, probe = start(outputs=('segmentation/labels', 'segmentation/confidence'))
    sent = frame(node)
    probe.image_pubs['cam'].publish(sent)
    (_, confidence), = probe.wait_for('cam/segmentation/confidence', 1, 10)
    assert confidence.header == sent.header and confidence.encoding == '32FC1'
    values = np.frombuffer(confidence.data, np.float32)
    # The constant model's softmax, by hand, at every pixel.
    assert values.shape == (48 * 64,)
    np.testing.assert_allclose(values, CONFIDENCE, rtol=1e-5)


def test_depth_in_millimetres(start):
    node, probe = start(depth_encoding='16UC1')
    probe.image_pubs['cam'].publish(frame(node))
    (_, depth), = probe.wait_for('cam/depth/image', 1, 10)
    assert depth.encoding == '16UC1'
    assert set(np.frombuffer(depth.data, np.uint16)) == {2500}


class FarPredictor(Predictor):
    """The constant model, with an 80 m range and depth 70 m, 80 m, 0.1 m, 2.5 m in columns."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.info.depth_range = [0.1, 80.0]

    def predict(self, images, timings=None, confidence=False):
        results = super().predict(images, timings, confidence)
        for result in results:
            columns = np.arange(result['depth'].shape[1]) % 4
            result['depth'][:] = np.array([70.0, 80.0, 0.1, DEPTH], np.float32)[columns]
        return results


@pytest.mark.parametrize('encoding, expected', [
    # 70 m is beyond what 16UC1 millimetres hold; 80 m and 0.1 m are the range's ends.
    ('16UC1', [0, 0, 0, 2500]), ('32FC1', [70.0, np.nan, np.nan, DEPTH])])
def test_depth_the_encoding_or_the_model_cannot_vouch_for_is_invalid(
        start, encoding, expected):
    node, probe = start(depth_encoding=encoding, predictor_factory=FarPredictor)
    probe.image_pubs['cam'].publish(frame(node))
    (_, depth), = probe.wait_for('cam/depth/image', 1, 10)
    dtype = np.uint16 if encoding == '16UC1' else np.float32
    values = np.frombuffer(depth.data, dtype).reshape(48, 64)
    np.testing.assert_array_equal(values[:, :4], np.broadcast_to(expected, (48, 4)))


class GatedPredictor(Predictor):
    """
    A Predictor that records batch sizes and runs a batch only when the test lets it.

    ``entered`` counts batches that reached the model; ``let_through(n)`` lets n more run.
    While a batch waits at the gate the node is as busy as with a slow model, but the test,
    not the clock, decides when it finishes.
    """

    def __init__(self, *args, **kwargs):
        self.sizes = []
        self.entered = threading.Semaphore(0)
        self._go = threading.Semaphore(0)
        super().__init__(*args, **kwargs)

    def let_through(self, batches: int = 1) -> None:
        self._go.release(batches)

    def wait_entered(self) -> None:
        assert self.entered.acquire(timeout=10), 'no batch reached the model'

    def predict(self, images, timings=None, confidence=False):
        self.sizes.append(len(images))
        self.entered.release()
        assert self._go.acquire(timeout=30), 'the test never let this batch through'
        return super().predict(images, timings, confidence)


@pytest.fixture
def gated(start):
    """
    Return a predictor factory and the predictors it built; open their gates at the end.

    Depending on ``start`` makes the gates open before the node is torn down.
    """
    predictors = []

    def factory(*args, **kwargs):
        predictors.append(GatedPredictor(*args, **kwargs))
        return predictors[-1]

    yield factory, predictors
    for predictor in predictors:
        predictor.let_through(1000)


def test_two_cameras_share_one_batch(start, gated):
    factory, predictors = gated
    node, probe = start(cameras=('left', 'right'), predictor_factory=factory)
    probe.image_pubs['left'].publish(frame(node, frame_id='left'))
    predictors[0].wait_entered()
    # Both arrive while the worker is held with the first, so they go in one batch.
    probe.image_pubs['left'].publish(frame(node, frame_id='left'))
    probe.image_pubs['right'].publish(frame(node, 40, 40, frame_id='right'))
    wait_until(lambda: (node.stats.counts('left').received,
                        node.stats.counts('right').received) == (2, 1))
    predictors[0].let_through(2)
    left = probe.wait_for('left/depth/image', 2, 10)
    (_, right), = probe.wait_for('right/depth/image', 1, 10)
    assert [m.header.frame_id for _, m in left] == ['left', 'left']
    assert (right.header.frame_id, right.height, right.width) == ('right', 40, 40)
    assert predictors[0].sizes == [1, 2]


def compressed(rgb: np.ndarray, fmt: str, node) -> CompressedImage:
    buffer = io.BytesIO()
    PilImage.fromarray(rgb).save(buffer, format=fmt)
    msg = CompressedImage(format=fmt.lower(), data=buffer.getvalue())
    msg.header.stamp = node.get_clock().now().to_msg()
    msg.header.frame_id = fmt
    return msg


def test_compressed_png_and_jpeg(start):
    node, probe = start(cameras=('a', 'b'), transport='compressed')
    rgb = np.full((30, 50, 3), 120, np.uint8)
    png, jpeg = compressed(rgb, 'PNG', node), compressed(rgb, 'JPEG', node)
    probe.compressed_pubs['a'].publish(png)
    probe.compressed_pubs['b'].publish(jpeg)
    (_, a), = probe.wait_for('a/segmentation/labels', 1, 10)
    (_, b), = probe.wait_for('b/segmentation/labels', 1, 10)
    assert a.header == png.header and b.header == jpeg.header
    assert (a.height, a.width, b.height, b.width) == (30, 50, 30, 50)


def test_cloud_and_colour_only_while_subscribed(start, monkeypatch):
    calls = {'colorize': 0, 'cloud_points': 0}
    for name in calls:
        original = getattr(node_module, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(node_module, name, counted)
    node, probe = start(outputs=('segmentation/labels', 'depth/camera_info'))
    probe.info_pubs['cam'].publish(CameraInfo(width=64, height=48, k=K))
    wait_until(lambda: 'cam' in node._infos)
    probe.image_pubs['cam'].publish(frame(node))
    probe.wait_for('cam/depth/camera_info', 1, 10)
    assert calls == {'colorize': 0, 'cloud_points': 0}


def test_point_cloud_through_the_node(start):
    node, probe = start(outputs=('points', 'segmentation/color', 'depth/camera_info'),
                        cloud_decimation=2, overlay_alpha=0.5)
    # Calibrated at twice the image size: the node scales K to 64 x 48.
    k_full = np.array(K).reshape(3, 3) * [[2], [2], [1]]
    probe.info_pubs['cam'].publish(CameraInfo(width=128, height=96, k=k_full.ravel()))
    wait_until(lambda: 'cam' in node._infos)
    sent = frame(node)
    probe.image_pubs['cam'].publish(sent)
    (_, cloud), = probe.wait_for('cam/points', 1, 10)
    (_, info), = probe.wait_for('cam/depth/camera_info', 1, 10)
    (_, color), = probe.wait_for('cam/segmentation/color', 1, 10)
    np.testing.assert_allclose(info.k, K)
    assert info.header == sent.header and cloud.header == sent.header
    assert (cloud.height, cloud.width) == (24, 32)
    points = read_cloud(cloud)
    row, col = 5, 7
    u, v = col * 2, row * 2
    expected = ((u - 31.5) * DEPTH / 40.0, (v - 23.5) * DEPTH / 30.0, DEPTH)
    got = points[row, col]
    np.testing.assert_allclose([got['x'], got['y'], got['z']], expected, rtol=1e-5)
    assert set(points['label'].ravel()) == {LABEL}
    image = np.frombuffer(sent.data, np.uint8).reshape(48, 64, 3).astype(int)
    lut = np.array(node.get_parameter('class_colors').value).reshape(-1, 3)
    blended = np.frombuffer(color.data, np.uint8).reshape(48, 64, 3)
    np.testing.assert_allclose(blended, (image + lut[LABEL]) / 2, atol=1)


class RecordingLogger:
    """Stands in for the node's logger: records (level, text), every level enabled."""

    def __init__(self):
        self.lines = []
        self._lock = threading.Lock()

    def is_enabled_for(self, severity):
        return True

    def _record(self, level, text):
        with self._lock:
            self.lines.append((level, text))

    def texts(self, level=None):
        with self._lock:
            return [text for lvl, text in self.lines if level in (None, lvl)]

    def __getattr__(self, level):
        if level not in ('debug', 'info', 'warning', 'warn', 'error', 'fatal'):
            raise AttributeError(level)
        return lambda text, **_: self._record('warning' if level == 'warn' else level, text)


def record_logs(node, monkeypatch) -> RecordingLogger:
    logger = RecordingLogger()
    monkeypatch.setattr(node, 'get_logger', lambda: logger)
    return logger


def report_values(node, camera='cam'):
    status = next(s for s in node.stats.report(1.0) if s.name.endswith(f'camera {camera}'))
    return status, {kv.key: kv.value for kv in status.values}


def test_bad_frames_are_counted_and_the_node_keeps_going(start, monkeypatch):
    node, probe = start(max_pixels=100 * 100)
    logger = record_logs(node, monkeypatch)
    good = frame(node)
    bad = []
    for change in ({'step': 10}, {'data': bytes(100)}, {'encoding': 'yuv422'},
                   {'height': 0, 'width': 0, 'step': 0, 'data': b''},
                   {'height': 8000, 'width': 8000, 'step': 24000}):
        msg = frame(node)
        for key, value in change.items():
            setattr(msg, key, value)
        bad.append(msg)
    bad.append(frame(node, 120, 120))
    for count, msg in enumerate(bad, 1):
        probe.image_pubs['cam'].publish(msg)
        wait_until(lambda: node.stats.counts('cam').bad == count)
    probe.image_pubs['cam'].publish(good)
    (_, labels), = probe.wait_for('cam/segmentation/labels', 1, 10)
    assert labels.header == good.header
    wait_until(lambda: node.stats.counts('cam').published == 1)
    assert node.stats.counts('cam').bad == 6
    # Every kind of reason is logged although they came within one throttling period;
    # the second too-large frame is a repeat of a kind and is only counted.
    errors = logger.texts('error')
    for reason in ('step 10 is shorter than a row', 'data has 100 bytes',
                   "'yuv422' needs cv_bridge", 'empty image (0x0)',
                   'image 8000x8000 is larger than max_pixels=10000'):
        assert sum(reason in text for text in errors) == 1, (reason, errors)
    assert len(errors) == 5
    _, values = report_values(node)
    assert values['bad total: image NxN is larger than max_pixels=N'] == '2'
    assert values['bad total: step N is shorter than a row (N x N bytes)'] == '1'


def test_missing_camera_info_is_said_once(start, monkeypatch):
    node, probe = start(outputs=('depth/image', 'depth/camera_info'))
    logger = record_logs(node, monkeypatch)
    for seed in range(2):
        probe.image_pubs['cam'].publish(frame(node, seed=seed))
        wait_until(lambda: node.stats.counts('cam').published == seed + 1)
    warnings = [t for t in logger.texts('warning') if 'no camera_info' in t]
    assert len(warnings) == 1 and 'no cam/points' in warnings[0]
    _, values = report_values(node)
    assert values['camera_info'].startswith('none received')
    assert probe.received['cam/depth/camera_info'] == []


def test_calibration_of_another_aspect_ratio_gives_no_cloud(start, monkeypatch):
    node, probe = start(outputs=('points', 'depth/camera_info', 'depth/image'))
    logger = record_logs(node, monkeypatch)
    # A 16:9 calibration for a 4:3 image (64x36 against 64x48).
    probe.info_pubs['cam'].publish(CameraInfo(width=64, height=36, k=K))
    wait_until(lambda: 'cam' in node._infos)
    for seed in range(2):
        probe.image_pubs['cam'].publish(frame(node, seed=seed))
        wait_until(lambda: node.stats.counts('cam').published == seed + 1)
    warnings = [t for t in logger.texts('warning') if 'calibrated for 64x36' in t]
    assert len(warnings) == 1 and 'the image is 64x48' in warnings[0]
    status, values = report_values(node)
    assert status.level == DiagnosticStatus.WARN
    assert values['camera_info'].startswith('not used: calibrated for 64x36')
    # With a matching calibration the next frame gets its cloud; publishers deliver in
    # order, so a cloud from the refused calibration would have arrived first.
    probe.info_pubs['cam'].publish(CameraInfo(width=64, height=48, k=K))
    wait_until(lambda: node._infos['cam'].height == 48)
    good = frame(node, seed=2)
    probe.image_pubs['cam'].publish(good)
    (_, cloud), = probe.wait_for('cam/points', 1, 10)
    (_, info), = probe.wait_for('cam/depth/camera_info', 1, 10)
    assert cloud.header == good.header and info.header == good.header
    assert report_values(node)[1]['camera_info'] == 'ok'


def test_debug_log_of_stages_and_qos_matches(start, monkeypatch):
    node, probe = start()
    logger = record_logs(node, monkeypatch)
    extra = probe.create_publisher(Image, 'cam/image_raw', 10)
    wait_until(lambda: any('2 publisher(s) matched' in t for t in logger.texts('debug')))
    matched = next(t for t in logger.texts('debug') if '2 publisher(s) matched' in t)
    assert 'multitask_seg_probe reliable' in matched and 'this subscription: reliable' in matched
    probe.image_pubs['cam'].publish(frame(node))
    probe.wait_for('cam/segmentation/labels', 1, 10)
    wait_until(lambda: any(t.startswith('batch of 1 (cam)') for t in logger.texts('debug')))
    stages = next(t for t in logger.texts('debug') if t.startswith('batch of 1 (cam)'))
    for stage in ('wait', 'convert', 'preprocess', 'infer', 'postprocess', 'publish'):
        assert f'{stage} ' in stages and ' ms' in stages
    probe.destroy_publisher(extra)


def test_class_info_parameters_and_topic(start):
    node, probe = start(overlay_alpha=0.3)
    assert node.get_parameter('class_names').value == ['a', 'b', 'c', 'd', 'e']
    assert len(node.get_parameter('class_colors').value) == 15
    (_, info), = probe.wait_for('class_info', 1, 10)
    info = json.loads(info.data)
    assert info['classes'] == ['a', 'b', 'c', 'd', 'e']
    assert info['depth_range'] == [0.1, 10.0]
    refused = node.set_parameters([Parameter('class_names', value=['x'])])[0]
    assert not refused.successful
    bad_alpha = node.set_parameters([Parameter('overlay_alpha', value=2.0)])[0]
    assert not bad_alpha.successful and 'overlay_alpha' in bad_alpha.reason
    assert node.set_parameters([Parameter('overlay_alpha', value=0.7)])[0].successful
    assert node.settings.overlay_alpha == 0.7
    assert not node.set_parameters([Parameter('device', value='cuda')])[0].successful


def test_diagnostics_report_each_camera(start, module_context):
    node, probe = start(diagnostics_period=0.2, deadline_ms=0.001)
    reports = []
    sub = probe.create_subscription(DiagnosticArray, '/diagnostics', reports.append, 10)
    probe.image_pubs['cam'].publish(frame(node))
    probe.wait_for('cam/depth/image', 1, 10)
    wait_until(lambda: any(s.name.endswith('camera cam') and 'deadline' in s.message
                           for r in reports for s in r.status))
    status = next(s for r in reports for s in r.status if 'deadline' in s.message)
    assert status.level == DiagnosticStatus.WARN
    keys = {kv.key for kv in status.values}
    assert {'fps', 'dropped total', 'bad total', 'stamp_to_publish ms median',
            'receive_to_publish ms median'} <= keys
    stages = next(s for r in reports for s in r.status if s.name.endswith('inference'))
    assert {'convert ms median', 'preprocess ms median', 'infer ms median',
            'postprocess ms median', 'publish ms median'} <= {kv.key for kv in stages.values}
    probe.destroy_subscription(sub)


def test_managed_node_follows_lifecycle_transitions(start):
    node, probe = start(managed=True, wait=False)
    assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
    assert node._predictor is None
    for _ in range(2):
        assert node.trigger_configure() == SUCCESS
        assert node._predictor is not None
        assert node.trigger_activate() == SUCCESS
        assert probe.wait_matched()
        probe.clear()
        probe.image_pubs['cam'].publish(frame(node))
        probe.wait_for('cam/segmentation/labels', 1, 10)
        assert node.trigger_deactivate() == SUCCESS
        assert node.trigger_cleanup() == SUCCESS
        assert node._predictor is None and node._worker is None


def test_managed_node_without_its_checkpoint_stays_unconfigured(module_context, tmp_path,
                                                                constant_checkpoint):
    path = tmp_path / 'later.pt'
    node = SegmentationNode(context=module_context, parameter_overrides=[
        Parameter('managed', value=True), Parameter('checkpoint', value=str(path)),
        Parameter('cameras', value=['cam'])])
    try:
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
        assert 'later.pt does not exist' in node._error
        # Alive: once the file is there, the next configure succeeds.
        shutil.copy(constant_checkpoint, path)
        assert node.trigger_configure() == SUCCESS
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_INACTIVE
    finally:
        node.destroy_node()


@pytest.mark.parametrize('params, message', [
    ({'checkpoint': '/nonexistent.pt'}, 'parameter checkpoint: file /nonexistent.pt'),
    ({'input_qos': 'fast'}, 'parameter input_qos'),
    ({'cameras': []}, 'parameter cameras: empty'),
    ({'cameras': 'front'}, 'parameter cameras: must be a list'),
    ({'output_depth': 'deep'}, 'parameter output_depth: wrong type'),
])
def test_start_up_errors_name_the_parameter(module_context, constant_checkpoint, params, message):
    params = {'checkpoint': str(constant_checkpoint), **params}
    overrides = [Parameter(k, value=v) for k, v in params.items()]
    with pytest.raises(ValueError, match=message):
        SegmentationNode(context=module_context, parameter_overrides=overrides)


def test_empty_checkpoint_starts_the_bundled_model(module_context):
    from multitask_seg.bundled import default_checkpoint

    node = SegmentationNode(context=module_context, parameter_overrides=[
        Parameter('checkpoint', value=''), Parameter('cameras', value=['cam'])])
    try:
        assert node.settings.checkpoint == str(default_checkpoint())
        assert node._predictor is not None
    finally:
        node.destroy_node()


def test_corrupt_checkpoint_fails_clearly(module_context, tmp_path):
    path = tmp_path / 'broken.pt'
    path.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='parameter checkpoint: .*broken.pt is not a torch'):
        SegmentationNode(context=module_context,
                         parameter_overrides=[Parameter('checkpoint', value=str(path))])


def flood(start, gated, rounds: int, per_round: int, height: int, width: int) -> None:
    """
    Send ``per_round`` frames while the model is held on one, ``rounds`` times over.

    Each frame is sent once the node has received the one before, so none is lost on the
    way and the counts are exact: of every round only the newest frame may wait, the rest
    are dropped, and the answers are the first frame and the newest frame of each round.
    """
    factory, predictors = gated
    node, probe = start(predictor_factory=factory, outputs=('depth/image',),
                        headers_only=True)
    process = psutil.Process()
    rss = []
    sent = 0

    def send() -> None:
        nonlocal sent
        msg = frame(node, height, width, seed=sent % 4)
        msg.header.stamp.sec, msg.header.stamp.nanosec = sent, 0
        probe.image_pubs['cam'].publish(msg)
        sent += 1
        wait_until(lambda: node.stats.counts('cam').received == sent)

    send()
    predictors[0].wait_entered()
    for done in range(1, rounds + 1):
        for _ in range(per_round):
            send()
        predictors[0].let_through()
        predictors[0].wait_entered()  # the newest waiting frame went to the model
        assert len(probe.wait_for('cam/depth/image', done, 10)) == done
        if done in (rounds // 4, rounds):
            rss.append(process.memory_info().rss)
    predictors[0].let_through()
    answers = probe.wait_for('cam/depth/image', rounds + 1, 10)
    assert [header.stamp.sec for _, header in answers] == list(
        range(0, rounds * per_round + 1, per_round))
    counts = node.stats.counts('cam')
    assert (counts.received, counts.dropped, counts.bad) == (
        rounds * per_round + 1, rounds * (per_round - 1), 0)
    wait_until(lambda: node.stats.counts('cam').published == rounds + 1)
    assert predictors[0].sizes == [1] * (rounds + 1)
    growth = (rss[1] - rss[0]) / 2**20
    assert growth < 20, f'RSS grew by {growth:.1f} MiB'


def test_flood_drops_frames_instead_of_queueing(start, gated):
    # 200 frames at 120 x 160 keep the suite fast; the 2000-frame 640 x 480 soak below is
    # marked slow.
    flood(start, gated, 20, 10, 120, 160)


@pytest.mark.slow
def test_flood_soak_640x480(start, gated):
    flood(start, gated, 200, 10, 480, 640)
