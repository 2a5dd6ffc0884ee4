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
Class maps: source label ids -> target classes, for readers whose labels need remapping.

A map is a dict {source id: target class name}, or a YAML file holding either that dict or
{'classes': [names in target-id order], 'map': {source id: name}}. Target ids follow
`classes` when given, else the order in which names first appear; unmapped ids -> 255.
"""

from typing import Mapping, Optional, Sequence, Union

import numpy as np

from .folder_format import DatasetFormatError, IGNORE_LABEL, load_yaml

ClassMapSpec = Union[str, Mapping]
# Cityscapes label ids (as KITTI semantics stores them) of the paper's KITTI-6 classes.
KITTI6_MAP = {7: 'road', 8: 'sidewalk', 11: 'building', 21: 'vegetation', 26: 'car', 23: 'sky'}
# Cityscapes colours of classes that a map may name; others get a generated colour.
CITYSCAPES_COLORS = {
    'road': [128, 64, 128], 'sidewalk': [244, 35, 232], 'building': [70, 70, 70],
    'wall': [102, 102, 156], 'fence': [190, 153, 153], 'pole': [153, 153, 153],
    'traffic light': [250, 170, 30], 'traffic sign': [220, 220, 0],
    'vegetation': [107, 142, 35], 'terrain': [152, 251, 152], 'sky': [70, 130, 180],
    'person': [220, 20, 60], 'rider': [255, 0, 0], 'car': [0, 0, 142], 'truck': [0, 0, 70],
    'bus': [0, 60, 100], 'train': [0, 80, 100], 'motorcycle': [0, 0, 230],
    'bicycle': [119, 11, 32],
}


class ClassMap:
    """
    A parsed class map and its lookup table.

    :param spec: dict or YAML path (see the module docs).
    :param classes: target class names in id order; default: order of first appearance.
    :ivar classes: target class names; target id i is classes[i].
    :ivar colors: one [r, g, b] per target class.
    :ivar lut: (65536,) uint8 source id -> target id or 255.
    """

    def __init__(self, spec: ClassMapSpec, classes: Optional[Sequence[str]] = None):
        where = spec if isinstance(spec, str) else 'class map'
        mapping = load_yaml(spec) if isinstance(spec, str) else dict(spec)
        if 'map' in mapping:
            classes = classes or mapping.get('classes')
            mapping = mapping['map']
        if not isinstance(mapping, Mapping) or not mapping:
            raise DatasetFormatError(f'{where}: expected a mapping of source id -> class name')
        names = list(classes or dict.fromkeys(mapping.values()))
        if len(names) > IGNORE_LABEL:
            raise DatasetFormatError(f'{where}: at most {IGNORE_LABEL} target classes')
        self.classes = tuple(names)
        self.lut = np.full(65536, IGNORE_LABEL, np.uint8)
        for source, name in mapping.items():
            if not isinstance(source, int) or not 0 <= source < 65536 or name not in names:
                raise DatasetFormatError(
                    f'{where}: entry {source!r}: {name!r} needs an id 0-65535 and a class of '
                    f'{self.classes}')
            self.lut[source] = names.index(name)
        self.colors = tuple(CITYSCAPES_COLORS.get(n) or _color(i) for i, n in enumerate(names))

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """Map (H, W) uint8/uint16 source ids to (H, W) uint8 target ids, 255 = unmapped."""
        return self.lut[labels]


def _color(index: int) -> list:
    """Return a distinct, deterministic colour for a class without a standard one."""
    rng = np.random.default_rng(index)
    return [int(v) for v in rng.integers(0, 256, 3)]
