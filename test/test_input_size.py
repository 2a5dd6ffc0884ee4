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

"""Input sizes as every entry point spells them: parsing and what they mean for a model."""

from types import SimpleNamespace

from multitask_seg.input_size import network_size, parse_input_size
from multitask_seg.optimize import parse_input_sizes
import pytest


def test_names_and_sizes_parse_and_anything_else_is_named_in_the_error():
    assert parse_input_size('checkpoint') == 'checkpoint'
    assert parse_input_size('native') == 'native'
    assert parse_input_size('480x640') == (480, 640)
    for bad in ('480', '0x640', '480x640x3', 'auto', ' 480x640', '-1x5'):
        with pytest.raises(ValueError, match=repr(bad).replace('[', r'\[')):
            parse_input_size(bad)
    sizes = parse_input_sizes('checkpoint, native,120x160')
    assert sizes == ['checkpoint', 'native', (120, 160)]
    with pytest.raises(ValueError, match=r"--input-sizes: '12x' is not"):
        parse_input_sizes('checkpoint,12x')


def test_network_size_follows_the_model_for_checkpoint_and_the_frame_for_native():
    trained = SimpleNamespace(input_size=[120, 160])
    untold = SimpleNamespace(input_size=None)
    assert network_size('checkpoint', trained) == (120, 160)
    assert network_size('checkpoint', untold) is None
    assert network_size('native', trained) is None
    assert network_size((240, 320), trained) == (240, 320)
    with pytest.raises(ValueError, match='input_size must be'):
        network_size((240, 0), trained)
