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

"""
Encoders load files laid out exactly as torchvision's ImageNet state dicts.

torchvision cannot be installed beside this torch, so the files are written here from
torchvision's published layout, written out independently of the encoders' code and
anchored by torchvision's documented parameter totals.
"""

from multitask_seg.model import build_model, ModelConfig
from multitask_seg.model.encoders.mobilenet_v2 import InvertedResidual
import pytest
import torch

# Parameter totals of torchvision's ImageNet classifiers (its model documentation).
TORCHVISION_PARAMS = {'mobilenet_v2': 3_504_872, 'resnet18': 11_689_512,
                      'resnet50': 25_557_032}


def bn(prefix: str, channels: int) -> dict[str, tuple]:
    keys = {f'{prefix}.{n}': (channels,) for n in
            ('weight', 'bias', 'running_mean', 'running_var')}
    keys[f'{prefix}.num_batches_tracked'] = ()
    return keys


def mobilenet_v2_layout() -> dict[str, tuple]:
    """Return torchvision.models.mobilenet_v2's state-dict keys and shapes."""
    keys = {'features.0.0.weight': (32, 3, 3, 3), **bn('features.0.1', 32)}
    rows = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]
    index, cin = 1, 32
    for t, c, n, _ in rows:
        for _ in range(n):
            p, hidden, k = f'features.{index}.conv', cin * t, 0
            if t != 1:
                keys[f'{p}.0.0.weight'] = (hidden, cin, 1, 1)
                keys.update(bn(f'{p}.0.1', hidden))
                k = 1
            keys[f'{p}.{k}.0.weight'] = (hidden, 1, 3, 3)
            keys.update(bn(f'{p}.{k}.1', hidden))
            keys[f'{p}.{k + 1}.weight'] = (c, hidden, 1, 1)
            keys.update(bn(f'{p}.{k + 2}', c))
            index, cin = index + 1, c
    keys['features.18.0.weight'] = (1280, 320, 1, 1)
    keys.update(bn('features.18.1', 1280))
    keys['classifier.1.weight'] = (1000, 1280)
    keys['classifier.1.bias'] = (1000,)
    return keys


def resnet_layout(depth: int) -> dict[str, tuple]:
    """Return torchvision.models.resnet{18,50}'s state-dict keys and shapes."""
    bottleneck, counts = {18: (False, (2, 2, 2, 2)), 50: (True, (3, 4, 6, 3))}[depth]
    expansion = 4 if bottleneck else 1
    keys = {'conv1.weight': (64, 3, 7, 7), **bn('bn1', 64)}
    cin = 64
    for stage, (width, n) in enumerate(zip((64, 128, 256, 512), counts), start=1):
        for b in range(n):
            p = f'layer{stage}.{b}'
            if bottleneck:
                shapes = [(width, cin, 1, 1), (width, width, 3, 3), (width * 4, width, 1, 1)]
            else:
                shapes = [(width, cin, 3, 3), (width, width, 3, 3)]
            for i, shape in enumerate(shapes, start=1):
                keys[f'{p}.conv{i}.weight'] = shape
                keys.update(bn(f'{p}.bn{i}', shape[0]))
            if b == 0 and (stage > 1 or cin != width * expansion):
                keys[f'{p}.downsample.0.weight'] = (width * expansion, cin, 1, 1)
                keys.update(bn(f'{p}.downsample.1', width * expansion))
            cin = width * expansion
    keys['fc.weight'] = (1000, cin)
    keys['fc.bias'] = (1000,)
    return keys


def write_file(layout: dict[str, tuple], path) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, shape in layout.items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(100)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[key] = torch.randn(shape, generator=generator) * 0.1
    torch.save(state, path)
    return state


LAYOUTS = {'mobilenet_v2': mobilenet_v2_layout, 'resnet18': lambda: resnet_layout(18),
           'resnet50': lambda: resnet_layout(50)}


@pytest.mark.parametrize('encoder', sorted(LAYOUTS))
def test_torchvision_file_loads_strictly(encoder, tmp_path):
    layout = LAYOUTS[encoder]()
    params = sum(torch.Size(s).numel() for k, s in layout.items()
                 if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
    assert params == TORCHVISION_PARAMS[encoder]
    state = write_file(layout, tmp_path / 'imagenet.pth')
    model = build_model(ModelConfig(encoder=encoder), encoder_weights=tmp_path / 'imagenet.pth')
    own = model.encoder.state_dict()
    used = [k for k in state if not k.startswith(('classifier.', 'features.18.', 'fc.'))]
    assert used and all(torch.equal(own[k], state[k]) for k in used)


def test_paper_expansion_is_identity_after_loading(tmp_path):
    write_file(mobilenet_v2_layout(), tmp_path / 'imagenet.pth')
    model = build_model(encoder_weights=tmp_path / 'imagenet.pth').eval()
    block = model.encoder.features[1]
    assert isinstance(block, InvertedResidual) and block.expand is not None
    x = torch.rand(1, 32, 8, 8) * 6  # stem outputs are ReLU6 activations
    with torch.no_grad():
        assert torch.allclose(block(x), block.conv(x), atol=1e-5)


@pytest.mark.parametrize('edit, message', [
    (lambda s: s.update({'features.99.weight': torch.zeros(1)}), 'features.99.weight'),
    (lambda s: s.pop('features.5.conv.1.0.weight'), 'lacks'),
    (lambda s: s.update({'features.0.0.weight': torch.zeros(16, 3, 3, 3)}), 'shape'),
])
def test_wrong_file_is_refused_naming_key_and_file(edit, message, tmp_path):
    state = write_file(mobilenet_v2_layout(), tmp_path / 'x.pth')
    edit(state)
    torch.save(state, tmp_path / 'x.pth')
    with pytest.raises(ValueError, match=message) as err:
        build_model(encoder_weights=tmp_path / 'x.pth')
    assert 'x.pth' in str(err.value)


def test_missing_and_corrupt_weight_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build_model(encoder_weights=tmp_path / 'nope.pth')
    (tmp_path / 'junk.pth').write_bytes(b'not a torch file')
    with pytest.raises(ValueError, match='junk.pth'):
        build_model(encoder_weights=tmp_path / 'junk.pth')
