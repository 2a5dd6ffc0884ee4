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

"""Joint augmentations keep tasks consistent; mixed batches never invent labels."""

from functools import partial

from distill.augment import (
    augment, AugmentConfig, horizontal_flip, random_crop, random_scale)
from distill.mixing import collate, MixedDataset, WeightedEpochSampler
import numpy as np
import pytest
import torch


def sample(height=20, width=30, tasks=('segmentation', 'depth', 'normals')):
    rng = np.random.default_rng(0)
    targets = {
        'segmentation': rng.integers(0, 5, (height, width)).astype(np.uint8),
        'depth': rng.uniform(1, 5, (height, width)).astype(np.float32),
        'normals': np.tile(np.array([0.6, 0.0, 0.8], np.float32), (height, width, 1)),
    }
    return {'image': rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
            'targets': {t: targets[t] for t in tasks}}


def test_scale_divides_depth_and_keeps_labels_exact():
    s = sample()
    out = random_scale(s, 2.0, 2.0, np.random.default_rng(0))
    assert out['image'].shape == (40, 60, 3) and out['targets']['depth'].shape == (40, 60)
    # Nearest resampling: every label and depth value existed before.
    assert set(np.unique(out['targets']['segmentation'])) <= set(
        np.unique(s['targets']['segmentation']))
    np.testing.assert_allclose(out['targets']['depth'][::2, ::2], s['targets']['depth'] / 2)


def test_crop_pads_with_missing_values():
    out = random_crop(sample(10, 10), (16, 12), np.random.default_rng(0))
    assert out['image'].shape == (16, 12, 3)
    assert (out['targets']['segmentation'][10:] == 255).all()
    assert (out['targets']['depth'][:, 10:] == 0).all()
    assert (out['targets']['normals'][10:] == 0).all()


def test_flip_negates_normal_x():
    s = sample()
    out = horizontal_flip(s)
    assert np.array_equal(out['image'][:, 0], s['image'][:, -1])
    labels = s['targets']['segmentation']
    assert np.array_equal(out['targets']['segmentation'][:, 0], labels[:, -1])
    np.testing.assert_allclose(out['targets']['normals'][0, 0], [-0.6, 0.0, 0.8])


def test_augment_is_deterministic_and_keeps_only_present_tasks():
    config = AugmentConfig(crop=[16, 16])
    s = sample(tasks=('depth',))
    a = augment(s, config, np.random.default_rng(7))
    b = augment(s, config, np.random.default_rng(7))
    assert set(a['targets']) == {'depth'}
    assert np.array_equal(a['image'], b['image'])
    assert np.array_equal(a['targets']['depth'], b['targets']['depth'])


def test_collate_marks_missing_never_zero_class():
    batch = collate([sample(8, 8, ('segmentation',)), sample(8, 8, ('depth',))],
                    mean=[0.5] * 3, std=[0.25] * 3)
    assert batch['image'].shape == (2, 3, 8, 8)
    assert set(batch) == {'image', 'targets'}
    assert (batch['targets']['segmentation'][0] != 255).any()
    assert (batch['targets']['segmentation'][1] == 255).all()
    assert (batch['targets']['depth'][0] == 0).all() and (batch['targets']['depth'][1] > 0).all()
    assert 'normals' not in batch['targets']


def test_collate_builds_the_image_batch_in_the_networks_layout():
    rng = np.random.default_rng(1)
    samples = [{**sample(6, 10, ('depth',)), 'image': rng.integers(0, 256, (6, 10, 3), np.uint8)}
               for _ in range(3)]
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    # Independently: scale to [0, 1], normalise per channel, move channels first.
    expected = ((np.stack([s['image'] for s in samples]) / 255.0 - mean) / std).transpose(
        0, 3, 1, 2)
    for layout in (torch.channels_last, torch.contiguous_format):
        image = collate(samples, mean, std, memory_format=layout)['image']
        assert image.shape == (3, 3, 6, 10) and image.dtype == torch.float32
        assert image.is_contiguous(memory_format=layout)
        np.testing.assert_allclose(image.numpy(), expected, rtol=1e-5, atol=1e-5)
    # Through a worker process too: the layout survives the trip to the training loop.
    loader = torch.utils.data.DataLoader(samples, batch_size=3, num_workers=1,
                                         collate_fn=partial(collate, mean=mean, std=std))
    assert next(iter(loader))['image'].is_contiguous(memory_format=torch.channels_last)


def test_sampler_weights_resume_and_ranks():
    sizes, weights = [10, 1000], [0.5, 0.5]
    sampler = WeightedEpochSampler(sizes, weights, seed=3, epoch_size=2000)
    first = list(sampler)
    share = np.mean(np.array(first) < 10)
    assert 0.45 < share < 0.55  # the small set gets half the draws despite its size
    sampler.set_epoch(0, skip=500)
    assert list(sampler) == first[500:]
    sampler.set_epoch(1)
    assert list(sampler) != first
    ranks = [WeightedEpochSampler(sizes, weights, seed=3, epoch_size=2000, rank=r,
                                  world_size=2) for r in (0, 1)]
    assert sorted(list(ranks[0]) + list(ranks[1])) == sorted(first)
    with pytest.raises(ValueError, match='weight'):
        WeightedEpochSampler([1, 2], [1.0])


def test_mixed_dataset_names_the_source():
    mixed = MixedDataset({'a': [sample(4, 4)] * 2, 'b': [sample(4, 4, ('depth',))] * 3})
    assert len(mixed) == 5
    assert mixed[1]['dataset'] == 'a' and mixed[2]['dataset'] == 'b'
    assert set(mixed[4]['targets']) == {'depth'}
