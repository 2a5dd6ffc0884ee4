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

"""Run a .pt checkpoint with PyTorch on the CPU or a CUDA device."""

from pathlib import Path

from .network_backend import NetworkBackend
from ..checkpoint import load_checkpoint


class TorchBackend(NetworkBackend):
    """
    A checkpoint's network, ready for batches of normalised images.

    :param path: a checkpoint file of this package.
    :param device, precision, channels_last: see ``NetworkBackend``.
    """

    def __init__(self, path: str | Path, device: str = 'cpu', precision: str = 'fp32',
                 channels_last: bool = True) -> None:
        model, info, _ = load_checkpoint(path)
        super().__init__(model, info, device, precision, channels_last)
