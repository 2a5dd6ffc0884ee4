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

"""The trainer on tiny generated data: config errors, pseudo-labels, logs, exact resume."""

import csv
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from distill import train
from distill.train_config import DatasetSpec
from distill.training_views import LabelledView
from multitask_seg.checkpoint import load_checkpoint, read_checkpoint
from multitask_seg.config_io import ConfigError
from multitask_seg.data import FolderWriter
from multitask_seg.data.folder_format import write_png
from multitask_seg.synthetic import CLASSES, COLORS, render_frame
import numpy as np
import pytest
import torch
import yaml

H, W = 48, 64


def make_dataset(root: Path, seeds, with_seg) -> Path:
    """Write indoor frames; only those whose position is in ``with_seg`` keep labels."""
    writer = FolderWriter(str(root), classes=CLASSES['indoor'], colors=COLORS['indoor'],
                          K=np.eye(3), width=W, height=H, domain='indoor')
    for i, seed in enumerate(seeds):
        frame = render_frame('indoor', seed, height=H, width=W)
        writer.write(f'f{i:03d}', frame.rgb, depth=frame.sensor_depth,
                     segmentation=frame.labels if i in with_seg else None)
    return root


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('train_data')
    train_set = make_dataset(root / 'train', range(0, 8), with_seg={0, 1, 2})
    val_set = make_dataset(root / 'val', range(1000, 1002), with_seg={0, 1})
    pseudo = root / 'pseudo'
    (pseudo / 'segmentation').mkdir(parents=True)
    for i in range(3, 8):  # a 'teacher' labelled the frames without ground truth
        write_png(str(pseudo / 'segmentation' / f'f{i:03d}.png'), np.full((H, W), 4, np.uint8))
    return {'train': train_set, 'val': val_set, 'pseudo': pseudo}


def write_config(path: Path, data: dict, output: Path, **overrides) -> Path:
    config = {
        'output': str(output),
        'model': {'tasks': {'segmentation': 12, 'depth': 1}},
        'datasets': [{'name': 'indoor', 'root': str(data['train']),
                      'pseudo_labels': {'segmentation': str(data['pseudo'])}}],
        'val': [{'name': 'indoor_val', 'root': str(data['val']), 'depth_cap': 10.0}],
        'augment': {'crop': [H, W], 'scale': [0.9, 1.2]},
        'batch_size': 2, 'epochs': 2, 'inference_size': [H, W], 'depth_range': [0.1, 20.0],
        'device': 'cpu',
    }
    config.update(overrides)
    path.write_text(yaml.safe_dump(config))
    return path


def test_pseudo_labels_fill_only_missing_ground_truth(data):
    spec = DatasetSpec(name='x', root=str(data['train']),
                       pseudo_labels={'segmentation': str(data['pseudo'])})
    view = LabelledView(spec, ['segmentation', 'depth'], pseudo=True)
    gt = view[0]['targets']['segmentation']
    assert not (gt == 4).all()  # ground truth kept
    assert (view[5]['targets']['segmentation'] == 4).all()  # teacher's label used
    no_pseudo = LabelledView(spec, ['segmentation', 'depth'], pseudo=False)
    assert 'segmentation' not in no_pseudo[5]['targets']
    depth_only = LabelledView(DatasetSpec(name='y', root=str(data['train']),
                                          ground_truth=['depth']), ['segmentation', 'depth'],
                              pseudo=True)
    assert set(depth_only[0]['targets']) == {'depth'}


