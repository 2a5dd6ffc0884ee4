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

"""Typed YAML configs name the file and the key when they are wrong."""

from pathlib import Path

from multitask_seg.config_io import ConfigError, load_config
from multitask_seg.model import ModelConfig
import pytest


def test_yaml_overrides_defaults(tmp_path):
    path = tmp_path / 'model.yaml'
    path.write_text('encoder: resnet18\ntasks: {segmentation: 6, depth: 1}\n')
    config = load_config(ModelConfig, path)
    assert config.encoder == 'resnet18' and config.tasks == {'segmentation': 6, 'depth': 1}
    assert config.crp_stages == 4


@pytest.mark.parametrize('text, message', [
    ('encoder: resnet18\ncrp_stage: 3\n', r"model.yaml: unknown key\(s\) \['crp_stage'\]"),
    ('crp_stages: four\n', "model.yaml: key 'crp_stages' must be"),
    ('tasks: {segmentation: 6, depth: 2}\n', 'model.yaml: model.tasks.depth'),
    ('- a list\n', 'model.yaml: expected a mapping'),
    ('encoder: [unclosed\n', 'model.yaml: not valid YAML'),
])
def test_errors_name_file_and_key(tmp_path, text, message):
    path = tmp_path / 'model.yaml'
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(ModelConfig, path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match='nothing.yaml does not exist'):
        load_config(ModelConfig, tmp_path / 'nothing.yaml')


@pytest.mark.parametrize('name', ['mobilenet_v2_nyud40', 'mobilenet_v2_kitti6',
                                  'mobilenet_v2_nyud40_normals', 'resnet50_teacher'])
def test_shipped_model_configs_build(name):
    from multitask_seg.model import build_model

    root = Path(__file__).resolve().parents[1]
    config = load_config(ModelConfig, root / 'config' / 'model' / f'{name}.yaml')
    model = build_model(config)
    expected = {'mobilenet_v2_nyud40': 3_070_057, 'mobilenet_v2_kitti6': 2_991_687,
                'mobilenet_v2_nyud40_normals': 3_077_228}
    if name in expected:
        assert sum(p.numel() for p in model.parameters()) == expected[name]


def test_shipped_training_template_fits_the_schema():
    from distill.train_config import TrainConfig

    root = Path(__file__).resolve().parents[1]
    config = load_config(TrainConfig, root / 'distill' / 'configs' / 'nyud_distill.yaml')
    assert [d.kind for d in config.datasets] == ['nyud_mat', 'nyud_raw']
    assert config.datasets[1].pseudo_labels == {'segmentation': '/data/nyud/pseudo'}
