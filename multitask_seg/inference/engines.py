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
The inference engines and the one place that chooses between them.

``ENGINES`` maps an engine name to what it runs; ``choose_engine`` resolves 'auto'
(OpenVINO where it is installed and supports the CPU, else ONNX Runtime, else PyTorch;
CUDA devices keep PyTorch) and ``open_backend`` builds the backend, converting a .pt
checkpoint for ONNX Runtime or OpenVINO once (cached under its content hash).
"""

from dataclasses import dataclass
import functools
import importlib.util
import logging
from pathlib import Path
import time
from typing import Callable

import torch

from .model_cache import content_hash, converted_path
from .precision_gate import int8_variant

ENGINE_NAMES = ('auto', 'torch', 'onnxruntime', 'openvino')
# rt_info key of an optimised IR: the content hash of the checkpoint it was made from.
SOURCE_KEY = 'multitask_seg.source'
# Part of the cache path of converted checkpoints: raise it when conversion changes.
CONVERTER_VERSION = 'v1'
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engine:
    """
    One inference engine.

    :ivar module: the Python package it needs.
    :ivar suffixes: model files it reads directly; a .pt is converted to ``converted``.
    :ivar converted: suffix of the file a .pt checkpoint is converted to (None: reads .pt).
    :ivar precisions: what it runs ('auto' is resolved before the backend sees it).
    """

    module: str
    suffixes: tuple[str, ...]
    converted: str | None
    precisions: tuple[str, ...]


ENGINES = {
    'torch': Engine('torch', ('.pt',), None, ('fp32', 'fp16', 'bf16')),
    'onnxruntime': Engine('onnxruntime', ('.onnx', '.yaml', '.yml'), '.onnx', ('fp32',)),
    'openvino': Engine('openvino', ('.xml', '.onnx'), '.xml', ('fp32', 'bf16', 'int8')),
}


@functools.cache
def installed(engine: str) -> bool:
    """Return whether ``engine``'s package can be imported (and OpenVINO sees a CPU)."""
    if importlib.util.find_spec(ENGINES[engine].module) is None:
        return False
    if engine == 'openvino':
        try:
            from .openvino_backend import core
            return 'CPU' in core().available_devices
        except Exception:  # a wheel that installed but cannot load its CPU plugin
            return False
    return True


def choose_engine(requested: str, device: str, model_path: str | Path) -> str:
    """
    Resolve ``requested`` ('auto' or an engine name) for ``device`` and the model file.

    :raises: ValueError: unknown engine, an engine that is not installed, or a model file
        the engine cannot read.
    """
    if requested not in ENGINE_NAMES:
        raise ValueError(f'engine must be one of {ENGINE_NAMES}, got {requested!r}')
    suffix = Path(model_path).suffix.lower()
    if not any(_reads(name, suffix) for name in ENGINES):
        raise ValueError(f'model file {model_path}: unknown extension {suffix!r} (use .pt, '
                         f'.onnx, an OpenVINO .xml, or .yaml describing a foreign ONNX '
                         f'model)')
    if requested == 'auto':
        cuda = torch.device(device).type == 'cuda'
        order = ('torch', 'onnxruntime') if cuda else ('openvino', 'onnxruntime', 'torch')
        usable = [name for name in order if installed(name) and _reads(name, suffix)]
        if not usable:
            raise ValueError(f'no installed engine runs {model_path} on {device}')
        return usable[0]
    if not installed(requested):
        raise ValueError(f'engine {requested} is not installed (pip install '
                         f'{ENGINES[requested].module}) or cannot use this CPU')
    if not _reads(requested, suffix):
        raise ValueError(f'engine {requested} cannot run {model_path}: it reads '
                         f'{", ".join(_readable(requested))} files')
    return requested


def _readable(engine: str) -> tuple[str, ...]:
    spec = ENGINES[engine]
    return spec.suffixes + (('.pt',) if spec.converted else ())


def _reads(engine: str, suffix: str) -> bool:
    return suffix in _readable(engine)


