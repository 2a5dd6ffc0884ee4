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

"""`colcon build` installs the package in the layout `ros2 run` and `ros2 launch` expect."""

from pathlib import Path
import shutil
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_colcon_build_layout(tmp_path):
    colcon = shutil.which('colcon', path=str(Path(sys.executable).parent))
    if colcon is None:
        pytest.fail('colcon is not installed beside this Python: run `make test`')
    subprocess.run(
        [colcon, '--log-base', str(tmp_path / 'log'), 'build', '--base-paths', str(ROOT),
         '--packages-select', 'multitask_seg', '--build-base', str(tmp_path / 'build'),
         '--install-base', str(tmp_path / 'install')],
        check=True, capture_output=True, text=True, timeout=300)
    prefix = tmp_path / 'install' / 'multitask_seg'
    marker = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'multitask_seg'
    assert marker.is_file()
    share = prefix / 'share' / 'multitask_seg'
    assert (share / 'package.xml').is_file()
    assert sorted(p.name for p in (share / 'launch').iterdir()) == sorted(
        p.name for p in (ROOT / 'launch').iterdir() if p.is_file())
    assert (share / 'config').is_dir() and any((share / 'config').rglob('*.yaml'))
    executables = sorted(p.name for p in (prefix / 'lib' / 'multitask_seg').iterdir())
    assert 'multitask_seg_node' in executables
    assert all(name.startswith('multitask_seg_') for name in executables)
    python_lib = next((prefix / 'lib').glob('python3*/site-packages/multitask_seg'))
    assert (python_lib / 'inference' / 'predictor.py').is_file()
    assert (python_lib / 'bundled' / 'default.pt').is_file()  # the node's bundled model
