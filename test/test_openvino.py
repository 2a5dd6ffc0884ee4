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

"""The OpenVINO backend and the engine choice: parity with PyTorch, errors, caching."""

import logging

from multitask_seg.checkpoint import (
    CheckpointError, default_info, load_checkpoint, save_checkpoint)
from multitask_seg.export import export_onnx
from multitask_seg.inference import Predictor
from multitask_seg.inference.engines import choose_engine, open_backend
from multitask_seg.inference.openvino_backend import OpenVinoBackend
from multitask_seg.inference.openvino_ir import convert_checkpoint
from multitask_seg.model import build_model
import numpy as np
import onnx
import openvino as ov
import pytest
from test_model import VARIANTS
import torch


@pytest.fixture(scope='module')
def tiny_onnx(tiny_checkpoint, tmp_path_factory):
    return export_onnx(tiny_checkpoint, tmp_path_factory.mktemp('onnx') / 'tiny.onnx')


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_openvino_fp32_matches_pytorch_for_every_variant(name, tmp_path):
    config = VARIANTS[name]
    torch.manual_seed(0)
    model = build_model(config).eval()
    checkpoint = save_checkpoint(tmp_path / f'{name}.pt', model, default_info(config))
    backend = OpenVinoBackend(convert_checkpoint(checkpoint, tmp_path / f'{name}.xml'),
                              precision='fp32', num_threads=1)
    batch = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(batch)
    got = backend(batch)
    assert list(got) == list(config.tasks)
    for task, value in got.items():
        assert value.dtype == torch.float32 and value.shape == expected[task].shape
        assert (value - expected[task]).abs().max().item() < 1e-3, task


