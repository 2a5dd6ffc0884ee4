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

"""One shared tester for every network family and variant, plus the papers' exact sizes."""

import math

from multitask_seg.checkpoint import default_info, load_checkpoint, save_checkpoint
from multitask_seg.model import build_model, ModelConfig
from multitask_seg.model.decoders import ChainedResidualPooling
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

VARIANTS = {
    'mobilenet_nyud40': ModelConfig(tasks={'segmentation': 40, 'depth': 1}),
    'mobilenet_kitti6': ModelConfig(tasks={'segmentation': 6, 'depth': 1}),
    'mobilenet_3tasks': ModelConfig(tasks={'segmentation': 40, 'depth': 1, 'normals': 3}),
    'mobilenet_depth_only': ModelConfig(tasks={'depth': 1}),
    'resnet18': ModelConfig(encoder='resnet18', tasks={'segmentation': 7, 'depth': 1}),
    'resnet50': ModelConfig(encoder='resnet50', tasks={'segmentation': 7, 'depth': 1},
                            depthwise_last_crp=False),
    'fast_scnn': ModelConfig(architecture='fast_scnn', tasks={'segmentation': 7, 'depth': 1}),
    'fast_scnn_3tasks': ModelConfig(architecture='fast_scnn',
                                    tasks={'segmentation': 7, 'depth': 1, 'normals': 3}),
    'espnet': ModelConfig(architecture='espnet', tasks={'segmentation': 7, 'depth': 1}),
    'espnet_3tasks': ModelConfig(architecture='espnet',
                                 tasks={'segmentation': 40, 'depth': 1, 'normals': 3}),
    'espnet_depth_only': ModelConfig(architecture='espnet', tasks={'depth': 1}),
    'nas_arch0': ModelConfig(architecture='nas_arch0', tasks={'segmentation': 7, 'depth': 1}),
    'nas_arch1': ModelConfig(architecture='nas_arch1', tasks={'segmentation': 7, 'depth': 1}),
    'nas_arch2': ModelConfig(architecture='nas_arch2',
                             tasks={'segmentation': 7, 'depth': 1, 'normals': 3}),
}
# Output stride per family, from the papers and (NAS) the genotypes read by hand: arch0's
# kept merge cells reach the 1/4 tap, arch1's and arch2's stop at 1/8; ESPNet's last
# deconvolution returns to full resolution.
OUTPUT_STRIDE = {'lwrefinenet_mobilenetv2': 4, 'fast_scnn': 8, 'espnet': 1, 'nas_arch0': 4,
                 'nas_arch1': 8, 'nas_arch2': 8}


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def gmacs(model: torch.nn.Module, height: int, width: int) -> float:
    # Shapes alone decide the count: meta tensors skip the arithmetic.
    model = model.to('meta')
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, height, width, device='meta'))
    return counter.get_total_flops() / 2e9


@pytest.mark.parametrize('name', sorted(VARIANTS))
@pytest.mark.parametrize('size', [(64, 96), (65, 97)])
def test_outputs_keyed_by_task_at_the_family_stride(name, size):
    config = VARIANTS[name]
    model = build_model(config).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *size))
    assert set(out) == set(config.tasks)
    stride = OUTPUT_STRIDE[config.architecture]
    for task, channels in config.tasks.items():
        assert out[task].shape == (2, channels, math.ceil(size[0] / stride),
                                   math.ceil(size[1] / stride))
        assert torch.isfinite(out[task]).all()
    if 'normals' in out:
        assert torch.allclose(out['normals'].norm(dim=1), torch.ones(1), atol=1e-5)


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_backward_reaches_every_parameter(name):
    model = build_model(VARIANTS[name]).train()
    out = model(torch.randn(2, 3, 64, 64))
    sum(v.float().pow(2).mean() for v in out.values()).backward()
    missing = [k for k, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_save_load_round_trip(name, tmp_path):
    config = VARIANTS[name]
    model = build_model(config).eval()
    # Non-trivial BN statistics so buffers matter to the outputs.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    path = save_checkpoint(tmp_path / 'm.pt', model, default_info(config))
    loaded, info, _ = load_checkpoint(path)
    x = torch.randn(1, 3, 48, 64)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert loaded.config == config
    for task in config.tasks:
        assert torch.equal(a[task], b[task])


def test_parameter_counts_match_the_paper():
    assert n_params(build_model(VARIANTS['mobilenet_nyud40'])) == 3_070_057
    assert n_params(build_model(VARIANTS['mobilenet_kitti6'])) == 2_991_687
    assert n_params(build_model(VARIANTS['mobilenet_3tasks'])) == 3_077_228
    assert n_params(build_model(VARIANTS['mobilenet_nyud40']).encoder) == 1_812_800


def test_macs_match_the_paper():
    assert gmacs(build_model(VARIANTS['mobilenet_nyud40']).eval(), 480, 640) == \
        pytest.approx(5.94, rel=0.03)
    assert gmacs(build_model(VARIANTS['mobilenet_kitti6']).eval(), 350, 1200) == \
        pytest.approx(6.11, rel=0.03)


def without_batch_norm(model: torch.nn.Module) -> int:
    """Parameters outside batch norm (convolutions, deconvolutions, PReLU slopes)."""
    norms = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
                for p in m.parameters())
    return n_params(model) - norms


