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

"""The teacher labeller: fills only what is missing, and survives being killed."""

import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from distill import label
from multitask_seg.data import FolderDataset, FolderWriter
from multitask_seg.inference import Predictor
import numpy as np
from PIL import Image
import pytest

H, W = 40, 56


@pytest.fixture
def dataset(tmp_path):
    """Twelve random frames; the first four have segmentation, the first two depth."""
    writer = FolderWriter(str(tmp_path / 'data'), classes=list('abcde'), colors=[[0, 0, 0]] * 5,
                          K=np.eye(3), width=W, height=H)
    rng = np.random.default_rng(0)
    for i in range(12):
        writer.write(f's{i:02d}', rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
                     segmentation=np.zeros((H, W), np.uint8) if i < 4 else None,
                     depth=np.ones((H, W), np.float32) if i < 2 else None)
    return tmp_path / 'data'


def test_fills_only_missing_and_matches_the_teacher(tiny_checkpoint, dataset, tmp_path):
    out = tmp_path / 'pseudo'
    assert label.main(['--teacher', str(tiny_checkpoint), '--input', str(dataset),
                       '--output', str(out), '--batch-size', '5', '--device', 'cpu']) == 0
    seg = sorted(p.stem for p in (out / 'segmentation').glob('*.png'))
    depth = sorted(p.stem for p in (out / 'depth').glob('*.png'))
    assert seg == [f's{i:02d}' for i in range(4, 12)]
    assert depth == [f's{i:02d}' for i in range(2, 12)]
    # The written label is the teacher's prediction, exactly.
    image = np.asarray(Image.open(dataset / 'images' / 's07.png'))
    expected = Predictor(tiny_checkpoint).predict_one(image)
    assert np.array_equal(np.asarray(Image.open(out / 'segmentation' / 's07.png')),
                          expected['segmentation'])
    # The output is itself a dataset folder the trainer can read.
    manifest = json.loads((out / 'manifest.json').read_text())['runs'][0]
    assert manifest['written'] == 18 and manifest['skipped_ground_truth'] == 6
    assert len(manifest['teacher_sha256']) == 64


def test_overwrite_and_confidence(tiny_checkpoint, dataset, tmp_path):
    out = tmp_path / 'pseudo'
    assert label.main(['--teacher', str(tiny_checkpoint), '--input', str(dataset),
                       '--output', str(out), '--tasks', 'segmentation',
                       '--overwrite-ground-truth', '--confidence', '0.999']) == 0
    files = list((out / 'segmentation').glob('*.png'))
    assert len(files) == 12 and not (out / 'depth').exists()
    # A random 5-class teacher is never 99.9% sure: everything becomes 'ignore'.
    assert all((np.asarray(Image.open(f)) == 255).all() for f in files)


def test_plain_image_folder(tiny_checkpoint, tmp_path):
    (tmp_path / 'imgs').mkdir()
    for i in range(3):
        Image.new('RGB', (30, 20), (i * 50, 0, 0)).save(tmp_path / 'imgs' / f'{i}.jpg')
    assert label.main(['--teacher', str(tiny_checkpoint), '--input', str(tmp_path / 'imgs'),
                       '--output', str(tmp_path / 'out')]) == 0
    assert len(list((tmp_path / 'out' / 'depth').glob('*.png'))) == 3


def test_bad_inputs_exit_2_naming_the_problem(tiny_checkpoint, dataset, tmp_path, capsys):
    assert label.main(['--teacher', str(tiny_checkpoint), '--input', str(tmp_path / 'no'),
                       '--output', str(tmp_path / 'o')]) == 2
    assert 'no does not exist' in capsys.readouterr().err
    assert label.main(['--teacher', str(tiny_checkpoint), '--input', str(dataset),
                       '--output', str(tmp_path / 'o'), '--tasks', 'normals']) == 2
    assert "cannot label ['normals']" in capsys.readouterr().err
    assert label.main(['--teacher', str(tmp_path / 'missing.pt'), '--input', str(dataset),
                       '--output', str(tmp_path / 'o')]) == 2
    assert 'missing.pt does not exist' in capsys.readouterr().err


