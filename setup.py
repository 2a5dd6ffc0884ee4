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

"""Install the multitask_seg ROS 2 package (ament_python)."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'multitask_seg'


def share(folder: str) -> list[tuple[str, list[str]]]:
    """Install every file under ``folder`` into share/<package>/<folder>, keeping subfolders."""
    entries: dict[str, list[str]] = {}
    for path in sorted(glob(os.path.join(folder, '**', '*'), recursive=True)):
        if os.path.isfile(path):
            target = os.path.join('share', PACKAGE, os.path.dirname(path))
            entries.setdefault(target, []).append(path)
    return sorted(entries.items())


def requirements(role: str) -> list[str]:
    """Return the pinned requirements of one role (requirements/<role>.txt, -r lines followed)."""
    lines = []
    for line in open(os.path.join('requirements', role + '.txt')):
        line = line.split('#')[0].strip()
        if line.startswith('-r '):
            lines += requirements(line[3:].strip()[:-len('.txt')])
        elif line:
            lines.append(line)
    return lines


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    # The bundled default model travels with the Python package, so `pip install` and
    # `colcon build` installs alike find it next to multitask_seg/bundled/__init__.py.
    package_data={'multitask_seg.bundled': ['*.pt', 'default.openvino/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        *share('launch'),
        *share('config'),
        *share('distill/configs'),
    ],
    # colcon and rosdep install the ROS side (package.xml); pip users pick roles by extra.
    install_requires=['setuptools'],
    extras_require={role: requirements(role)
                    for role in ('node', 'evaluation', 'training', 'export', 'test')},
    zip_safe=False,
    maintainer='multitask_seg maintainers',
    maintainer_email='maintainers@multitask-seg.invalid',
    description='Real-time joint semantic segmentation and metric depth for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'multitask_seg_synth = multitask_seg.synthetic.cli:main',
            'multitask_seg_synth_bag = multitask_seg.synthetic.to_bag:main',
            'multitask_seg_eval = multitask_seg.evaluation.cli:main',
            'multitask_seg_export = multitask_seg.export:main',
            'multitask_seg_label = distill.label:main',
            'multitask_seg_node = multitask_seg.ros.node_main:main',
            'multitask_seg_optimize = multitask_seg.optimize:main',
            'multitask_seg_train = distill.train:main',
        ],
    },
)
