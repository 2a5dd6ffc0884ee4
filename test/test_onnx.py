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

"""The ONNX export and the ONNX Runtime backend: dynamic shapes, parity, self-description."""

import json

from multitask_seg.checkpoint import CheckpointError, load_checkpoint
from multitask_seg.export import main as export_main
from multitask_seg.inference import Predictor
from multitask_seg.inference.onnx_backend import INFO_KEY, MODEL_KEY, OnnxBackend
import numpy as np
import onnx
import pytest
import torch


@pytest.fixture(scope='module')
def tiny_onnx(tiny_checkpoint, tmp_path_factory):
    path = tmp_path_factory.mktemp('onnx') / 'tiny.onnx'
    assert export_main(['--checkpoint', str(tiny_checkpoint), '--output', str(path)]) == 0
    return path


@pytest.fixture(scope='module')
def tiny_session(tiny_onnx):
    return OnnxBackend(tiny_onnx, num_threads=1)


def test_export_is_one_self_describing_file_with_dynamic_shapes(tiny_checkpoint, tiny_onnx):
    # Weights inside the file and no temporary left behind by the atomic write.
    assert [p.name for p in tiny_onnx.parent.iterdir()] == ['tiny.onnx']
    model = onnx.load(str(tiny_onnx))
    (image,) = model.graph.input
    assert image.name == 'image'
    dims = image.type.tensor_type.shape.dim
    assert dims[1].dim_value == 3
    assert all(dims[i].dim_param and not dims[i].dim_value for i in (0, 2, 3))
    assert [o.name for o in model.graph.output] == ['segmentation', 'depth']
    props = {p.key: json.loads(p.value) for p in model.metadata_props}
    _, info, _ = load_checkpoint(tiny_checkpoint)
    assert props[MODEL_KEY]['tasks'] == {'segmentation': 5, 'depth': 1}
    assert props[INFO_KEY]['classes'] == info.classes
    assert props[INFO_KEY]['depth_range'] == [0.1, 10.0]


@pytest.mark.parametrize('height, width', [(64, 80), (97, 131)])
def test_onnxruntime_matches_pytorch_at_any_batch_and_size(
        tiny_checkpoint, tiny_session, height, width):
    model, _, _ = load_checkpoint(tiny_checkpoint)
    batch = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(batch)
    got = tiny_session(batch)
    assert list(got) == ['segmentation', 'depth']
    for name, value in got.items():
        assert value.dtype == torch.float32 and value.shape == expected[name].shape
        assert (value - expected[name]).abs().max().item() < 1e-3, name
    assert tiny_session.config.tasks == model.config.tasks
    assert tiny_session.info.input_size == [64, 80]


def test_predictor_gives_the_same_answers_from_onnx_and_pt(tiny_checkpoint, tiny_onnx):
    images = [np.random.default_rng(i).integers(0, 256, (50 + i, 70, 3), dtype=np.uint8)
              for i in range(2)]
    from_pt = Predictor(tiny_checkpoint, input_size='native').predict(images)
    from_onnx = Predictor(tiny_onnx, input_size='native').predict(images)
    for a, b in zip(from_pt, from_onnx):
        assert (a['segmentation'] == b['segmentation']).mean() > 0.999
        np.testing.assert_allclose(a['depth'], b['depth'], atol=1e-4)


def test_missing_foreign_and_undescribed_files_are_named(tiny_onnx, tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.onnx'):
        OnnxBackend(tmp_path / 'nothing.onnx')
    text = tmp_path / 'text.onnx'
    text.write_text('not a model')
    with pytest.raises(CheckpointError, match='text.onnx.*not a loadable ONNX model'):
        OnnxBackend(text)
    bare = onnx.load(str(tiny_onnx))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / 'bare.onnx'))
    with pytest.raises(CheckpointError, match='bare.onnx has no .*metadata'):
        OnnxBackend(tmp_path / 'bare.onnx')


def test_unsupported_options_fail_clearly(tiny_onnx, tiny_checkpoint, tmp_path):
    with pytest.raises(ValueError, match='precision'):
        OnnxBackend(tiny_onnx, precision='bf16')
    with pytest.raises(ValueError, match='device'):
        OnnxBackend(tiny_onnx, device='mps')
    with pytest.raises(SystemExit):
        export_main(['--checkpoint', str(tiny_checkpoint), '--output', str(tmp_path / 'x.pt')])
