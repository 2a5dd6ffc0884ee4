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

"""The process's freed-memory limit: kept for reuse below it, given back above it."""

import subprocess
import sys

import pytest

# In a fresh process (the settings are process-wide): RSS growth in MiB that an 8 MiB
# buffer, written and freed, leaves behind.
PROBE = """
import sys, psutil, numpy as np
from multitask_seg.allocator import retain_freed_memory
assert retain_freed_memory(int(sys.argv[1]))
process = psutil.Process()
before = process.memory_info().rss
buffer = np.ones(8 << 20, np.uint8)
del buffer
print((process.memory_info().rss - before) / 2**20)
"""


def left_behind(limit: int) -> float:
    out = subprocess.run([sys.executable, '-c', PROBE, str(limit)], check=True,
                         capture_output=True, text=True).stdout
    return float(out)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc only')
def test_freed_buffers_are_kept_below_the_limit_and_given_back_above_it():
    assert left_behind(64 << 20) > 7  # kept on the heap for the next frame
    assert left_behind(0) < 1  # an mmap, returned when freed
