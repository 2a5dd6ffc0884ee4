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

"""Quantisation-aware training: the int8 model it writes, and runs that stop and resume."""

import json
import multiprocessing
import os
from pathlib import Path
import shutil
import signal

from multitask_seg.inference import Predictor
from multitask_seg.inference.openvino_backend import core, QUANTISED_KEY
from multitask_seg.inference.precision_gate import FIGURES_KEY
from multitask_seg.optimize import main as optimize_main
from multitask_seg.qat import fine_tune, QatSettings
from multitask_seg.stopping import Stopped
import numpy as np
import pytest
import torch

SETTINGS = QatSettings(steps=4, sizes=((32, 40), (48, 64)), batch_pixels=2 * 32 * 40,
                       save_every=100, lr=1e-3)


def _frames() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3)]


@pytest.fixture(scope='module')
def images():
    return _frames()


def test_qat_writes_an_int8_model_measured_against_fp32(tiny_checkpoint, tmp_path, capsys):
    checkpoint = shutil.copy(tiny_checkpoint, tmp_path / 'tiny.pt')
    output = tmp_path / 'tiny.openvino'
    assert optimize_main(['--checkpoint', str(checkpoint), '--calibration', 'synthetic:indoor',
                          '--output', str(output), '--frames', '3', '--held-out', '2',
                          '--size', '48x64', '--threads', '1', '--qat-steps', '3',
                          '--qat-sizes', 'checkpoint,32x40']) == 0
    out = capsys.readouterr().out
    printed = json.loads(out[out.index('{\n'):out.rindex('}') + 1])
    int8 = core().read_model(str(output / 'model-int8.xml'))
    assert int8.get_rt_info([QUANTISED_KEY]).astype(str) == 'int8'
    assert json.loads(int8.get_rt_info([FIGURES_KEY]).astype(str)) == printed
    assert 0 <= printed['int8']['labels_agree_pct'] <= 100
    assert torch.load(output / 'qat-state.pt', weights_only=True)['step'] == 3
    # The int8 model is a working model of the checkpoint's tasks at any frame size.
    predictor = Predictor(checkpoint, engine='openvino', precision='int8')
    assert predictor.backend.path.name == 'model-int8.xml'
    result = predictor.predict_one(np.zeros((40, 56, 3), np.uint8))
    assert result['segmentation'].shape == result['depth'].shape == (40, 56)


def _stop_and_resume(checkpoint: str, folder: str) -> None:
    # In a process of its own: a SIGINT after the NNCF accuracy control of an earlier test
    # in the same process crashed it (some native library's handler; the CLI never runs
    # both in one process).
    folder = Path(folder)
    images = _frames()
    steps = []

    def stop_after_second(step, loss):
        steps.append(step)
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # taken after the step in progress

    state = folder / 'stopped.pt'
    try:
        fine_tune(checkpoint, images, SETTINGS, state, stop_after_second)
    except Stopped:
        steps.append('stopped')
    saved_step = torch.load(state, weights_only=True)['step']
    resumed = fine_tune(checkpoint, images, SETTINGS, state,
                        lambda step, loss: steps.append(step))
    unbroken = fine_tune(checkpoint, images, SETTINGS, folder / 'unbroken.pt')
    one_step = QatSettings(steps=1, sizes=SETTINGS.sizes, batch_pixels=SETTINGS.batch_pixels,
                           lr=SETTINGS.lr)
    first = fine_tune(checkpoint, images, one_step, folder / 'one.pt')
    torch.save({'steps': json.dumps(steps), 'saved_step': saved_step,
                'resumed': resumed.state_dict(), 'unbroken': unbroken.state_dict(),
                'first': first.state_dict()}, folder / 'result.pt')


def test_a_stopped_run_resumes_where_it_stopped_and_ends_as_an_unbroken_one(
        tiny_checkpoint, tmp_path):
    child = multiprocessing.get_context('spawn').Process(
        target=_stop_and_resume, args=(str(tiny_checkpoint), str(tmp_path)))
    child.start()
    child.join(600)
    assert child.exitcode == 0
    result = torch.load(tmp_path / 'result.pt', weights_only=True)
    assert json.loads(result['steps']) == [1, 2, 'stopped', 3, 4]
    assert result['saved_step'] == 2
    for name, value in result['resumed'].items():
        torch.testing.assert_close(value, result['unbroken'][name], msg=name)
    # Training moved the weights: the comparison above is not of two untouched copies.
    assert any(not torch.equal(value, result['first'][name])
               for name, value in result['unbroken'].items())


def test_a_state_of_other_settings_is_not_continued(tiny_checkpoint, images, tmp_path, caplog):
    state = tmp_path / 'state.pt'
    fine_tune(tiny_checkpoint, images, SETTINGS, state)
    steps = []
    other = QatSettings(steps=2, sizes=SETTINGS.sizes, batch_pixels=SETTINGS.batch_pixels,
                        lr=SETTINGS.lr / 2)
    fine_tune(tiny_checkpoint, images, other, state, lambda step, loss: steps.append(step))
    assert steps == [1, 2]
    assert 'from another QAT run' in caplog.text


@pytest.mark.parametrize('args, message', [
    (['--qat-steps', '2', '--validation', '2'], 'give one'),
    (['--qat-steps', '2', '--qat-sizes', 'native'], "--qat-sizes: 'native'"),
    (['--qat-steps', '-1'], '--qat-steps must be >= 0'),
    (['--qat-steps', '2', '--qat-lr', '0'], 'learning rate must be > 0'),
])
def test_bad_qat_options_are_named(tiny_checkpoint, tmp_path, capsys, args, message):
    assert optimize_main(['--checkpoint', str(tiny_checkpoint), '--calibration',
                          'synthetic:indoor', '--output', str(tmp_path / 'out'), *args]) == 1
    assert message in capsys.readouterr().err
