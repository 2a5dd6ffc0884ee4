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

"""The inference core: numpy images in, full-resolution labels and depth out."""

import subprocess
import sys

from multitask_seg.checkpoint import default_info, load_checkpoint, save_checkpoint
from multitask_seg.inference import Predictor
from multitask_seg.inference.torch_backend import TorchBackend
from multitask_seg.model import build_model, ModelConfig
import numpy as np
import pytest
import torch
import torch.nn.functional as F


def image(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def reference(checkpoint, img: np.ndarray, size) -> dict[str, np.ndarray]:
    """Compute the expected outputs the plain way: default layout, one image, float64 maths."""
    model, info, _ = load_checkpoint(checkpoint)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    x = (x - torch.tensor(info.mean).view(1, 3, 1, 1)) / torch.tensor(info.std).view(1, 3, 1, 1)
    if size is not None:
        x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
    with torch.no_grad():
        out = model(x)
    full = {k: F.interpolate(v.double(), size=img.shape[:2], mode='bilinear',
                             align_corners=False)[0] for k, v in out.items()}
    return {'logits': full['segmentation'].numpy(),
            'depth': full['depth'][0].clamp(*info.depth_range).numpy()}


@pytest.mark.parametrize('input_size', ['checkpoint', 'native'])
def test_odd_size_matches_reference(tiny_checkpoint, input_size):
    img = image(79, 101)
    predictor = Predictor(tiny_checkpoint, input_size=input_size)
    out = predictor.predict_one(img)
    ref = reference(tiny_checkpoint, img, (64, 80) if input_size == 'checkpoint' else None)
    assert out['segmentation'].shape == (79, 101) and out['segmentation'].dtype == np.uint8
    assert out['depth'].shape == (79, 101) and out['depth'].dtype == np.float32
    np.testing.assert_allclose(out['depth'], ref['depth'], atol=1e-4)
    # Argmax may only differ where the two best logits are within float error.
    top2 = np.sort(ref['logits'], axis=0)[-2:]
    decided = (top2[1] - top2[0]) > 1e-4
    assert np.array_equal(out['segmentation'][decided], ref['logits'].argmax(0)[decided])


def test_479x641_runs_at_full_resolution(tiny_checkpoint):
    out = Predictor(tiny_checkpoint).predict_one(image(479, 641))
    assert out['segmentation'].shape == (479, 641) and out['depth'].shape == (479, 641)
    assert out['segmentation'].max() < 5
    assert (out['depth'] >= 0.1).all() and (out['depth'] <= 10.0).all()


def test_batch_equals_one_by_one(tiny_checkpoint):
    images = [image(64, 80, 1), image(50, 70, 2), image(64, 80, 3)]
    for input_size in ('checkpoint', 'native'):
        predictor = Predictor(tiny_checkpoint, input_size=input_size)
        timings = {}
        batched = predictor.predict(images, timings)
        assert set(timings) == {'preprocess', 'infer', 'postprocess'}
        for img, out in zip(images, batched):
            single = predictor.predict_one(img)
            np.testing.assert_allclose(out['depth'], single['depth'], atol=1e-4)
            assert (out['segmentation'] == single['segmentation']).mean() > 0.999


def test_explicit_input_size(tiny_checkpoint):
    predictor = Predictor(tiny_checkpoint, input_size=(32, 48))
    assert predictor.network_size == (32, 48)
    assert predictor.predict_one(image(100, 60))['depth'].shape == (100, 60)


@pytest.mark.parametrize('bad, message', [
    (np.zeros((0, 0, 3), np.uint8), 'empty'),
    (np.zeros((10, 10), np.uint8), 'H x W x 3'),
    (np.zeros((10, 10, 4), np.uint8), 'H x W x 3'),
    (np.zeros((10, 10, 3), np.float32), 'uint8'),
    ([[1, 2, 3]], 'numpy array'),
    (np.zeros((3000, 3000, 3), np.uint8), 'max_pixels'),
])
def test_impossible_images_are_refused(tiny_checkpoint, bad, message):
    predictor = Predictor(tiny_checkpoint, max_pixels=2000 * 2000)
    with pytest.raises(ValueError, match=message):
        predictor.predict([image(8, 8), bad])


def test_bad_options(tiny_checkpoint, tmp_path):
    with pytest.raises(ValueError, match='input_size'):
        Predictor(tiny_checkpoint, input_size='huge')
    with pytest.raises(ValueError, match='fp16 needs a CUDA'):
        Predictor(tiny_checkpoint, precision='fp16', engine='torch')
    with pytest.raises(ValueError, match='precision'):
        Predictor(tiny_checkpoint, precision='int4')
    with pytest.raises(ValueError, match='extension'):
        Predictor(tmp_path / 'model.tflite')


def test_uint16_labels_past_255_classes(tmp_path):
    config = ModelConfig(tasks={'segmentation': 300})
    path = save_checkpoint(tmp_path / 'many.pt', build_model(config), default_info(config))
    labels = Predictor(path).predict_one(image(16, 16))['segmentation']
    assert labels.dtype == np.uint16 and labels.shape == (16, 16) and labels.max() < 300


def test_bf16_path_agrees_with_fp32(tiny_checkpoint):
    img = image(64, 80)
    fp32 = Predictor(tiny_checkpoint).predict_one(img)
    bf16 = Predictor(tiny_checkpoint, precision='bf16').predict_one(img)
    assert (fp32['segmentation'] == bf16['segmentation']).mean() > 0.9
    assert np.abs(fp32['depth'] - bf16['depth']).mean() < 0.2


def test_core_imports_no_ros():
    code = ('import sys, multitask_seg.inference, multitask_seg.checkpoint; '
            'print(any(m.split(".")[0] in ("rclpy", "sensor_msgs") for m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == 'False'


def test_confidence_is_the_softmax_of_the_chosen_class(tiny_checkpoint):
    img = image(64, 80)
    out = Predictor(tiny_checkpoint, input_size='native').predict([img], confidence=True)[0]
    ref = reference(tiny_checkpoint, img, None)['logits']
    softmax = np.exp(ref - ref.max(0)) / np.exp(ref - ref.max(0)).sum(0)
    np.testing.assert_allclose(out['segmentation_confidence'], softmax.max(0), atol=1e-4)
    assert out['segmentation_confidence'].dtype == np.float32


def test_network_in_memory_predicts_as_its_checkpoint(tiny_checkpoint):
    img = image(79, 101)
    model, info, _ = load_checkpoint(tiny_checkpoint)
    model.train()
    in_memory = Predictor.from_network(model, info)
    assert model.training  # the trainer's network is left as it is
    out = in_memory.predict_one(img)
    from_file = Predictor(tiny_checkpoint, engine='torch').predict_one(img)
    assert np.array_equal(out['segmentation'], from_file['segmentation'])
    assert np.array_equal(out['depth'], from_file['depth'])
    ref = reference(tiny_checkpoint, img, (64, 80))
    np.testing.assert_allclose(out['depth'], ref['depth'], atol=1e-4)
    # A predictor made after a training step scores the weights the network has then.
    with torch.no_grad():
        model.heads['depth'].out.weight.zero_()
        model.heads['depth'].out.bias.fill_(2.5)
    assert (Predictor.from_network(model, info).predict_one(img)['depth'] == 2.5).all()
    with pytest.raises(ValueError, match='fp16 needs a CUDA'):
        Predictor.from_network(model, info, precision='fp16')


def test_the_torch_path_folds_batch_norm_with_the_same_outputs(tmp_path):
    config = ModelConfig(tasks={'segmentation': 5, 'depth': 1})
    model = build_model(config).eval()
    generator = torch.Generator().manual_seed(6)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            # Statistics away from the identity, so an unfolded or badly folded BN shows.
            module.running_mean.normal_(generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
    path = save_checkpoint(tmp_path / 'bn.pt', model, default_info(config))
    backend = TorchBackend(path)
    # MobileNet-v2's every BatchNorm follows a convolution.
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in backend.model.modules())
    batch = torch.randn(1, 3, 61, 83, generator=generator)
    with torch.no_grad():
        expected = model(batch)
    for task, value in backend(batch).items():
        assert (value - expected[task]).abs().max().item() < 1e-4, task
