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
import logging
import shutil

from multitask_seg.inference import Predictor
from multitask_seg.inference.openvino_backend import core, cpu_capabilities
from multitask_seg.inference.precision_gate import (choose_precision, FIGURES_KEY, Gate,
                                                    int8_variant, passing_precisions)
from multitask_seg.optimize import main as optimize_main
from multitask_seg.quantise import gate_score
import numpy as np
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


def test_where_several_pass_the_one_timed_fastest_here_is_taken():
    both = ('bf16', 'int8')
    figures = {'int8': PASSING, 'bf16': PASSING}
    timed = []

    def seconds(times):
        def measure(precision):
            timed.append(precision)
            return times[precision]
        return measure

    assert choose_precision(figures, both, Gate(), seconds({'int8': 2.0, 'bf16': 1.0})) == 'bf16'
    assert choose_precision(figures, both, Gate(), seconds({'int8': 1.0, 'bf16': 2.0})) == 'int8'
    assert sorted(timed) == ['bf16', 'bf16', 'int8', 'int8']
    # Nothing to time with one candidate (or none): a failing precision is never run.
    timed.clear()
    assert choose_precision({'int8': FAILING_DEPTH, 'bf16': PASSING}, both, Gate(),
                            seconds({'int8': 0.1, 'bf16': 9.0})) == 'bf16'
    assert choose_precision({'int8': FAILING_DEPTH}, both, Gate(),
                            seconds({'int8': 0.1, 'bf16': 9.0})) == 'fp32'
    assert timed == []


@pytest.mark.skipif('BF16' not in cpu_capabilities(), reason='one reduced precision only')
def test_auto_times_the_passing_precisions_on_this_cpu(tiny_checkpoint, tmp_path, caplog):
    from multitask_seg.inference.openvino_ir import convert_checkpoint, save_ir
    from multitask_seg.quantise import quantise_batches

    fp32 = convert_checkpoint(tiny_checkpoint, tmp_path / 'tiny.xml')
    batches = [np.random.default_rng(i).standard_normal((1, 3, 40, 56)).astype(np.float32)
               for i in range(2)]
    quantise_batches(fp32, int8_variant(fp32), batches)
    model = core().read_model(str(fp32))
    model.set_rt_info(json.dumps({'bf16': PASSING, 'int8': PASSING}), [FIGURES_KEY])
    save_ir(model, fp32)
    with caplog.at_level(logging.INFO, logger='multitask_seg.inference.precision_gate'):
        predictor = Predictor(fp32, precision='auto', input_size=(40, 56), num_threads=1)
    (line,) = [r.getMessage() for r in caplog.records if 'timed here' in r.getMessage()]
    timed = dict(part.split()[:2] for part in line.split('timed here: ')[1].split(', '))
    assert sorted(timed) == ['bf16', 'int8']
    assert predictor.precision == min(timed, key=lambda p: float(timed[p]))
    assert predictor.backend.precision == predictor.precision


def test_a_model_without_figures_runs_fp32(tiny_checkpoint):
    assert Predictor(tiny_checkpoint, engine='openvino', precision='auto').precision == 'fp32'
    assert Predictor(tiny_checkpoint, engine='torch', precision='auto').precision == 'fp32'


def test_optimize_stores_figures_that_auto_obeys(tiny_checkpoint, tmp_path, capsys):
    checkpoint = shutil.copy(tiny_checkpoint, tmp_path / 'tiny.pt')
    output = tmp_path / 'tiny.openvino'
    assert optimize_main(['--checkpoint', str(checkpoint), '--calibration', 'synthetic:indoor',
                          '--output', str(output), '--frames', '3', '--held-out', '2',
                          '--validation', '2', '--size', '48x64', '--threads', '1']) == 0
    out = capsys.readouterr().out  # NNCF's progress bars come first
    printed = json.loads(out[out.index('{\n'):out.rindex('}') + 1])
    model = core().read_model(str(output / 'model.xml'))
    figures = json.loads(model.get_rt_info([FIGURES_KEY]).astype(str))
    assert figures == printed
    # fp32 against itself: identical by construction.
    assert figures['fp32']['labels_agree_pct'] == 100.0
    assert figures['fp32']['depth_mean_abs_m'] == 0.0
    # Measured at the checkpoint's size (64x80) and the frames' own (48x64); the figures
    # the gate reads are the worse of the two.
    for name, stored in figures.items():
        sizes = stored['by_size']
        assert set(sizes) == {'64x80', 'native'}
        assert stored['labels_agree_pct'] == min(s['labels_agree_pct'] for s in sizes.values())
        assert stored['depth_mean_abs_m'] == max(s['depth_mean_abs_m'] for s in sizes.values())
    passing = passing_precisions(figures, [p for p in ('bf16', 'int8')
                                           if p.upper() in cpu_capabilities()], Gate())
    # Found beside the checkpoint it was made from, and given directly; where several pass,
    # which one is the faster here is timed (see the test above).
    expected = Predictor(checkpoint, engine='openvino', precision='auto').precision
    assert expected in passing if passing else expected == 'fp32'
    if len(passing) < 2:
        assert Predictor(output / 'model.xml', precision='auto').precision == expected
    strict = Gate(min_labels_agree_pct=101.0)
    assert Predictor(checkpoint, precision='auto', gate=strict).precision == 'fp32'
    int8 = Predictor(output / 'model.xml', precision='int8')
    assert int8.backend.path.name == 'model-int8.xml'
    # The bench's figures for the trained model at a bench size, on frames of its own.
    from multitask_seg.bench.agreement import main as agreement_main

    bench = tmp_path / 'bench.json'
    results = agreement_main(['--checkpoint', str(checkpoint), '--input-size', '40x56',
                              '--frames', '2', '--threads', '1', '--out', str(bench)])
    assert json.loads(bench.read_text()) == results
    paths = results['agreement_56x40']
    assert 'openvino_int8' in paths and 'openvino_fp32' not in paths
    assert ('openvino_bf16' in paths) == ('BF16' in cpu_capabilities())
    for figures in paths.values():
        assert 0 <= figures['labels_agree_pct'] <= 100 and figures['depth_mean_abs_m'] >= 0
    default = results['agreement_default_path_56x40']
    assert default['path'] in [f'openvino_{p}' for p in passing or ['fp32']]
    if len(passing) < 2:
        assert default['path'] == f'openvino_{expected}'
    if default['path'] == 'openvino_fp32':
        assert default['labels_agree_pct'] == 100.0
    else:
        assert default['labels_agree_pct'] == paths[default['path']]['labels_agree_pct']


