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

"""Each family runs in the inference core and the labeller from its checkpoint file alone."""

from distill import label
from multitask_seg.checkpoint import default_info, load_checkpoint, save_checkpoint
from multitask_seg.data import FolderWriter
from multitask_seg.inference import Predictor
from multitask_seg.model import build_model, ModelConfig
import numpy as np
from PIL import Image
import pytest
from random_weights import randomise
import torch
import torch.nn.functional as F

H, W = 45, 61
FAMILIES = ('fast_scnn', 'espnet', 'nas_arch1')


@pytest.fixture(scope='module', params=FAMILIES)
def checkpoint(request, tmp_path_factory):
    """Return a random 5-class + depth checkpoint of one family, trained at 64x80."""
    config = ModelConfig(architecture=request.param, tasks={'segmentation': 5, 'depth': 1})
    path = tmp_path_factory.mktemp(request.param) / 'student.pt'
    model = randomise(build_model(config))
    return save_checkpoint(path, model, default_info(
        config, classes=list('abcde'), input_size=[64, 80], depth_range=[0.1, 10.0]))


def test_predictor_needs_only_the_file(checkpoint):
    images = [np.random.default_rng(i).integers(0, 256, (H + i, W, 3), dtype=np.uint8)
              for i in range(2)]
    got = Predictor(checkpoint).predict(images)
    model, info, _ = load_checkpoint(checkpoint)
    for image, result in zip(images, got):
        # Independently: normalise, resize to the trained size, run, resize back, argmax.
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        x = (x - torch.tensor(info.mean)[:, None, None]) / torch.tensor(info.std)[:, None, None]
        x = F.interpolate(x, size=(64, 80), mode='bilinear', align_corners=False)
        with torch.no_grad():
            out = model(x)
        size = image.shape[:2]
        logits = F.interpolate(out['segmentation'], size=size, mode='bilinear',
                               align_corners=False)
        depth = F.interpolate(out['depth'], size=size, mode='bilinear', align_corners=False)
        assert result['segmentation'].shape == size and result['segmentation'].dtype == np.uint8
        labels = logits[0].argmax(0).numpy()
        assert len(np.unique(labels)) > 1 and depth.std() > 1e-3
        assert (result['segmentation'] == labels).mean() > 0.999
        np.testing.assert_allclose(result['depth'], depth[0, 0].clamp(0.1, 10).numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_labeller_needs_only_the_file(checkpoint, tmp_path):
    writer = FolderWriter(str(tmp_path / 'data'), classes=list('abcde'),
                          colors=[[0, 0, 0]] * 5, K=np.eye(3), width=W, height=H)
    rng = np.random.default_rng(0)
    for i in range(3):
        writer.write(f's{i}', rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    out = tmp_path / 'pseudo'
    assert label.main(['--teacher', str(checkpoint), '--input', str(tmp_path / 'data'),
                       '--output', str(out), '--device', 'cpu']) == 0
    image = np.asarray(Image.open(tmp_path / 'data' / 'images' / 's1.png'))
    expected = Predictor(checkpoint).predict_one(image)
    assert np.array_equal(np.asarray(Image.open(out / 'segmentation' / 's1.png')),
                          expected['segmentation'])
    assert len(list((out / 'depth').glob('*.png'))) == 3
