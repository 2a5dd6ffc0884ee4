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

"""Temperature scaling: stored in the checkpoint, applied by the core, fitted on a bag."""

import json

from multitask_seg.checkpoint import default_info, load_checkpoint, save_checkpoint
from multitask_seg.data.bag_writer import BagWriter
from multitask_seg.evaluation import calibrate, cli
from multitask_seg.inference import Predictor
from multitask_seg.inference.preprocess import pixel_statistics, to_network_input, upsample
from multitask_seg.model import build_model, ModelConfig
import numpy as np
import pytest
import torch

STAMP0 = 1_700_000_000_000_000_000


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    config = ModelConfig(tasks={'segmentation': 5, 'depth': 1})
    return config, build_model(config)


def checkpoint(path, model, temperature: float = 1.0):
    config, network = model
    return save_checkpoint(path, network, default_info(
        config, input_size=[48, 64], depth_range=[0.1, 10.0], temperature=temperature))


def test_temperature_changes_the_confidence_not_the_labels(model, tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    plain = Predictor(checkpoint(tmp_path / 'plain.pt', model), input_size=(48, 64))
    warm = Predictor(checkpoint(tmp_path / 'warm.pt', model, 2.0), input_size=(48, 64))
    a = plain.predict([image], confidence=True)[0]
    b = warm.predict([image], confidence=True)[0]
    np.testing.assert_array_equal(a['segmentation'], b['segmentation'])
    # Independently: the softmax of the resized logits divided by 2, at the argmax.
    mean, std = pixel_statistics(plain.info.mean, plain.info.std)
    logits = plain.backend(to_network_input([image], (48, 64), mean, std))['segmentation']
    expected = torch.softmax(upsample(logits, (40, 56)) / 2.0, 1).amax(1)[0].numpy()
    np.testing.assert_allclose(b['segmentation_confidence'], expected, rtol=1e-4)
    assert (b['segmentation_confidence'] < a['segmentation_confidence']).mean() > 0.99


def test_a_bad_temperature_is_refused(model, tmp_path):
    with pytest.raises(ValueError, match='temperature'):
        checkpoint(tmp_path / 'bad.pt', model, 0.0)


def test_calibrate_lowers_the_calibration_error(model, tmp_path):
    """Labels: the model's own for 70 % of pixels, random for the rest."""
    plain = checkpoint(tmp_path / 'plain.pt', model)
    predictor = Predictor(plain)
    rng = np.random.default_rng(1)
    bag = tmp_path / 'val'
    with BagWriter(str(bag)) as writer:
        for i in range(4):
            rgb = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
            labels = predictor.predict_one(rgb)['segmentation'].copy()
            noise = rng.random(labels.shape) < 0.3
            labels[noise] = rng.integers(0, 5, noise.sum())
            labels[:2] = 255
            writer.write(STAMP0 + i * 100_000_000, rgb, K=np.eye(3), labels=labels,
                         depth=np.full((48, 64), 2.0, np.float32))
    out = tmp_path / 'calibrated.pt'
    assert calibrate.main([str(bag), '--checkpoint', str(plain), '--out', str(out)]) == 0
    _, info, _ = load_checkpoint(out)
    assert info.temperature != 1.0 and info.provenance['temperature_fit']['pixels'] > 0
    ece = {}
    for name, path in (('before', plain), ('after', out)):
        report = tmp_path / name
        assert cli.main(['offline', str(bag), '--checkpoint', str(path), '--out',
                         str(report)]) == 0
        ece[name] = json.loads((report / 'results.json').read_text())['calibration']['ece']
    assert ece['after'] < ece['before'] / 2


def test_calibrate_names_a_bag_without_labels(model, tmp_path, capsys):
    bag = tmp_path / 'nolabels'
    with BagWriter(str(bag)) as writer:
        writer.write(STAMP0, np.zeros((48, 64, 3), np.uint8), K=np.eye(3))
    plain = checkpoint(tmp_path / 'plain.pt', model)
    assert calibrate.main([str(bag), '--checkpoint', str(plain), '--out',
                           str(tmp_path / 'x.pt')]) == 2
    assert 'calibrate: error' in capsys.readouterr().err
