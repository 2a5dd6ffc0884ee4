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

"""Checkpoints describe themselves, write atomically and fail clearly."""

import collections

from multitask_seg.checkpoint import (
    CheckpointError, default_info, load_checkpoint, ModelInfo, read_checkpoint,
    save_checkpoint)
from multitask_seg.model import build_model, ModelConfig
import pytest
import torch

CONFIG = ModelConfig(tasks={'segmentation': 3, 'depth': 1})


@pytest.fixture
def saved(tmp_path):
    info = ModelInfo(classes=['floor', 'wall', 'chair'], colors=[[1, 2, 3], [4, 5, 6], [7, 8, 9]],
                     input_size=[240, 320], depth_range=[0.2, 12.0],
                     provenance={'data': 'synthetic indoor', 'commit': 'abc'})
    return save_checkpoint(tmp_path / 'model.pt', build_model(CONFIG), info,
                           extra={'epoch': 3, 'optimizer': {'lr': torch.tensor(0.1)}})


def test_round_trip_keeps_description_and_training_state(saved):
    model, info, extra = load_checkpoint(saved)
    assert model.config == CONFIG and not model.training
    assert info.classes == ['floor', 'wall', 'chair'] and info.colors[2] == [7, 8, 9]
    assert info.input_size == [240, 320] and info.depth_range == [0.2, 12.0]
    assert info.depth_units == 'm' and info.provenance['data'] == 'synthetic indoor'
    assert info.provenance['commit'] == 'abc' and 'saved' in info.provenance
    assert extra['epoch'] == 3 and extra['optimizer']['lr'] == pytest.approx(0.1)


def test_written_atomically(saved):
    assert [p.name for p in saved.parent.iterdir()] == ['model.pt']
    # Overwriting replaces the file whole; a reader never sees a partial one.
    save_checkpoint(saved, build_model(CONFIG), default_info(CONFIG))
    assert read_checkpoint(saved)['info'].classes == ['class_0', 'class_1', 'class_2']
    assert [p.name for p in saved.parent.iterdir()] == ['model.pt']


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pt'):
        load_checkpoint(tmp_path / 'absent.pt')


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='model.pt.*truncated'):
        load_checkpoint(saved)


def test_plain_state_dict_is_not_a_checkpoint(tmp_path):
    torch.save(build_model(CONFIG).state_dict(), tmp_path / 'weights.pt')
    with pytest.raises(CheckpointError, match='weights.pt is not a multitask_seg checkpoint'):
        load_checkpoint(tmp_path / 'weights.pt')


def test_text_file_is_not_a_checkpoint(tmp_path):
    (tmp_path / 'notes.pt').write_text('hello')
    with pytest.raises(CheckpointError, match='notes.pt'):
        load_checkpoint(tmp_path / 'notes.pt')


def test_code_in_pickle_is_refused(tmp_path):
    # weights_only=True refuses arbitrary classes: loading must not run foreign code.
    torch.save({'format': 'multitask_seg.checkpoint', 'x': collections.Counter('ab')},
               tmp_path / 'evil.pt')
    with pytest.raises(CheckpointError, match='evil.pt'):
        load_checkpoint(tmp_path / 'evil.pt')


def test_architecture_mismatch(saved):
    payload = torch.load(saved, weights_only=True)
    payload['model']['tasks'] = {'segmentation': 4, 'depth': 1}
    payload['info']['classes'].append('door')
    payload['info']['colors'].append([0, 0, 0])
    torch.save(payload, saved)
    with pytest.raises(CheckpointError, match='model.pt: weights do not match'):
        load_checkpoint(saved)


@pytest.mark.parametrize('edit, message', [
    (lambda p: p['model'].update({'encoder_typo': 1}), 'encoder_typo'),
    (lambda p: p['info'].update({'classes': ['one']}), '3 segmentation classes'),
    (lambda p: p['model'].update({'crp_stages': 'four'}), 'crp_stages'),
    (lambda p: p.update({'version': 99}), 'version 99'),
])
def test_invalid_description(saved, edit, message):
    payload = torch.load(saved, weights_only=True)
    edit(payload)
    torch.save(payload, saved)
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(saved)


def test_save_refuses_inconsistent_info(tmp_path):
    with pytest.raises(ValueError, match='3 segmentation classes'):
        save_checkpoint(tmp_path / 'x.pt', build_model(CONFIG), ModelInfo(classes=['a']))
    assert not list(tmp_path.iterdir())


def test_half_storage_loads_as_float32(tmp_path):
    model = build_model(CONFIG).eval()
    full = save_checkpoint(tmp_path / 'full.pt', model, default_info(CONFIG))
    half = save_checkpoint(tmp_path / 'half.pt', model, default_info(CONFIG), half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _, _ = load_checkpoint(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert (a['segmentation'] - b['segmentation']).abs().max() < 0.05


class Foreign:
    """A class no checkpoint may hold."""


TORCH_HINTS = ('weights_only` set to `False', 'add_safe_globals', 'safe_globals(')


@pytest.mark.parametrize('name, write, reason', [
    ('notes.pt', lambda p: p.write_bytes(b'not a checkpoint'), 'is not a torch file'),
    ('object.pt', lambda p: torch.save({'x': Foreign()}, p),
     rf'holds a Python object \({__name__}.Foreign\)'),
])
def test_refusals_leave_out_torch_advice_to_load_unsafely(tmp_path, name, write, reason):
    path = tmp_path / name
    write(path)
    # The premise: torch's own message advises weights_only=False or allow-listing.
    with pytest.raises(Exception) as raw:
        torch.load(path, weights_only=True)
    assert any(hint in str(raw.value) for hint in TORCH_HINTS)
    with pytest.raises(CheckpointError, match=reason) as caught:
        read_checkpoint(path)
    assert name in str(caught.value)
    assert not any(hint in str(caught.value) for hint in TORCH_HINTS)
