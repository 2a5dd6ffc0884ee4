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

"""multitask_seg_eval end to end on small generated bags: offline, live, recorded, bad bags."""

import json
from pathlib import Path
import shutil

from multitask_seg.checkpoint import default_info, load_checkpoint, save_checkpoint
from multitask_seg.data.bag_writer import BagTopics, BagWriter
from multitask_seg.evaluation.cli import main
from multitask_seg.evaluation.live import node_process, params_file
from multitask_seg.evaluation.scoring import Scorer
from multitask_seg.inference import Predictor
from multitask_seg.metrics import SegmentationMetric
from multitask_seg.model import ModelConfig
import numpy as np
import pytest
import torch

FRAMES = 4
STAMP0 = 1_700_000_000_000_000_000
PERIOD = 100_000_000
OUTPUTS = BagTopics(segmentation='/camera/segmentation/labels', depth='/camera/depth/image')


def make_frames(count: int = FRAMES) -> list[dict]:
    """Return frames of 48 x 64 noise: rgb, labels 0-4 (top rows 255), depth (bottom 0)."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(count):
        labels = rng.integers(0, 5, (48, 64)).astype(np.uint8)
        labels[:4] = 255
        depth = rng.uniform(0.5, 8.0, (48, 64)).astype(np.float32)
        depth[-4:] = 0
        frames.append({'stamp': STAMP0 + i * PERIOD, 'rgb': rng.integers(
            0, 256, (48, 64, 3), dtype=np.uint8), 'labels': labels, 'depth': depth})
    return frames


def write_bag(path: Path, frames: list[dict], topics: BagTopics = BagTopics(),
              stamp_shift: int = 0) -> Path:
    """Write frames with camera info and ground truth; return the bag path."""
    with BagWriter(str(path), topics=topics) as writer:
        for f in frames:
            writer.write(f['stamp'] + stamp_shift, f['rgb'], K=np.eye(3),
                         labels=f['labels'], depth=f['depth'])
    return path


@pytest.fixture(scope='module')
def bag(tmp_path_factory) -> Path:
    return write_bag(tmp_path_factory.mktemp('bag') / 'truth', make_frames())


def run(*argv) -> tuple[int, dict | None]:
    """Run multitask_seg_eval; return its status and results.json (None if not written)."""
    status = main([str(a) for a in argv])
    out = Path(argv[argv.index('--out') + 1]) / 'results.json'
    return status, json.loads(out.read_text()) if out.exists() else None


@pytest.fixture(scope='module')
def depth_checkpoint(tiny_checkpoint, tmp_path_factory) -> Path:
    """Return the tiny model with its range 0.1-2 m and a third of its depth above 2 m."""
    # Depth is spread and shifted by measurement, not by a guessed scale: the same split
    # holds whatever the random weights are, and few pixels lie close enough to 2 m for
    # two engines' rounding to put them on different sides.
    model, info, _ = load_checkpoint(tiny_checkpoint)
    folder = tmp_path_factory.mktemp('depth')
    head = model.heads['depth'].out
    with torch.no_grad():
        head.bias.zero_()
    info.depth_range = [-1e6, 1e6]  # nothing clamped: the raw output
    raw = np.stack([p['depth'] for p in Predictor(
        save_checkpoint(folder / 'raw.pt', model, info), engine='torch').predict(
            [f['rgb'] for f in make_frames()])])
    scale = 0.5 / float(raw.std())  # about 0.5 m between pixels
    with torch.no_grad():
        head.weight.mul_(scale)
        head.bias.fill_(2.0 - scale * float(np.percentile(raw, 67)))
    info.depth_range = [0.1, 2.0]
    return save_checkpoint(folder / 'lifted.pt', model, info)


def test_offline_gives_the_inference_cores_metrics(bag, depth_checkpoint, tmp_path):
    tiny_checkpoint = depth_checkpoint
    status, results = run('offline', bag, '--checkpoint', tiny_checkpoint, '--out', tmp_path,
                          '--batch-size', 3, '--latency', 0.15)
    assert status == 0 and results['complete']
    assert results['counts'] == {'frames': FRAMES, 'scored': FRAMES, 'missing': 0,
                                 'failed': 0, 'unseen': 0}
    frames = make_frames()
    predictor = Predictor(tiny_checkpoint)
    predictions = predictor.predict([f['rgb'] for f in frames])
    seg = SegmentationMetric(5)
    squared, scored, truth_pixels = 0.0, 0, 0
    low, high = predictor.info.depth_range
    for f, p in zip(frames, predictions):
        seg.update(p['segmentation'], f['labels'])
        # Scored as the node publishes it: depth at the ends of the model's range is no
        # measurement and is left out (RMSE over the set's remaining valid pixels).
        truth = f['depth'] > 0
        kept = truth & (p['depth'] > low) & (p['depth'] < high)
        squared += float(((p['depth'][kept] - f['depth'][kept]) ** 2).sum())
        scored, truth_pixels = scored + int(kept.sum()), truth_pixels + int(truth.sum())
    assert results['segmentation']['miou'] == pytest.approx(seg.compute()['miou'])
    assert 0 < scored < truth_pixels  # some depth at the range's ends, most inside it
    assert results['depth']['rmse'] == pytest.approx((squared / scored) ** 0.5, rel=1e-5)
    assert results['depth']['coverage'] == pytest.approx(scored / truth_pixels)
    # 0.15 s after frame t, frame t + 1 is current (frames 0.1 s apart; the last has none).
    late = SegmentationMetric(5)
    for k in range(FRAMES - 1):
        late.update(predictions[k]['segmentation'], frames[k + 1]['labels'])
    streaming = results['streaming']
    assert streaming['latency_s'] == 0.15 and streaming['streaming']['frames'] == FRAMES - 1
    assert streaming['streaming']['miou'] == pytest.approx(late.compute()['miou'])
    assert streaming['classic']['miou'] == pytest.approx(seg.compute()['miou'])
    assert results['calibration']['available'] and results['stability']['pairs'] == FRAMES - 1
    for name in ('summary.md', 'samples.png', 'confusion.png', 'depth_error.png',
                 'streaming.png', 'stability.png', 'small_objects.png', 'reliability.png'):
        assert (tmp_path / name).stat().st_size > 0, name


def test_recorded_scores_outputs_by_stamp(bag, tiny_checkpoint, tmp_path):
    # Perfect outputs for all frames but the last: that one counts as missing.
    outputs = write_bag(tmp_path / 'outputs', make_frames()[:-1], OUTPUTS)
    status, results = run('recorded', bag, '--predictions', outputs, '--checkpoint',
                          tiny_checkpoint, '--out', tmp_path / 'report')
    assert status == 0 and results['complete']
    assert results['counts']['scored'] == FRAMES - 1 and results['counts']['missing'] == 1
    assert results['segmentation']['miou'] == 1.0
    assert results['depth']['rmse'] == 0.0 and results['depth']['delta1'] == 1.0
    # One period late, output k meets the truth of frame k + 1, the last frame's too.
    frames, late = make_frames(), SegmentationMetric(5)
    for k in range(FRAMES - 1):
        late.update(frames[k]['labels'], frames[k + 1]['labels'])
    assert results['streaming']['curve'][1]['miou'] == pytest.approx(late.compute()['miou'])
    assert results['streaming']['streaming'] is None
    # Exact outputs never flip where the truth stays.
    assert results['stability']['label_flip_rate'] == 0.0
    assert not results['calibration']['available']
    assert 'Not computed' in (tmp_path / 'report' / 'summary.md').read_text()


def test_recorded_ros1_outputs_and_images_decoded_only_for_pictures(
        bag, tiny_checkpoint, tmp_path, monkeypatch):
    from multitask_seg.data import bag_reader

    outputs = tmp_path / 'outputs.bag'
    with BagWriter(str(outputs), storage='ros1', topics=OUTPUTS) as writer:
        for f in make_frames():
            writer.write(f['stamp'], f['rgb'], labels=f['labels'], depth=f['depth'])
    decoded = []
    original = bag_reader.rgb_from_image
    monkeypatch.setattr(bag_reader, 'rgb_from_image', lambda *a: decoded.append(1) or original(*a))
    status, results = run('recorded', bag, '--predictions', outputs, '--checkpoint',
                          tiny_checkpoint, '--out', tmp_path / 'report', '--samples', 2)
    assert status == 0 and results['counts']['scored'] == FRAMES
    assert results['segmentation']['miou'] == 1.0 and results['depth']['rmse'] == 0.0
    assert len(decoded) == 2  # the two frames of samples.png; the node decodes the rest


def test_live_replays_to_the_node_and_stops_it(bag, tiny_checkpoint, tmp_path, running_nodes):
    status, results = run('live', bag, '--checkpoint', tiny_checkpoint, '--out', tmp_path,
                          '--settle', 2)
    assert not running_nodes(), 'the node is still running'
    assert status == 0 and results['complete'], results
    live = results['live']
    assert live['sent'] == FRAMES and live['answered'] + live['dropped'] == FRAMES
    assert live['answered'] == results['counts']['scored'] > 0
    assert live['latency']['p50_ms'] > 0 and live['fps'] > 0
    assert (tmp_path / 'latency.png').is_file() and (tmp_path / 'node.log').is_file()
    # What the node published was recorded; scoring that bag again gives the same figures.
    again = tmp_path / 'again'
    assert run('recorded', bag, '--predictions', tmp_path / 'predictions', '--checkpoint',
               tiny_checkpoint, '--out', again)[1]['segmentation'] == results['segmentation']


def test_live_attaches_to_a_running_node(bag, tiny_checkpoint, tmp_path):
    with node_process(tiny_checkpoint, 'front', 'raw', params_file(), tmp_path / 'node.log'):
        status, results = run('live', bag, '--attach', '--camera', 'front', '--out',
                              tmp_path / 'report', '--settle', 2)
    assert status == 0 and results['live']['sent'] == FRAMES
    assert results['inputs']['checkpoint'] == 'attached node'


def test_interrupted_run_is_not_complete(bag, tiny_checkpoint, tmp_path, monkeypatch):
    calls = []

    def predict(self, images, *args, **kwargs):
        calls.append(len(images))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, images, *args, **kwargs)

    original = Predictor.predict
    monkeypatch.setattr(Predictor, 'predict', predict)
    status, results = run('offline', bag, '--checkpoint', tiny_checkpoint, '--out', tmp_path,
                          '--batch-size', 2)
    assert status == 130 and results['interrupted'] and not results['complete']
    assert results['counts']['scored'] == 2 and results['counts']['unseen'] == 2


@pytest.mark.parametrize('options, names', [
    (['--label-topic', '/nope'], ['/nope']),
    (['--image-topic', '/camera/camera_info'], ['/camera/camera_info', 'CameraInfo']),
    (['--checkpoint', '/no/such/model.pt'], ['/no/such/model.pt']),
])
def test_bad_inputs_name_the_topic_or_file(bag, tiny_checkpoint, tmp_path, capsys, options,
                                           names):
    status, results = run('offline', bag, '--checkpoint', tiny_checkpoint, *options,
                          '--out', tmp_path)
    error = capsys.readouterr().err
    assert status == 2 and results is None
    assert all(name in error for name in names), error


def test_truncated_bag_is_named(bag, tiny_checkpoint, tmp_path, capsys):
    broken = Path(shutil.copytree(bag, tmp_path / 'broken'))
    data = next(broken.glob('*.mcap'))
    data.write_bytes(data.read_bytes()[:data.stat().st_size // 2])
    status, _ = run('offline', broken, '--checkpoint', tiny_checkpoint, '--out', tmp_path)
    assert status == 2 and str(broken) in capsys.readouterr().err


def test_outputs_with_no_matching_stamp_are_refused(bag, tiny_checkpoint, tmp_path, capsys):
    outputs = write_bag(tmp_path / 'outputs', make_frames(), OUTPUTS, stamp_shift=1)
    status, _ = run('recorded', bag, '--predictions', outputs, '--checkpoint',
                    tiny_checkpoint, '--out', tmp_path / 'report')
    error = capsys.readouterr().err
    assert status == 2 and str(outputs) in error and '/camera/image_raw' in error


def test_a_bad_frame_mid_bag_leaves_an_incomplete_report(tiny_checkpoint, tmp_path):
    frames = make_frames()
    frames[2]['labels'] = frames[2]['labels'][:10]
    bad = write_bag(tmp_path / 'bad', frames)
    status, results = run('offline', bad, '--checkpoint', tiny_checkpoint, '--out',
                          tmp_path / 'report')
    assert status == 1 and not results['complete']
    assert results['counts']['scored'] == 2 and results['counts']['unseen'] == 2
    assert '/camera/segmentation/ground_truth' in results['stopped_by']
    assert 'INCOMPLETE' in (tmp_path / 'report' / 'summary.md').read_text()


def test_scorer_shifts_truth_into_the_models_classes_and_spreads_samples():
    info = default_info(ModelConfig(tasks={'segmentation': 5, 'depth': 1}))
    scorer = Scorer(info, frames=5, samples=2, label_offset=3)
    truth = {'segmentation': np.array([[0, 1, 255]], np.uint8)}
    image = np.zeros((1, 3, 3), np.uint8)
    scorer.miss()
    for index in range(1, 5):
        scorer.add(index, image, truth, {'segmentation': np.array([[3, 4, 0]])})
    result = scorer.result()
    assert result['segmentation']['miou'] == 1.0 and result['complete']
    assert result['segmentation']['iou']['class_0'] is None
    # Frame 0 (wanted) had no output: the next scored frame stands in for it.
    assert len(scorer.samples) == 2
