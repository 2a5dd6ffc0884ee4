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

"""A foreign ONNX model described by a YAML file serves as a teacher."""

from distill import label
from multitask_seg.checkpoint import CheckpointError
from multitask_seg.config_io import ConfigError
from multitask_seg.inference import Predictor
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
from PIL import Image
import pytest
import yaml


def write_model(path) -> None:
    """Write a graph with foreign names: 'pixels' -> 1x1 convs -> 'sem' (3 classes), 'dep'."""
    sem_w = np.zeros((3, 3, 1, 1), np.float32)
    sem_w[0, 0] = 1.0  # class 0 follows the (normalised) red channel, class 1 minus it
    sem_w[1, 0] = -1.0
    dep_w = np.zeros((1, 3, 1, 1), np.float32)
    graph = helper.make_graph(
        [helper.make_node('Conv', ['pixels', 'sem_w'], ['sem']),
         helper.make_node('Conv', ['pixels', 'dep_w', 'dep_b'], ['dep'])],
        'foreign',
        [helper.make_tensor_value_info('pixels', TensorProto.FLOAT, ['n', 3, 'h', 'w'])],
        [helper.make_tensor_value_info('sem', TensorProto.FLOAT, ['n', 3, 'h', 'w']),
         helper.make_tensor_value_info('dep', TensorProto.FLOAT, ['n', 1, 'h', 'w'])],
        [numpy_helper.from_array(sem_w, 'sem_w'), numpy_helper.from_array(dep_w, 'dep_w'),
         numpy_helper.from_array(np.array([2500.0], np.float32), 'dep_b')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    onnx.save(model, str(path))


@pytest.fixture
def described(tmp_path):
    write_model(tmp_path / 'teacher.onnx')
    path = tmp_path / 'teacher.yaml'
    path.write_text(yaml.safe_dump({
        'onnx': 'teacher.onnx', 'input_name': 'pixels',
        'outputs': {'segmentation': 'sem', 'depth': 'dep'},
        'classes': ['red', 'not_red', 'never'], 'mean': [0.5, 0.5, 0.5], 'std': [0.5] * 3,
        'depth_scale': 0.001, 'depth_range': [0.0, 10.0]}))
    return path


def test_predictor_runs_a_described_foreign_model(described):
    image = np.zeros((6, 8, 3), np.uint8)
    image[:3, :, 0] = 255
    out = Predictor(described).predict_one(image)
    assert out['segmentation'][:3].tolist() == [[0] * 8] * 3
    assert out['segmentation'][3:].tolist() == [[1] * 8] * 3
    np.testing.assert_allclose(out['depth'], 2.5)  # 2500 units x 0.001 m


def test_labeller_accepts_it(described, tmp_path):
    (tmp_path / 'imgs').mkdir()
    Image.new('RGB', (8, 6), (255, 0, 0)).save(tmp_path / 'imgs' / 'a.png')
    assert label.main(['--teacher', str(described), '--input', str(tmp_path / 'imgs'),
                       '--output', str(tmp_path / 'out')]) == 0
    assert (np.asarray(Image.open(tmp_path / 'out' / 'segmentation' / 'a.png')) == 0).all()


def test_bad_descriptions(described, tmp_path):
    text = yaml.safe_load(described.read_text())
    described.write_text(yaml.safe_dump({**text, 'outputs': {'segmentation': 'logits'}}))
    with pytest.raises(CheckpointError, match="no tensor.*'logits'"):
        Predictor(described)
    described.write_text(yaml.safe_dump({**text, 'onnx': 'elsewhere.onnx'}))
    with pytest.raises(FileNotFoundError, match='elsewhere.onnx'):
        Predictor(described)
    described.write_text(yaml.safe_dump({**text, 'mean_rgb': [0, 0, 0]}))
    with pytest.raises(ConfigError, match='mean_rgb'):
        Predictor(described)