def optimised_beside(checkpoint: str | Path) -> Path | None:
    """
    Return the optimised IR made from ``checkpoint`` beside it, if there is one.

    ``multitask_seg_optimize --output X.openvino`` for ``X.pt`` writes X.openvino/model.xml;
    it counts only while its recorded source hash matches the checkpoint's bytes.
    """
    candidate = Path(checkpoint).with_suffix('.openvino') / 'model.xml'
    if not candidate.is_file():
        return None
    from .openvino_backend import core

    model = core().read_model(str(candidate))
    recorded = (model.get_rt_info([SOURCE_KEY]).astype(str)
                if model.has_rt_info([SOURCE_KEY]) else None)
    if recorded != content_hash(checkpoint):
        logger.warning('ignoring %s: it was made from another version of %s', candidate,
                       checkpoint)
        return None
    return candidate


def openvino_model_file(path: str | Path) -> Path | None:
    """Return the IR that may hold measured figures for ``path`` (None: there is none)."""
    suffix = Path(path).suffix.lower()
    if suffix == '.xml':
        return Path(path)
    return optimised_beside(path) if suffix == '.pt' else None


def convert_for(engine: str, checkpoint: str | Path) -> Path:
    """Return ``checkpoint`` converted for ``engine``, converting it on the first use."""
    target = converted_path(checkpoint, f'exports/{engine}-{CONVERTER_VERSION}',
                            ENGINES[engine].converted)
    if target.is_file():
        return target
    start = time.perf_counter()
    _CONVERTERS[engine](checkpoint, target)
    # Said after the fact: a file that is no checkpoint fails above, named once, without a
    # conversion line before its error.
    logger.warning('converted %s for %s into %s in %.1f s (once; later starts reuse it)',
                   checkpoint, engine, target, time.perf_counter() - start)
    return target


def _to_onnx(checkpoint: str | Path, target: Path) -> None:
    # ONNX writing needs the export extras (onnx, onnxscript), which the node does not
    # depend on: imported by name only here, for a .pt forced onto ONNX Runtime.
    if not all(importlib.util.find_spec(name) for name in ('onnx', 'onnxscript')):
        raise ValueError(f'engine onnxruntime needs {checkpoint} exported to ONNX first: '
                         f'pip install -r requirements/export.txt, or run '
                         f'multitask_seg_export and give the .onnx file')
    importlib.import_module('multitask_seg.export').export_onnx(checkpoint, target)


def _to_openvino(checkpoint: str | Path, target: Path) -> None:
    from .openvino_ir import convert_checkpoint
    convert_checkpoint(checkpoint, target)


_CONVERTERS: dict[str, Callable[[str | Path, Path], None]] = {
    'onnxruntime': _to_onnx, 'openvino': _to_openvino}


def open_backend(path: str | Path, engine: str, device: str, precision: str,
                 channels_last: bool, num_threads: int | None,
                 keep_memory_max_pixels: int | None = None):
    """
    Build the backend of a resolved ``engine`` for the model file ``path``.

    :param keep_memory_max_pixels: OpenVINO: batches with more pixels give their compiled
        graph's working memory back after inference (None: never).

    :raises: ValueError: the engine does not run ``precision``; CheckpointError or
        FileNotFoundError naming the file when it cannot be used.
    """
    spec = ENGINES[engine]
    if precision not in spec.precisions:
        raise ValueError(f'engine {engine} runs precision {", ".join(spec.precisions)}, '
                         f'not {precision!r}')
    suffix = Path(path).suffix.lower()
    if suffix == '.pt' and spec.converted:
        if not Path(path).is_file():
            raise FileNotFoundError(f'checkpoint {path} does not exist')
        optimised = optimised_beside(path) if engine == 'openvino' else None
        path = optimised or convert_for(engine, path)
    if engine == 'openvino' and precision == 'int8' and int8_variant(path).is_file():
        path = int8_variant(path)
    if engine == 'torch':
        from .torch_backend import TorchBackend
        return TorchBackend(path, device, precision, channels_last)
    if engine == 'openvino':
        from .openvino_backend import OpenVinoBackend
        return OpenVinoBackend(path, device, precision, num_threads,
                               keep_memory_max_pixels=keep_memory_max_pixels)
    if suffix in ('.yaml', '.yml'):
        from .external_onnx import ExternalOnnxBackend
        return ExternalOnnxBackend(path, device, precision, num_threads)
    from .onnx_backend import OnnxBackend
    return OnnxBackend(path, device, precision, num_threads)
