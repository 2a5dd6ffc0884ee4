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

"""Every family exports to ONNX and runs the same in ONNX Runtime and OpenVINO."""

from multitask_seg.checkpoint import default_info, load_checkpoint, save_checkpoint
from multitask_seg.export import export_onnx
from multitask_seg.model import build_model, ModelConfig
from multitask_seg.model.architectures import ARCHITECTURES
import onnxruntime as ort
import pytest
from random_weights import randomise
import torch

# Batch and sizes other than the export's example (2 x 64 x 64): dynamic axes, odd sizes.
SHAPES = [(2, 64, 80), (1, 65, 97)]


@pytest.fixture(scope='module', params=sorted(ARCHITECTURES))
def exported(request, tmp_path_factory):
    """Return (the checkpoint's model, its ONNX file) for one family: segmentation + depth."""
    config = ModelConfig(architecture=request.param, tasks={'segmentation': 5, 'depth': 1})
    model = build_model(config).eval()
    randomise(model)
    folder = tmp_path_factory.mktemp(request.param)
    checkpoint = save_checkpoint(folder / 'model.pt', model, default_info(config))
    onnx_path = export_onnx(checkpoint, folder / 'model.onnx')
    return load_checkpoint(checkpoint)[0], onnx_path


def expected(model: torch.nn.Module, shape: tuple[int, int, int]) -> tuple[torch.Tensor, dict]:
    batch = torch.randn(shape[0], 3, *shape[1:], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return batch, model(batch)


def assert_close(got: list, want: dict) -> None:
    assert len(got) == len(want)
    for array, (name, value) in zip(got, want.items()):
        tensor = torch.from_numpy(array)
        assert tensor.shape == value.shape, name
        # Outputs are O(1) (see randomise); the bound scales with larger ones.
        assert value.abs().max() > 1e-2, name
        bound = 1e-3 * max(1.0, value.abs().max().item())
        assert (tensor - value).abs().max().item() < bound, name


@pytest.mark.parametrize('shape', SHAPES)
def test_onnxruntime_matches_pytorch(exported, shape):
    model, onnx_path = exported
    session = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    batch, want = expected(model, shape)
    assert_close(session.run(list(want), {'image': batch.numpy()}), want)


@pytest.fixture(scope='module')
def openvino_compiled(exported):
    """Return the ONNX file converted by OpenVINO and compiled for the CPU in float32."""
    ov = pytest.importorskip('openvino')
    # Explicit f32: on AMX CPUs OpenVINO otherwise runs in bf16.
    return ov.Core().compile_model(ov.convert_model(str(exported[1])), 'CPU',
                                   {'INFERENCE_PRECISION_HINT': 'f32'})


@pytest.mark.parametrize('shape', SHAPES)
def test_openvino_matches_pytorch(exported, openvino_compiled, shape):
    model, compiled = exported[0], openvino_compiled
    batch, want = expected(model, shape)
    results = compiled(batch.numpy())
    assert_close([results[compiled.output(name)] for name in want], want)
