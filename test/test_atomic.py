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

"""Atomic writes: whole or nothing, with ordinary permissions."""

import os
import stat

from multitask_seg.atomic import atomic_path, stale_temporaries
import pytest


def test_replaces_whole_and_keeps_umask_permissions(tmp_path):
    target = tmp_path / 'sub' / 'file.txt'
    with atomic_path(target) as tmp:
        tmp.write_text('first')
        assert not target.exists()  # nothing visible until the block succeeds
    with atomic_path(target) as tmp:
        tmp.write_text('second')
    assert target.read_text() == 'second'
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert os.listdir(target.parent) == ['file.txt']


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / 'file.txt'
    target.write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('half')
            raise RuntimeError('killed mid-write')
    assert target.read_text() == 'old'
    assert not stale_temporaries(tmp_path)
    (tmp_path / '.file.txt.abc.tmp').write_text('left by a killed run')
    assert [p.name for p in stale_temporaries(tmp_path)] == ['.file.txt.abc.tmp']
