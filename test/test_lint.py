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

"""The ament linters, as a ROS package's own tests run them, over all of the package's code."""

from pathlib import Path
import subprocess
import sys
import xml.etree.ElementTree as ET

from ament_pep257.main import main as pep257_main

ROOT = Path(__file__).resolve().parents[1]
# The virtual environment and build outputs live in the repo too; lint only our code.
CODE = [str(ROOT / p) for p in ('multitask_seg', 'distill', 'test', 'launch', 'setup.py')
        if (ROOT / p).exists()]


def test_flake8():
    # Its own process: flake8 forks workers, and a fork of a process whose rclpy threads an
    # earlier test left running can hang.
    result = subprocess.run(
        [sys.executable, '-c', 'import sys; from ament_flake8.main import main; '
         'sys.exit(main(argv=sys.argv[1:]))', *CODE],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, 'flake8 errors:\n' + result.stdout + result.stderr


def test_pep257():
    assert pep257_main(argv=CODE) == 0, 'pep257 errors, see the output above'


def test_copyright_header_in_every_python_file():
    header = (ROOT / 'doc' / 'HEADER.txt').read_text()
    files = [p for c in CODE for p in ([Path(c)] if c.endswith('.py')
                                       else Path(c).rglob('*.py'))]
    assert len(files) > 10
    missing = [str(p.relative_to(ROOT)) for p in files if not p.read_text().startswith(header)]
    assert not missing, f'files without the Apache-2.0 header of doc/HEADER.txt: {missing}'


def test_package_xml_is_format_3_with_the_declared_dependencies():
    # ament_xmllint is not on PyPI; this checks what it would plus the contents we rely on.
    root = ET.parse(ROOT / 'package.xml').getroot()
    assert root.tag == 'package' and root.get('format') == '3'
    assert root.findtext('name') == 'multitask_seg'
    assert root.findtext('export/build_type') == 'ament_python'
    runtime = {e.text for e in root.findall('exec_depend')}
    assert {'rclpy', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs', 'cv_bridge',
            'python3-numpy', 'python3-yaml', 'python3-torch'} <= runtime
    assert {'ament_flake8', 'ament_pep257', 'python3-pytest', 'sensor_msgs_py'} <= {
        e.text for e in root.findall('test_depend')}
