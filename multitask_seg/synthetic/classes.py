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
"""Class names and label colours of the two synthetic domains."""

from ..tasks import IGNORE_LABEL

DOMAINS = ('indoor', 'outdoor')

# Index order is the label id written to segmentation PNGs; 255 means ignore.
CLASSES = {
    'indoor': (
        'wall', 'floor', 'ceiling', 'bed', 'cabinet', 'chair', 'sofa', 'table',
        'door', 'window', 'picture', 'object',
    ),
    'outdoor': ('road', 'sidewalk', 'building', 'vegetation', 'car', 'sky'),
}

# Indoor colours follow the NYUDv2-40 palette order, outdoor ones Cityscapes.
COLORS = {
    'indoor': (
        [174, 199, 232], [152, 223, 138], [31, 119, 180], [255, 187, 120],
        [188, 189, 34], [140, 86, 75], [255, 152, 150], [214, 39, 40],
        [197, 176, 213], [148, 103, 189], [196, 156, 148], [23, 190, 207],
    ),
    'outdoor': (
        [128, 64, 128], [244, 35, 232], [70, 70, 70], [107, 142, 35],
        [0, 0, 142], [70, 130, 180],
    ),
}

__all__ = ['CLASSES', 'class_id', 'COLORS', 'DOMAINS', 'IGNORE_LABEL']


def class_id(domain: str, name: str) -> int:
    """Return the label id of class `name` in `domain`."""
    return CLASSES[domain].index(name)