def test_train_writes_checkpoints_logs_and_validation(data, tmp_path):
    config = write_config(tmp_path / 'c.yaml', data, tmp_path / 'run')
    assert train.main(['--config', str(config)]) == 0
    model, info, extra = load_checkpoint(tmp_path / 'run' / 'last.pt')
    assert info.classes == list(CLASSES['indoor']) and info.input_size == [H, W]
    assert info.provenance['train_config']['batch_size'] == 2
    assert extra['progress']['epoch'] == 2
    assert (tmp_path / 'run' / 'best.pt').is_file()
    with open(tmp_path / 'run' / 'metrics.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['epoch'] for r in rows] == ['1', '2']
    for key in ('train/loss', 'train/segmentation', 'train/depth', 'indoor_val/miou',
                'indoor_val/rmse', 'indoor_val/rmse_log', 'indoor_val/abs_rel',
                'indoor_val/delta1', 'indoor_val/iou/wall'):
        assert key in rows[0], key
    assert float(rows[1]['indoor_val/rmse']) > 0
    assert list((tmp_path / 'run' / 'tensorboard').glob('events.out.tfevents.*'))


@pytest.mark.parametrize('edit, message', [
    ({'batch_sise': 3}, r"c.yaml: unknown key\(s\) \['batch_sise'\]"),
    ({'epochs': 'two'}, "c.yaml: key 'epochs'"),
    ({'optimizer': {'encoder_lr': 0.1, 'schedule': 'cosine'}}, 'c.yaml: optimizer.schedule'),
    ({'datasets': [{'name': 'a', 'root': 'x', 'ground_truth': ['depht']}]}, "c.yaml.*'depht'"),
])
def test_config_errors_name_the_key_and_file(data, tmp_path, edit, message):
    config = write_config(tmp_path / 'c.yaml', data, tmp_path / 'run', **edit)
    with pytest.raises(ConfigError, match=message):
        train.main(['--config', str(config)])


def run_trainer(config: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.Popen([sys.executable, '-m', 'distill.train', '--config',
                             str(config), *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_resume_after_kill_matches_uninterrupted_run(data, tmp_path):
    common = {'save_every': 1, 'epochs': 2}
    whole = write_config(tmp_path / 'whole.yaml', data, tmp_path / 'whole', **common)
    assert run_trainer(whole).wait(timeout=300) == 0

    broken = write_config(tmp_path / 'broken.yaml', data, tmp_path / 'broken', **common)
    proc = run_trainer(broken)
    last = tmp_path / 'broken' / 'last.pt'
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if last.exists() and read_checkpoint(last)['extra']['progress']['step'] >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to tidy up: as a power cut would
    proc.wait()
    progress = read_checkpoint(last)['extra']['progress']
    assert progress['epoch'] == 0 and 2 <= progress['step'] < 4, 'killed too late to test'
    resumed = run_trainer(broken, '--resume')
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err

    assert same_weights(tmp_path / 'whole' / 'last.pt', last)


def same_weights(a: Path, b: Path) -> bool:
    a, b = (torch.load(p, weights_only=True)['state_dict'] for p in (a, b))
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_ctrl_c_saves_where_it_stopped_and_resume_redoes_nothing(data, tmp_path, monkeypatch,
                                                                 capsys):
    """No periodic saves: Ctrl-C in iteration 3 must leave last.pt after exactly 3."""
    whole = write_config(tmp_path / 'whole.yaml', data, tmp_path / 'whole', epochs=2)
    assert train.main(['--config', str(whole)]) == 0
    real_loss, calls = train.multitask_loss, []

    def loss_then_ctrl_c(*args, **kwargs):
        calls.append(None)
        if len(calls) == 3:  # in the middle of the third iteration, as a user would
            os.kill(os.getpid(), signal.SIGINT)
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train, 'multitask_loss', loss_then_ctrl_c)
    stopped = write_config(tmp_path / 'stopped.yaml', data, tmp_path / 'stopped', epochs=2)
    assert train.main(['--config', str(stopped)]) == 130
    err = capsys.readouterr().err
    assert 'stopped by SIGINT' in err and 'epoch 1, iteration 3 of 4' in err
    assert '--resume' in err
    last = tmp_path / 'stopped' / 'last.pt'
    progress = read_checkpoint(last)['extra']['progress']
    assert (progress['epoch'], progress['step'], progress['global_step']) == (0, 3, 3)
    monkeypatch.setattr(train, 'multitask_loss', real_loss)
    assert train.main(['--config', str(stopped), '--resume']) == 0
    assert same_weights(tmp_path / 'whole' / 'last.pt', last)


def test_sigterm_ends_the_trainer_with_143_and_no_traceback(data, tmp_path):
    config = write_config(tmp_path / 'c.yaml', data, tmp_path / 'run', save_every=1)
    proc = run_trainer(config)
    last = tmp_path / 'run' / 'last.pt'
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if last.exists() and read_checkpoint(last)['extra']['progress']['step'] >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert 'stopped by SIGTERM' in err and 'Traceback' not in err
    assert read_checkpoint(last)['extra']['progress']['global_step'] >= 1


def test_two_process_distributed_step(data, tmp_path):
    config = write_config(tmp_path / 'ddp.yaml', data, tmp_path / 'ddp', epochs=1,
                          batch_size=1, epoch_size=4)
    torchrun = Path(sys.executable).parent / 'torchrun'
    env = dict(os.environ, OMP_NUM_THREADS='1', MASTER_ADDR='127.0.0.1')
    result = subprocess.run(
        [str(torchrun), '--nproc-per-node', '2', '--master-addr', '127.0.0.1',
         '--master-port', str(29500 + os.getpid() % 1000), '-m',
         'distill.train', '--config', str(config)],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    extra = read_checkpoint(tmp_path / 'ddp' / 'last.pt')['extra']
    # 4 samples per epoch split over 2 ranks, batch 1: each rank took 2 steps.
    assert extra['progress']['global_step'] == 2


def test_other_reader_kinds_through_the_registry(data, tmp_path):
    from multitask_seg.data.bag_writer import BagWriter

    bag = tmp_path / 'frames.mcap'
    with BagWriter(str(bag)) as writer:
        for i in range(3):
            frame = render_frame('indoor', i, height=H, width=W)
            writer.write(1_000_000_000 + i * 100_000_000, frame.rgb, K=frame.K,
                         labels=frame.labels, depth=frame.depth)
    spec = DatasetSpec(name='bag', kind='bag', options={
        'path': str(bag), 'image_topic': '/camera/image_raw',
        'label_topic': '/camera/segmentation/ground_truth',
        'depth_topic': '/camera/depth/ground_truth', 'classes': list(CLASSES['indoor'])})
    view = LabelledView(spec, ['segmentation', 'depth'], pseudo=False)
    assert len(view) == 3 and set(view[2]['targets']) == {'segmentation', 'depth'}
    with pytest.raises(ValueError, match='give root for kind folder'):
        DatasetSpec(name='x', kind='bag', root='/tmp').validate()