def start_slow_labelling(teacher: Path, tmp_path: Path) -> tuple[subprocess.Popen, list, Path]:
    """Start labelling 60 frames of 240x320 one at a time; return (process, command, out)."""
    writer = FolderWriter(str(tmp_path / 'data'), classes=list('abcde'),
                          colors=[[0, 0, 0]] * 5, K=np.eye(3), width=320, height=240)
    rng = np.random.default_rng(1)
    for i in range(60):
        writer.write(f'f{i:03d}', rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    out = tmp_path / 'pseudo'
    command = [sys.executable, '-m', 'distill.label', '--teacher',
               str(teacher), '--input', str(tmp_path / 'data'), '--output', str(out),
               '--batch-size', '1', '--input-size', 'native', '--tasks', 'segmentation']
    proc = subprocess.Popen(command, env=dict(os.environ, OMP_NUM_THREADS='1'),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, command, out


def wait_for_files(out: Path, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = list((out / 'segmentation').glob('*.png')) if out.exists() else []
        if len(done) >= count:
            return
        time.sleep(0.02)


def test_resumes_after_a_real_kill(tiny_checkpoint, tmp_path):
    """Kill the labeller mid-run; the restart must finish without redoing or corrupting."""
    proc, command, out = start_slow_labelling(tiny_checkpoint, tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    wait_for_files(out, 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in (out / 'segmentation').glob('*.png')}
    assert 5 <= len(before) < 60, 'killed too late to test resuming'
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / 'segmentation').glob('*.png')}
    assert len(after) == 60
    assert all(after[name] == mtime for name, mtime in before.items())  # nothing redone
    assert not list((out / 'segmentation').glob('.*'))  # no temporary left behind
    run = json.loads((out / 'manifest.json').read_text())['runs'][-1]
    assert run['skipped_done'] == len(before) and run['written'] == 60 - len(before)
    # Every file is whole: it decodes to a full-size label image.
    labels = FolderDataset(str(out.parent / 'data')).names
    for name in labels:
        assert np.asarray(Image.open(out / 'segmentation' / f'{name}.png')).shape == (240, 320)


def test_ctrl_c_stops_after_the_batch_and_says_so(tiny_checkpoint, tmp_path):
    proc, command, out = start_slow_labelling(tiny_checkpoint, tmp_path)
    wait_for_files(out, 3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert 'stopped by SIGINT' in err and 'Traceback' not in err
    written = sorted(p.name for p in (out / 'segmentation').glob('*.png'))
    assert 3 <= len(written) < 60, 'stopped too late to test'
    run = json.loads((out / 'manifest.json').read_text())['runs'][-1]
    assert run['stopped_by'] == 'SIGINT' and run['written'] == len(written)
    assert not list((out / 'segmentation').glob('.*'))  # no temporary left behind
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    run = json.loads((out / 'manifest.json').read_text())['runs'][-1]
    assert run['stopped_by'] is None and run['skipped_done'] == len(written)
    assert run['written'] == 60 - len(written)


def test_pseudo_labels_form_a_readable_dataset(tiny_checkpoint, dataset, tmp_path):
    out = tmp_path / 'pseudo'
    label.main(['--teacher', str(tiny_checkpoint), '--input', str(dataset), '--output',
                str(out)])
    meta = (out / 'meta.yaml').read_text()
    assert 'classes' in meta and (out / 'camera.yaml').is_file()
    assert Path(out / 'segmentation' / 's11.png').is_file()


def test_bag_topic_input_through_the_registry(tiny_checkpoint, tmp_path):
    from multitask_seg.data.bag_writer import BagWriter

    bag = tmp_path / 'cam.mcap'
    rng = np.random.default_rng(2)
    with BagWriter(str(bag)) as writer:
        for i in range(3):
            writer.write(10**9 + i * 10**8, rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
                         labels=np.zeros((H, W), np.uint8) if i == 0 else None)
    assert label.main(['--teacher', str(tiny_checkpoint), '--input', str(bag),
                       '--input-kind', 'bag', '--input-option', 'image_topic=/camera/image_raw',
                       '--input-option', 'label_topic=/camera/segmentation/ground_truth',
                       '--input-option', 'classes=[a, b, c, d, e]',
                       '--output', str(tmp_path / 'out'), '--tasks', 'segmentation']) == 0
    names = sorted(p.stem for p in (tmp_path / 'out' / 'segmentation').glob('*.png'))
    assert names == [str(10**9 + 10**8), str(10**9 + 2 * 10**8)]  # the first has labels