def test_fast_scnn_matches_the_paper():
    model = build_model(ModelConfig(architecture='fast_scnn', tasks={'segmentation': 19}))
    # By hand from Tables 1-2 of the paper (weights + BN scale and shift): learning to
    # downsample 6,640; bottlenecks 1,016,448; pyramid pooling 49,664; feature fusion 26,496;
    # classifier 38,547; of which batch norm 23,680.
    assert n_params(model) == 1_137_795
    assert without_batch_norm(model) == 1_137_795 - 23_680
    # The paper's 1.11 M: within 0.4 % without batch norm (2.5 % with it): it does not say
    # how it counted, and BN's scale and shift fold into the convolutions for inference.
    assert without_batch_norm(model) == pytest.approx(1.11e6, rel=0.02)


def test_espnet_matches_the_paper():
    model = build_model(ModelConfig(architecture='espnet', tasks={'segmentation': 20}))
    # By hand (alpha2 = 2, alpha3 = 8, 20 classes): ESPNet-C 344,329; decoder and final
    # deconvolution 20,840.
    assert n_params(model) == 365_169
    # The paper's 0.364 M, with or without batch norm.
    assert n_params(model) == pytest.approx(0.364e6, rel=0.02)
    assert without_batch_norm(model) == pytest.approx(0.364e6, rel=0.02)


def test_espnet_decoder_is_as_wide_as_all_outputs():
    model = build_model(VARIANTS['espnet_3tasks'])
    assert model.decoder.out_channels == 40 + 1 + 3
    # Narrow outputs keep the published width, so each of the 5 ESP branches has channels.
    assert build_model(VARIANTS['espnet_depth_only']).decoder.out_channels == 20


def test_families_without_imagenet_files_say_so(tmp_path):
    weights = tmp_path / 'imagenet.pth'
    torch.save({}, weights)
    for architecture in ('fast_scnn', 'espnet'):
        with pytest.raises(ValueError, match=f'{architecture} has no ImageNet'):
            build_model(ModelConfig(architecture=architecture), encoder_weights=str(weights))


def test_crp_sums_every_stage():
    crp = ChainedResidualPooling(2, stages=2)
    for conv in crp.convs:
        torch.nn.init.dirac_(conv.weight)
    x = torch.zeros(1, 2, 9, 9)
    x[0, :, 4, 4] = 1.0
    y = crp(x)
    # x + pool(x) + pool(pool(x)): centre 3, 5x5 window 2, 9x9 window 1.
    assert y[0, 0, 4, 4] == 3 and y[0, 0, 2, 2] == 2 and y[0, 0, 0, 0] == 1


def test_crp_pool_equals_a_5x5_max_pool_exactly():
    pool = ChainedResidualPooling(3, stages=1).pool
    x = torch.randn(2, 3, 11, 17, generator=torch.Generator().manual_seed(0))
    assert torch.equal(pool(x), torch.nn.MaxPool2d(5, stride=1, padding=2)(x))


def test_last_crp_is_depthwise_only_at_quarter_resolution():
    model = build_model()
    groups = [level.crp.convs[0].groups for level in model.decoder.levels]
    assert groups == [1, 1, 1, 256]


@pytest.mark.parametrize('bad, message', [
    ({'tasks': {}}, 'empty'),
    ({'tasks': {'segmentation': 4, 'depht': 1}}, 'depht'),
    ({'tasks': {'depth': 2}}, 'depth'),
    ({'encoder': 'vgg16'}, 'vgg16'),
    ({'architecture': 'unet'}, 'unet'),
    ({'architecture': 'fast_scnn', 'crp_stages': 3}, 'crp_stages: fast_scnn has no such'),
    ({'architecture': 'espnet', 'encoder': 'resnet18'}, 'encoder: espnet has no such'),
    ({'architecture': 'nas_arch0', 'encoder': 'resnet18'}, "unknown 'resnet18' for nas"),
])
def test_bad_config_names_the_field(bad, message):
    with pytest.raises(ValueError, match=message):
        build_model(ModelConfig(**bad))