def test_onnx_export_runs_on_openvino_too(tiny_checkpoint, tiny_onnx):
    model, _, _ = load_checkpoint(tiny_checkpoint)
    backend = OpenVinoBackend(tiny_onnx)
    batch = torch.randn(1, 3, 64, 80, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = model(batch)
    for task, value in backend(batch).items():
        assert (value - expected[task]).abs().max().item() < 1e-3, task
    assert backend.info.classes == ['a', 'b', 'c', 'd', 'e']


def test_each_input_shape_is_compiled_once(tiny_checkpoint, tmp_path):
    backend = OpenVinoBackend(convert_checkpoint(tiny_checkpoint, tmp_path / 'tiny.xml'))
    for shape in [(1, 3, 64, 80), (1, 3, 32, 48), (1, 3, 64, 80), (2, 3, 64, 80)]:
        backend(torch.zeros(shape))
    assert sorted(backend._requests) == [(1, 3, 32, 48), (1, 3, 64, 80), (2, 3, 64, 80)]
    compiled = backend._requests[(1, 3, 64, 80)].get_compiled_model()
    # Precision is always explicit: OpenVINO would pick bf16 by itself on AVX-512-BF16 CPUs.
    assert compiled.get_property('INFERENCE_PRECISION_HINT') == ov.Type.f32


def test_graphs_of_large_batches_are_dropped_after_use(tiny_checkpoint):
    rng = np.random.default_rng(3)
    small, large = (rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                    for h, w in ((48, 64), (96, 128)))
    keeping = Predictor(tiny_checkpoint, engine='openvino', keep_memory_max_pixels=None)
    bounded = Predictor(tiny_checkpoint, engine='openvino', keep_memory_max_pixels=48 * 64)
    for image in (small, large, large, small):
        expected, got = keeping.predict([image])[0], bounded.predict([image])[0]
        for task in expected:
            np.testing.assert_array_equal(got[task], expected[task])
    # Only the small frame's graph (and its working memory) outlives its call.
    assert [key[1:3] for key in bounded.backend._deployed] == [(48, 64)]
    assert sorted(key[1:3] for key in keeping.backend._deployed) == [(48, 64), (96, 128)]


def test_frames_of_several_cameras_run_in_parallel_streams_as_each_alone(tiny_checkpoint):
    rng = np.random.default_rng(4)
    images = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    predictor = Predictor(tiny_checkpoint, engine='openvino', num_threads=2)
    together = predictor.predict(images)
    alone = [predictor.predict([image])[0] for image in images]
    reference = Predictor(tiny_checkpoint, engine='torch').predict(images)
    # Two one-image requests at a time on a two-stream graph; the third on the latency one.
    assert predictor.backend.streams_for(3) == 2
    assert sorted(key[0] for key in predictor.backend._deployed) == [1, 1]
    streams = next(v for k, v in predictor.backend._deployed.items() if k[-1] == 2)
    assert streams[0].get_compiled_model().get_property('NUM_STREAMS') == 2
    for got, one, expected in zip(together, alone, reference):
        for task in expected:
            np.testing.assert_array_equal(got[task], one[task])
        assert (got['segmentation'] == expected['segmentation']).mean() > 0.999
        np.testing.assert_allclose(got['depth'], expected['depth'], atol=1e-4)


def test_predictor_converts_a_checkpoint_once(tiny_checkpoint, caplog, monkeypatch, tmp_path):
    # A cache of its own: other tests may have converted the same checkpoint already.
    monkeypatch.setenv('MULTITASK_SEG_CACHE_DIR', str(tmp_path / 'cache'))
    image = np.random.default_rng(3).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    with caplog.at_level(logging.WARNING, logger='multitask_seg.inference.engines'):
        first = Predictor(tiny_checkpoint, engine='openvino')
        again = Predictor(tiny_checkpoint, engine='openvino')
    assert [r.getMessage().split()[0] for r in caplog.records] == ['converted']
    assert first.engine == again.engine == 'openvino' and first.precision == 'fp32'
    reference = Predictor(tiny_checkpoint, engine='torch').predict_one(image)
    got = again.predict_one(image)
    assert (got['segmentation'] == reference['segmentation']).mean() > 0.999
    np.testing.assert_allclose(got['depth'], reference['depth'], atol=1e-4)


def test_bad_and_incompatible_files_are_named_with_the_reason(tiny_checkpoint, tiny_onnx,
                                                              tmp_path):
    text = tmp_path / 'text.xml'
    text.write_text('not a model')
    with pytest.raises(CheckpointError, match='text.xml is not a model OpenVINO can read'):
        OpenVinoBackend(text)
    with pytest.raises(FileNotFoundError, match='nothing.xml'):
        OpenVinoBackend(tmp_path / 'nothing.xml')
    onnx_path = tmp_path / 'bare.onnx'
    bare = onnx.load(str(tiny_onnx))
    del bare.metadata_props[:]
    onnx.save(bare, str(onnx_path))
    with pytest.raises(CheckpointError, match='bare.onnx has no .*metadata'):
        OpenVinoBackend(onnx_path)
    xml = convert_checkpoint(tiny_checkpoint, tmp_path / 'tiny.xml')
    with pytest.raises(ValueError, match='tiny.xml is not quantised'):
        OpenVinoBackend(xml, precision='int8')
    with pytest.raises(ValueError, match="device must be 'cpu'"):
        OpenVinoBackend(xml, device='cuda')
    corrupt = tmp_path / 'corrupt.pt'
    corrupt.write_bytes(b'\0' * 100)
    with pytest.raises(CheckpointError, match='corrupt.pt is not a torch file'):
        Predictor(corrupt, engine='openvino')


def test_engine_choice(tiny_checkpoint, tmp_path):
    assert choose_engine('auto', 'cpu', tiny_checkpoint) == 'openvino'
    assert choose_engine('auto', 'cuda', tiny_checkpoint) == 'torch'
    assert choose_engine('auto', 'cpu', tmp_path / 'teacher.yaml') == 'onnxruntime'
    assert choose_engine('onnxruntime', 'cpu', tiny_checkpoint) == 'onnxruntime'
    with pytest.raises(ValueError, match='engine must be one of'):
        choose_engine('tensorrt', 'cpu', tiny_checkpoint)
    with pytest.raises(ValueError, match='engine torch cannot run .*model.xml'):
        choose_engine('torch', 'cpu', tmp_path / 'model.xml')
    with pytest.raises(ValueError, match='engine openvino runs precision'):
        open_backend(tiny_checkpoint, 'openvino', 'cpu', 'fp16', True, None)


# ESPNet answers at full resolution: at 'native' size its outputs skip the resize.
@pytest.mark.parametrize('name', ['mobilenet_3tasks', 'mobilenet_depth_only', 'espnet_3tasks'])
@pytest.mark.parametrize('input_size', ['checkpoint', 'native'])
def test_deploy_graph_matches_the_torch_predictor(name, input_size, tmp_path):
    # Normalisation, resizing, argmax, the depth clamp and normalised normals all run inside
    # OpenVINO's graph; the PyTorch path does them in Python.
    config = VARIANTS[name]
    torch.manual_seed(4)
    info = default_info(config, input_size=[64, 80], depth_range=[0.1, 10.0])
    checkpoint = save_checkpoint(tmp_path / f'{name}.pt', build_model(config), info)
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, shape, dtype=np.uint8)
              for shape in [(61, 83, 3), (64, 80, 3), (61, 83, 3)]]
    deployed = Predictor(checkpoint, engine='openvino', input_size=input_size)
    reference = Predictor(checkpoint, engine='torch', input_size=input_size).predict(images)
    for got, expected in zip(deployed.predict(images), reference):
        assert sorted(got) == sorted(expected)
        for task, value in got.items():
            assert value.dtype == expected[task].dtype and value.shape == expected[task].shape
        if 'segmentation' in got:
            assert (got['segmentation'] == expected['segmentation']).mean() > 0.9999
        for task in ('depth', 'normals'):
            if task in got:
                assert np.abs(got[task] - expected[task]).max() < 1e-3, task


def test_int8_runs_its_float_layers_as_they_were_measured(tiny_checkpoint, tmp_path):
    """bf16 only where the model says its figures were measured so and the CPU has it."""
    from multitask_seg.inference.openvino_backend import (core, cpu_capabilities,
                                                          FLOAT_PARTS_KEY)
    from multitask_seg.inference.openvino_ir import save_ir
    from multitask_seg.quantise import quantise_batches

    xml = convert_checkpoint(tiny_checkpoint, tmp_path / 'tiny.xml')
    batches = [np.random.default_rng(i).standard_normal((1, 3, 32, 40)).astype(np.float32)
               for i in range(2)]
    int8 = quantise_batches(xml, tmp_path / 'tiny-int8.xml', batches)
    hint = 'INFERENCE_PRECISION_HINT'
    assert OpenVinoBackend(int8, precision='int8').options[hint] == 'f32'
    model = core().read_model(str(int8))
    model.set_rt_info('bf16', [FLOAT_PARTS_KEY])
    marked = save_ir(model, tmp_path / 'marked-int8.xml')
    expected = 'bf16' if 'BF16' in cpu_capabilities() else 'f32'
    backend = OpenVinoBackend(marked, precision='int8')
    assert backend.options[hint] == expected
    assert backend.predict_full(np.zeros((1, 32, 40, 3), np.uint8), None,
                                np.zeros(3, np.float32), np.ones(3, np.float32))
