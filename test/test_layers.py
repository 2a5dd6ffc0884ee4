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

"""The layers the design card draws: the core never imports distill, ROS only at the edge."""

import ast
from pathlib import Path
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
# The ROS edge: the node and its helpers, and live evaluation (it drives a running node).
EDGE = ('multitask_seg.ros', 'multitask_seg.evaluation.live')
ROS_MODULES = ('rclpy', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs', 'rcl_interfaces',
               'lifecycle_msgs', 'builtin_interfaces')
# rosdep keys of the Python modules the node may import (from rosdistro's rosdep/python.yaml
# and the ROS package names); a module missing here fails the test until it is declared.
ROSDEP_KEYS = {
    'rclpy': 'rclpy', 'rcl_interfaces': 'rcl_interfaces', 'lifecycle_msgs': 'lifecycle_msgs',
    'sensor_msgs': 'sensor_msgs', 'std_msgs': 'std_msgs', 'diagnostic_msgs': 'diagnostic_msgs',
    'builtin_interfaces': 'builtin_interfaces', 'ament_index_python': 'ament_index_python',
    'cv_bridge': 'cv_bridge', 'launch': 'launch', 'launch_ros': 'launch_ros',
    'numpy': 'python3-numpy', 'yaml': 'python3-yaml', 'torch': 'python3-torch',
    'PIL': 'python3-pil', 'dacite': 'python3-dacite-pip',
    'onnxruntime': 'python3-onnxruntime-pip', 'openvino': 'python3-openvino-pip',
}


def module_file(name: str) -> Path | None:
    """Return the source file of a module of this repository, or None."""
    path = ROOT.joinpath(*name.split('.'))
    if (path / '__init__.py').is_file():
        return path / '__init__.py'
    return path.with_suffix('.py') if path.with_suffix('.py').is_file() else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (lazy imports too), as absolute names."""
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f'{base}.{alias.name}' for alias in node.names)
    return found


def closure(*start: Path) -> tuple[set[str], set[str]]:
    """Return (repository modules reached, outside top-level modules imported) from files."""
    todo, seen, outside = list(start), set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imports(path):
            parts = name.split('.')
            if module_file(parts[0]) is None:
                outside.add(parts[0])
                continue
            # A package's __init__ runs before any of its submodules.
            for i in range(1, len(parts) + 1):
                found = module_file('.'.join(parts[:i]))
                if found is not None:
                    todo.append(found)
    return {module_name(p) for p in seen if p.is_relative_to(ROOT / 'multitask_seg')}, outside


def all_modules(top: str) -> list[str]:
    return sorted(module_name(p) for p in (ROOT / top).rglob('*.py'))


def test_the_core_never_imports_distill():
    offenders = [name for name in all_modules('multitask_seg')
                 if any(i == 'distill' or i.startswith('distill.')
                        for i in imports(module_file(name)))]
    assert not offenders, f'multitask_seg modules importing distill: {offenders}'


def test_every_module_outside_the_ros_edge_imports_without_ros():
    names = [n for n in all_modules('multitask_seg') + all_modules('distill')
             if not n.startswith(EDGE)]
    assert 'multitask_seg.data.bag_reader' in names and 'distill.train' in names
    # A finder ahead of every other makes the ROS modules unimportable in this process.
    script = f"""
import importlib, sys
class NoRos:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {ROS_MODULES!r}:
            raise ImportError('ROS is not importable here: ' + name)
sys.meta_path.insert(0, NoRos())
failed = []
for name in {names!r}:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f'{{name}}: {{exc!r}}')
print('\\n'.join(failed))
sys.exit(1 if failed else 0)
"""
    result = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, 'modules that need ROS below the edge:\n' + (
        result.stdout + result.stderr)


def test_the_node_reaches_no_training_or_evaluation_code():
    reached, _ = closure(ROOT / 'multitask_seg' / 'ros' / 'node.py')
    assert 'multitask_seg.inference.predictor' in reached
    assert not [n for n in reached
                if n.startswith(('multitask_seg.evaluation', 'multitask_seg.synthetic',
                                 'multitask_seg.data', 'multitask_seg.bench'))]


def test_package_xml_exec_depends_are_exactly_what_the_node_imports():
    _, outside = closure(ROOT / 'multitask_seg' / 'ros' / 'node.py',
                         ROOT / 'launch' / 'node.launch.py')
    third_party = {m for m in outside if m not in sys.stdlib_module_names}
    unknown = third_party - set(ROSDEP_KEYS)
    assert not unknown, f'the node imports {unknown}: give them rosdep keys and exec_depends'
    declared = {e.text for e in ET.parse(ROOT / 'package.xml').getroot().findall('exec_depend')}
    needed = {ROSDEP_KEYS[m] for m in third_party}
    assert declared == needed, (f'package.xml lacks {sorted(needed - declared)}; '
                                f'declares unused {sorted(declared - needed)}')
