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

"""multitask_seg_optimize and precision 'auto': measured figures, the gate, the fallback."""

import json
import shutil

from multitask_seg.inference import Predictor
from multitask_seg.inference.openvino_backend import core, cpu_capabilities
from multitask_seg.inference.precision_gate import choose_precision, FIGURES_KEY, Gate
from multitask_seg.optimize import main as optimize_main
import pytest

PASSING = {'labels_agree_pct': 99.5, 'depth_mean_abs_m': 0.02}
FAILING_LABELS = {'labels_agree_pct': 97.0, 'depth_mean_abs_m': 0.01}
FAILING_DEPTH = {'labels_agree_pct': 99.9, 'depth_mean_abs_m': 0.08}


def test_the_gate_takes_the_fastest_precision_that_passes():
    both = ('bf16', 'int8')
    assert choose_precision({'int8': PASSING, 'bf16': PASSING}, both, Gate()) == 'int8'
    assert choose_precision({'int8': FAILING_LABELS, 'bf16': PASSING}, both, Gate()) == 'bf16'
    assert choose_precision({'int8': FAILING_DEPTH, 'bf16': PASSING}, both, Gate()) == 'bf16'
    # Refused: figures that fail, figures missing, or a precision the CPU cannot run.
    assert choose_precision({'int8': FAILING_LABELS, 'bf16': FAILING_DEPTH}, both,
                            Gate()) == 'fp32'
    assert choose_precision({}, both, Gate()) == 'fp32'
    assert choose_precision({'int8': PASSING, 'bf16': PASSING}, (), Gate()) == 'fp32'
    # The user's own limits.
    loose = Gate(min_labels_agree_pct=95.0)
    assert choose_precision({'int8': FAILING_LABELS}, both, loose) == 'int8'


def test_a_model_without_figures_runs_fp32(tiny_checkpoint):
    assert Predictor(tiny_checkpoint, engine='openvino', precision='auto').precision == 'fp32'
    assert Predictor(tiny_checkpoint, engine='torch', precision='auto').precision == 'fp32'


def test_optimize_stores_figures_that_auto_obeys(tiny_checkpoint, tmp_path, capsys):
    checkpoint = shutil.copy(tiny_checkpoint, tmp_path / 'tiny.pt')
    output = tmp_path / 'tiny.openvino'
    assert optimize_main(['--checkpoint', str(checkpoint), '--calibration', 'synthetic:indoor',
                          '--output', str(output), '--frames', '3', '--held-out', '2',
                          '--size', '48x64', '--threads', '1']) == 0
    out = capsys.readouterr().out  # NNCF's progress bars come first
    printed = json.loads(out[out.index('{\n'):out.rindex('}') + 1])
    model = core().read_model(str(output / 'model.xml'))
    figures = json.loads(model.get_rt_info([FIGURES_KEY]).astype(str))
    assert figures == printed
    # fp32 against itself: identical by construction.
    assert figures['fp32']['labels_agree_pct'] == 100.0
    assert figures['fp32']['depth_mean_abs_m'] == 0.0
    expected = choose_precision(figures, [p for p in ('bf16', 'int8')
                                          if p.upper() in cpu_capabilities()], Gate())
    # Found beside the checkpoint it was made from, and given directly.
    assert Predictor(checkpoint, engine='openvino', precision='auto').precision == expected
    assert Predictor(output / 'model.xml', precision='auto').precision == expected
    strict = Gate(min_labels_agree_pct=101.0)
    assert Predictor(checkpoint, precision='auto', gate=strict).precision == 'fp32'
    int8 = Predictor(output / 'model.xml', precision='int8')
    assert int8.backend.path.name == 'model-int8.xml'


def test_optimize_fails_clearly_on_too_few_frames(tiny_checkpoint, tmp_path, capsys):
    (tmp_path / 'images').mkdir()
    assert optimize_main(['--checkpoint', str(tiny_checkpoint), '--calibration',
                          str(tmp_path), '--output', str(tmp_path / 'out')]) == 1
    assert str(tmp_path) in capsys.readouterr().err


@pytest.mark.parametrize('bad', ['fp8'])
def test_unknown_precision_is_refused(tiny_checkpoint, bad):
    with pytest.raises(ValueError, match='precision'):
        Predictor(tiny_checkpoint, engine='openvino', precision=bad)