def test_optimize_fails_clearly_on_too_few_frames(tiny_checkpoint, tmp_path, capsys):
    (tmp_path / 'images').mkdir()
    assert optimize_main(['--checkpoint', str(tiny_checkpoint), '--calibration',
                          str(tmp_path), '--output', str(tmp_path / 'out')]) == 1
    assert str(tmp_path) in capsys.readouterr().err


@pytest.mark.parametrize('bad', ['fp8'])
def test_unknown_precision_is_refused(tiny_checkpoint, bad):
    with pytest.raises(ValueError, match='precision'):
        Predictor(tiny_checkpoint, engine='openvino', precision=bad)


def test_gate_score_measures_the_slack_left():
    gate = Gate(min_labels_agree_pct=99.0, max_depth_mean_abs_m=0.03)
    assert gate_score(100.0, 0.0, gate) == 1.0
    assert gate_score(99.0, 0.0, gate) == 0.0
    assert gate_score(99.5, 0.0, gate) == pytest.approx(0.5)
    assert gate_score(100.0, 0.015, gate) == pytest.approx(0.5)
    assert gate_score(99.9, 0.06, gate) == pytest.approx(-1.0)   # depth is the worse
    assert gate_score(None, 0.0, gate) == 1.0                    # a depth-only model
    assert gate_score(97.0, None, gate) == pytest.approx(-2.0)   # a segmentation-only one


@pytest.fixture(scope='module')
def varied_ir(tmp_path_factory):
    """Return an fp32 IR of a small randomised network whose labels and depth vary."""
    from multitask_seg.checkpoint import default_info, save_checkpoint
    from multitask_seg.inference.openvino_ir import convert_checkpoint
    from multitask_seg.model import build_model, ModelConfig
    import torch
    from random_weights import randomise

    config = ModelConfig(architecture='fast_scnn', tasks={'segmentation': 5, 'depth': 1})
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = randomise(build_model(config).eval())
    folder = tmp_path_factory.mktemp('varied')
    save_checkpoint(folder / 'varied.pt', model, default_info(
        config, classes=['a', 'b', 'c', 'd', 'e'], input_size=[48, 64],
        depth_range=[0.001, 1000.0]))
    return convert_checkpoint(folder / 'varied.pt', folder / 'model.xml')


# About 3 minutes on 2 cores (NNCF ranks all 60 quantised operations after a few reverts).
@pytest.mark.slow
def test_int8_held_to_a_margin_reaches_it_on_its_validation_frames(varied_ir, tmp_path):
    """Plain int8 falls short of the margin; held to it, NNCF keeps float until it is met."""
    from multitask_seg.inference.openvino_backend import FLOAT_PARTS_KEY
    from multitask_seg.optimize import load_frames, network_batches
    from multitask_seg.quantise import GateValidation, quantise_batches, quantise_to_gate

    info = Predictor(varied_ir, engine='openvino').info
    images = [image for image, _ in load_frames('synthetic:indoor', 'folder', {}, 6, (48, 64))]
    calibration = network_batches(images[2:], info, ['checkpoint'])
    validation = network_batches(images[:2], info, ['checkpoint'])
    gate, margin = Gate(), 0.8
    plain = quantise_batches(varied_ir, tmp_path / 'plain-int8.xml', calibration)
    held = quantise_to_gate(varied_ir, tmp_path / 'held-int8.xml', calibration, validation,
                            gate, margin, info.depth_range, 'f32', threads=1)
    assert core().read_model(str(held)).get_rt_info([FLOAT_PARTS_KEY]).astype(str) == 'f32'
    # Scored here through the Predictor on the deploy graph (full-size labels and depth),
    # not through the scorer NNCF was steered with.
    reference = [Predictor(varied_ir, engine='openvino').predict([image])[0]
                 for image in images[:2]]

    def score(path):
        predictor = Predictor(path, engine='openvino', precision='int8')
        outputs = [predictor.predict([image])[0] for image in images[:2]]
        agree = np.mean([np.mean(a['segmentation'] == b['segmentation'])
                         for a, b in zip(reference, outputs)]) * 100
        depth = np.mean([np.abs(a['depth'] - b['depth']).mean()
                         for a, b in zip(reference, outputs)])
        return gate_score(agree, depth, gate)

    assert score(plain) < margin
    assert score(held) >= margin - 0.05   # labels at the network's size steered it
    # The scorer NNCF was steered with agrees that the margin is met at the network's size.
    steered = GateValidation(core().read_model(str(varied_ir)), validation, gate,
                             info.depth_range, 1)
    compiled = core().compile_model(str(held), 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
    assert steered(compiled, range(2))[0] >= margin - 1e-6
