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

"""Run an in-memory network with PyTorch on the CPU or a CUDA device."""

import contextlib
import copy
import functools

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..allocator import retain_freed_memory
from ..checkpoint import ModelInfo
from ..model import MultiTaskNet

PRECISIONS = ('fp32', 'fp16', 'bf16')
# Freed memory PyTorch inference keeps for reuse (see allocator): ~75 MB more peak memory
# at 640x480 saves ~170 ms of system time per forward pass.
KEEP_FREED_BYTES = 1 << 30


@functools.cache
def keep_freed_memory() -> bool:
    """Let glibc reuse freed activation buffers (once per process; False off glibc)."""
    return retain_freed_memory(KEEP_FREED_BYTES)


def fold_batch_norm(model: nn.Module) -> int:
    """
    Fold every BatchNorm that directly follows a convolution in an nn.Sequential into it.

    In place, for inference (the statistics are fixed); the module tree keeps its shape
    (the BatchNorm becomes an Identity). Returns how many were folded.
    """
    folded = 0
    for module in model.modules():
        if not isinstance(module, nn.Sequential):
            continue
        names = list(module._modules)
        for first, second in zip(names, names[1:]):
            conv, norm = module._modules[first], module._modules[second]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                module._modules[first] = fuse_conv_bn_eval(conv.eval(), norm.eval())
                module._modules[second] = nn.Identity()
                folded += 1
    return folded


class NetworkBackend:
    """
    A network, ready for batches of normalised images.

    It runs a copy of the network as it is when the backend is made, in eval mode with
    BatchNorm folded, on ``device`` and in the memory layout (and, for 'fp16', in half): the
    same as a checkpoint of those weights on the torch engine, while the original (a network
    being trained) is left untouched.

    :param model: the network.
    :param info: what inference needs to know about it (classes, sizes, depth range).
    :param device: 'cpu', 'cuda' or 'cuda:N'.
    :param precision: 'fp32'; 'fp16' (CUDA only: weights and activations in half);
        'bf16' (autocast: convolutions in bfloat16, fast on CPUs with AMX/AVX-512-BF16).
    :param channels_last: NHWC memory layout, several times faster for this net on CPU.
    """

    def __init__(self, model: MultiTaskNet, info: ModelInfo, device: str = 'cpu',
                 precision: str = 'fp32', channels_last: bool = True) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f'precision must be one of {PRECISIONS}, got {precision!r}')
        self.device = torch.device(device)
        if self.device.type == 'cuda' and not torch.cuda.is_available():
            raise ValueError(f'device {device!r} asked for, but CUDA is not available')
        if precision == 'fp16' and self.device.type != 'cuda':
            raise ValueError('precision fp16 needs a CUDA device; on CPU use fp32 or bf16')
        if self.device.type == 'cpu':
            keep_freed_memory()
        self.info = info
        self.config = model.config
        self.precision = precision
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        # A copy with BatchNorm folded into the convolutions before it (inference statistics
        # are fixed): measured 213 -> 186 ms per 640x480 frame here (bundled model, 2 threads,
        # one interleaved run). Copying leaves a network being trained as it is, so a
        # predictor scores the weights it was made from, as their checkpoint would.
        model = copy.deepcopy(model).eval()
        fold_batch_norm(model)
        model = model.to(self.device, memory_format=self.memory_format)
        self.model = model.half() if precision == 'fp16' else model

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map a (N, 3, h, w) float32 CPU batch to {task: (N, C, h/4, w/4) float32 CPU}."""
        batch = batch.to(self.device, non_blocking=True).contiguous(
            memory_format=self.memory_format)
        if self.precision == 'fp16':
            batch = batch.half()
        autocast = (torch.autocast(self.device.type, dtype=torch.bfloat16)
                    if self.precision == 'bf16' else contextlib.nullcontext())
        with torch.inference_mode(), autocast:
            outputs = self.model(batch)
        return {name: out.float().cpu() for name, out in outputs.items()}
