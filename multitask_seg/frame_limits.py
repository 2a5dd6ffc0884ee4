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

"""
Frame-size limits shared by the inference core and the node's parameters.

Kept free of torch so that reading the node's parameters imports no inference engine.
"""

# Past this many pixels per image the full-resolution outputs alone would take gigabytes:
# larger images are rejected before inference.
DEFAULT_MAX_PIXELS = 4096 * 4096
# Up to about a 4K UHD frame (3840 x 2160) the engine's working memory stays allocated.
KEEP_MEMORY_MAX_PIXELS = 1 << 23
