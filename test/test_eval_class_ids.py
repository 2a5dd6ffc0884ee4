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

"""Ground truth in another label space: refused without a class map; the shipped maps."""

import json
from pathlib import Path

from multitask_seg.bundled import default_checkpoint
from multitask_seg.checkpoint import read_checkpoint
from multitask_seg.data.bag_writer import BagWriter
from multitask_seg.data.class_map import ClassMap
from multitask_seg.data.nyud import NYU40_CLASSES
from multitask_seg.evaluation.cli import main
from multitask_seg.metrics import SegmentationMetric
import numpy as np
import pytest
import yaml

MAPS = Path(__file__).resolve().parents[1] / 'config' / 'class_maps'
STAMP0 = 1_700_000_000_000_000_000
# Cityscapes' 19 training classes in train-id order (Cordts et al. 2016, cityscapesScripts
# labels.py) and the paper's KITTI-6 classes.
CITYSCAPES19 = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
                'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
                'truck', 'bus', 'train', 'motorcycle', 'bicycle']
KITTI6 = ['road', 'sidewalk', 'building', 'vegetation', 'car', 'sky']


def write_bag(path: Path, labels: list[np.ndarray]) -> Path:
    rng = np.random.default_rng(1)
    with BagWriter(str(path)) as writer:
        for i, ids in enumerate(labels):
            writer.write(STAMP0 + i * 10**8, rng.integers(0, 256, (*ids.shape, 3), np.uint8),
                         K=np.eye(3), labels=ids)
    return path


def foreign_labels() -> list[np.ndarray]:
    """Two frames of ids 0-7 (the tiny model has 5 classes), a 255 border."""
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 5, (48, 64)).astype(np.uint8) for _ in range(2)]
    frames[0][:4] = 255
    frames[1][10:20, 10:20] = 7
    frames[1][30, 30] = 6
    frames[0][40, 5] = 5
    return frames


def test_ids_the_model_lacks_are_refused_naming_them(tmp_path, tiny_checkpoint, capsys):
    bag = write_bag(tmp_path / 'truth', foreign_labels())
    out = tmp_path / 'report'
    for mode in (['offline'], ['recorded', '--predictions', str(bag)]):
        status = main([*mode, str(bag), '--checkpoint', str(tiny_checkpoint), '--out',
                       str(out), '--depth-topic', ''])
        err = capsys.readouterr().err
        assert status == 2, err
        assert 'class ids 5, 6, 7' in err and '--class-map' in err and 'ids 0-4' in err
        assert not (out / 'results.json').exists()
    # An offset that pushes valid ids past the model's classes is refused as well.
    ok = write_bag(tmp_path / 'ok', [np.full((48, 64), 2, np.uint8)])
    status = main(['offline', str(ok), '--checkpoint', str(tiny_checkpoint), '--out', str(out),
                   '--depth-topic', '', '--label-offset', '3'])
    assert status == 2 and 'class ids 2 after --label-offset 3' in capsys.readouterr().err


def test_a_class_map_scores_the_mapped_pixels(tmp_path, tiny_checkpoint):
    labels = foreign_labels()
    bag = write_bag(tmp_path / 'truth', labels)
    # Source id i -> model class (i % 5), except 6 and 7, which have no counterpart.
    names = ['a', 'b', 'c', 'd', 'e']
    class_map = tmp_path / 'map.yaml'
    class_map.write_text(yaml.safe_dump({i: names[i % 5] for i in range(6)}))
    out = tmp_path / 'report'
    status = main(['offline', str(bag), '--checkpoint', str(tiny_checkpoint), '--out', str(out),
                   '--depth-topic', '', '--class-map', str(class_map)])
    results = json.loads((out / 'results.json').read_text())
    assert status == 0 and results['complete']
    from multitask_seg.inference import Predictor
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (*ids.shape, 3), np.uint8) for ids in labels]
    expected = SegmentationMetric(5)
    for ids, result in zip(labels, Predictor(tiny_checkpoint).predict(images)):
        mapped = np.where(ids == 5, 0, np.where(ids > 5, 255, ids))
        expected.update(result['segmentation'], mapped)
    assert results['segmentation']['pixels'] == expected.compute()['pixels']
    assert results['segmentation']['miou'] == pytest.approx(expected.compute()['miou'])


@pytest.mark.parametrize('file, source, domain, merged', [
    ('nyu40_to_bundled.yaml', list(NYU40_CLASSES), 'indoor',
     {'books': 'object', 'box': 'object', 'otherprop': 'object'}),
    ('kitti6_to_bundled.yaml', KITTI6, 'street', {}),
    # Cityscapes' free-standing wall is not a room's wall.
    ('cityscapes19_to_bundled.yaml', CITYSCAPES19, 'street', {'wall': None}),
])
def test_shipped_maps_send_each_class_to_its_namesake(file, source, domain, merged):
    model = read_checkpoint(default_checkpoint())['info'].classes
    # The bundled joint model: 12 indoor classes, then the 6 street classes.
    shared = set(model[:12] if domain == 'indoor' else model[12:])
    data = yaml.safe_load((MAPS / file).read_text())
    assert data['source_classes'] == source
    lut = ClassMap(str(MAPS / file), model).lut
    for i, name in enumerate(source):
        got = model[lut[i]] if lut[i] != 255 else None
        expected = merged[name] if name in merged else (name if name in shared else None)
        assert got == expected, f'{file}: {i} {name} -> {got}, expected {expected}'
    assert lut[255] == 255 and (lut[len(source):] == 255).all()
