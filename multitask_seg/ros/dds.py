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

"""Keep the DDS traffic of benchmarks, demos and evaluations on this machine."""

import contextlib
import os
from pathlib import Path
import random
from typing import Iterator

PROFILE = 'fastdds_shm.xml'
VARIABLES = ('ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_DOMAIN_ID', 'FASTDDS_DEFAULT_PROFILES_FILE')


def shm_profile() -> Path | None:
    """Return the package's shared-memory Fast DDS profile, installed or in the source tree."""
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = Path(get_package_share_directory('multitask_seg')) / 'config' / PROFILE
        if installed.is_file():
            return installed
    except (ImportError, LookupError, OSError, ValueError):
        pass
    source = Path(__file__).resolve().parents[2] / 'config' / PROFILE
    return source if source.is_file() else None


@contextlib.contextmanager
def local_dds() -> Iterator[None]:
    """
    Keep DDS on this host, in a domain of this run's own; restore the environment after.

    Set before rclpy starts and inherited by child processes: localhost-only discovery,
    the shared-memory transport (whole frames between processes, nothing on the network)
    and a random domain, so runs on one machine never hear each other.
    """
    saved = {name: os.environ.get(name) for name in VARIABLES}
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ['ROS_DOMAIN_ID'] = str(random.SystemRandom().randint(1, 200))
    profile = shm_profile()
    if profile is not None:
        os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
