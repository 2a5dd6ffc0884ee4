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
Run a model with OpenVINO on the CPU: an OpenVINO IR (.xml) or an .onnx export.

The IR describes itself like an export: its rt_info holds the ModelConfig and ModelInfo as
JSON under the same keys as an export's metadata (see ``openvino_ir``). Each network input
shape seen is compiled once with a fixed shape (a dynamic shape costs ~20 %) and kept;
OpenVINO's on-disk cache (``model_cache.cache_root()/openvino-compiled``) makes a restart's compile
a cache load.

A batch of several camera frames runs as parallel one-image requests on a graph compiled
with one stream per thread (OpenVINO's throughput mode) rather than as one batched request:
the bundled model (network 160x120, outputs 640x480) answered 138 frames/s that way
against 119 batched and 108 one by one, and at network 640x480 27.8 against 25.4 batched
(bf16, 2 threads; a batch of two is slower per image than one image here, its working
set leaving the caches). A single frame keeps the latency graph, all threads on it.
"""

import os
from pathlib import Path

import numpy as np
import torch

from .model_cache import cache_root
from .onnx_backend import description_from_metadata, INFO_KEY, MODEL_KEY
from ..checkpoint import CheckpointError

PRECISIONS = ('fp32', 'bf16', 'int8')
# rt_info key of an IR's quantisation: 'int8' for an NNCF-quantised model.
QUANTISED_KEY = 'multitask_seg.quantised'
# rt_info key of an int8 model: what its unquantised operations ran as ('bf16' or 'f32')
# when its figures were measured. bf16 there makes a model with layers kept in float as
# fast as plain int8 (measured 66.5 against 83.7 ms with f32, bundled model at 640x480).
FLOAT_PARTS_KEY = 'multitask_seg.float_parts'
_HINTS = {'fp32': 'f32', 'bf16': 'bf16'}


def core():
    """Return one shared openvino.Core (creating it loads the plugins: ~0.1 s)."""
    global _CORE
    if _CORE is None:
        import openvino as ov
        _CORE = ov.Core()
    return _CORE


_CORE = None


def cpu_capabilities() -> list[str]:
    """Return the CPU plugin's optimisation capabilities, e.g. ['FP32', 'BF16', 'INT8']."""
    return list(core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))


def read_description(model, path: Path) -> tuple[dict[str, str], str]:
    """Return (description metadata, quantisation) of a model read by OpenVINO."""
    found = {}
    for key in (MODEL_KEY, INFO_KEY, QUANTISED_KEY):
        # An IR stores the keys at the top; an ONNX file's metadata_props land under
        # 'framework'.
        for where in ([key], ['framework', key]):
            if model.has_rt_info(where):
                found[key] = model.get_rt_info(where).astype(str)
                break
    return found, found.pop(QUANTISED_KEY, 'none')


class OpenVinoBackend:
    """
    A self-describing model compiled by OpenVINO's CPU plugin, one compile per input shape.

    :param path: an .xml IR (``openvino_ir.convert_checkpoint`` or ``multitask_seg_optimize``)
        or an .onnx export (``multitask_seg_export``).
    :param device: 'cpu' only.
    :param precision: 'fp32'; 'bf16' (needs a CPU with AVX-512-BF16 or AMX); 'int8' (needs
        a model quantised by ``multitask_seg_optimize``). Always set explicitly: OpenVINO
        would otherwise pick bf16 by itself on CPUs that have it.
    :param num_threads: inference threads (None: OpenVINO's default, one per core).
    :param cache_dir: compiled-blob cache (None: ``model_cache.cache_root()/openvino-compiled``).
    :param keep_memory_max_pixels: batches with more pixels (N x H x W of the input) give
        their graph's working memory back after inference; None: every graph keeps it.
    """

    def __init__(self, path: str | Path, device: str = 'cpu', precision: str = 'fp32',
                 num_threads: int | None = None, cache_dir: str | Path | None = None,
                 keep_memory_max_pixels: int | None = None) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f'OpenVINO precision must be one of {PRECISIONS}, got '
                             f'{precision!r}')
        if torch.device(device).type != 'cpu':
            raise ValueError(f"the OpenVINO engine runs on the CPU; device must be 'cpu', "
                             f'got {device!r}')
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f'model file {path} does not exist')
        try:
            self.model = core().read_model(str(path))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses of many kinds
            raise CheckpointError(f'{path} is not a model OpenVINO can read: '
                                  f'{_first_line(exc)}') from exc
        metadata, quantised = read_description(self.model, path)
        self.config, self.info = description_from_metadata(metadata, path)
        self.output_names = [output.get_any_name() for output in self.model.outputs]
        if sorted(self.output_names) != sorted(self.config.tasks):
            raise CheckpointError(f'{path}: outputs {self.output_names} do not match the '
                                  f'described tasks {list(self.config.tasks)}')
        if precision == 'int8' and quantised != 'int8':
            raise ValueError(f'{path} is not quantised: precision int8 needs the int8 model '
                             f'that multitask_seg_optimize writes')
        if precision == 'bf16' and 'BF16' not in cpu_capabilities():
            raise ValueError(f'precision bf16 asked for, but this CPU has no bf16 support '
                             f'(capabilities {cpu_capabilities()}); use fp32')
        self.path = path
        self.precision = precision
        self.options = {'INFERENCE_PRECISION_HINT': self._hint(precision),
                        'PERFORMANCE_HINT': 'LATENCY',
                        'CACHE_DIR': str(Path(cache_dir) if cache_dir else
                                         cache_root() / 'openvino-compiled')}
        if num_threads:
            self.options['INFERENCE_NUM_THREADS'] = int(num_threads)
        # The most one-image requests a multi-camera batch runs side by side.
        self._threads = int(num_threads) if num_threads else _usable_cpus()
        self._requests: dict[tuple[int, ...], object] = {}
        self._deployed: dict[tuple[int, ...], object] = {}
        self.keep_memory_max_pixels = keep_memory_max_pixels

    def _hint(self, precision: str) -> str:
        if precision != 'int8':
            return _HINTS[precision]
        # As measured where it was made; f32 (closer to fp32 still) on a CPU without bf16
        # or for a model that does not say.
        stored = (self.model.get_rt_info([FLOAT_PARTS_KEY]).astype(str)
                  if self.model.has_rt_info([FLOAT_PARTS_KEY]) else 'f32')
        return 'bf16' if stored == 'bf16' and 'BF16' in cpu_capabilities() else 'f32'

    def _compile(self, model, what: str, streams: int = 1):
        """Compile ``model``; return one infer request per stream."""
        options = self.options if streams == 1 else {
            **self.options, 'PERFORMANCE_HINT': 'THROUGHPUT', 'NUM_STREAMS': streams}
        try:
            compiled = core().compile_model(model, 'CPU', options)
        except Exception as exc:
            raise CheckpointError(f'{self.path}: OpenVINO cannot compile it for {what} at '
                                  f'{self.precision}: {_first_line(exc)}') from exc
        requests = [compiled.create_infer_request() for _ in range(streams)]
        return requests[0] if streams == 1 else requests

    def streams_for(self, batch: int) -> int:
        """Parallel one-image requests a batch of ``batch`` frames runs as (1: one request)."""
        return max(1, min(batch, self._threads))

    def request(self, shape: tuple[int, ...]):
        """Return the infer request for one input shape, compiling it the first time."""
        if shape not in self._requests:
            model = self.model.clone()
            model.reshape({model.inputs[0]: list(shape)})
            self._requests[shape] = self._compile(model, f'input {list(shape)}')
        return self._requests[shape]

    def predict_full(self, images: np.ndarray, network_size: tuple[int, int] | None,
                     mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
        """
        Run the deploy graph (``openvino_deploy``) on a batch of same-size images.

        :param images: (N, H, W, 3) uint8 RGB.
        :param network_size: (h, w) the network runs at; None: the images' own size.
        :param mean, std: (3,) float32 normalisation in 0-255 pixel terms.
        :return: {task: (N, H, W[, 3]) array}: labels, depth in metres clamped to the
            model's depth_range, unit normals.
        """
        batch, height, width = images.shape[:3]
        size = tuple(network_size or (height, width))
        images = np.ascontiguousarray(images)
        streams = self.streams_for(batch)
        if streams > 1:
            return self._predict_in_streams(images, size, mean, std, streams)
        key = (batch, height, width, *size, 1)
        request = self._deployed_request(key, mean, std)
        outputs = request.infer({0: images})
        self._forget_if_large(self._deployed, key, batch * height * width)
        return {name: outputs[request.model_outputs[i]]
                for i, name in enumerate(self.output_names)}

    def _deployed_request(self, key: tuple[int, ...], mean: np.ndarray, std: np.ndarray):
        # The deploy graph for key = (images per request, image height, width, network
        # height, width, streams), compiled the first time.
        batch, image_size, size, streams = key[0], key[1:3], key[3:5], key[5]
        if key not in self._deployed:
            from .openvino_deploy import deploy_model

            model = self.model.clone()
            model.reshape({model.inputs[0]: [batch, 3, *size]})
            model = deploy_model(model, batch, image_size, size, mean, std,
                                 self.config.tasks, self.info.depth_range)
            what = (f'{batch} image(s) of {image_size[0]}x{image_size[1]}, network at '
                    f'{size[0]}x{size[1]}' + (f', {streams} streams' if streams > 1 else ''))
            self._deployed[key] = self._compile(model, what, streams)
        return self._deployed[key]

    def _predict_in_streams(self, images: np.ndarray, size: tuple[int, ...],
                            mean: np.ndarray, std: np.ndarray,
                            streams: int) -> dict[str, np.ndarray]:
        # One image per request, ``streams`` requests at a time; a last single image
        # takes the latency graph (every thread) instead of one stream's share.
        batch, height, width = images.shape[:3]
        key = (1, height, width, *size, streams)
        requests = self._deployed_request(key, mean, std)
        results: dict[str, np.ndarray] = {}

        def keep(index: int, name: str, out: np.ndarray) -> None:
            # out: (1, ...) of image ``index``, copied into the batch's array.
            if name not in results:
                results[name] = np.empty((batch, *out.shape[1:]), out.dtype)
            results[name][index] = out[0]

        for start in range(0, batch, streams):
            count = min(streams, batch - start)
            if count == 1:
                for name, out in self.predict_full(images[start:start + 1], size, mean,
                                                   std).items():
                    keep(start, name, out)
                continue
            for k in range(count):
                requests[k].start_async({0: images[start + k:start + k + 1]})
            for k in range(count):
                requests[k].wait()
                for i, name in enumerate(self.output_names):
                    keep(start + k, name, requests[k].get_output_tensor(i).data)
        self._forget_if_large(self._deployed, key, streams * height * width)
        return results

    def _forget_if_large(self, compiled: dict, key: tuple[int, ...], pixels: int) -> None:
        # A compiled graph keeps its buffers (intermediate and output tensors) for the next
        # call: for a 4096 x 4096 frame, gigabytes (measured: the node at 455 MB stayed at
        # 2.7 GB; releasing only the intermediate memory left 1.0 GB). A large batch's graph
        # is dropped; the next batch of that shape compiles it again (from the blob cache).
        if self.keep_memory_max_pixels is not None and pixels > self.keep_memory_max_pixels:
            del compiled[key]

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map a (N, 3, h, w) float32 CPU batch to {task: (N, C, h/4, w/4) float32 CPU}."""
        image = np.ascontiguousarray(batch.detach().cpu().numpy(), dtype=np.float32)
        request = self.request(tuple(image.shape))
        outputs = request.infer({0: image})
        self._forget_if_large(self._requests, tuple(image.shape),
                              image.shape[0] * image.shape[2] * image.shape[3])
        # infer() copies the outputs out of the request, so the next call cannot change them.
        return {name: torch.from_numpy(outputs[request.model_outputs[i]])
                for i, name in enumerate(self.output_names)}


def _usable_cpus() -> int:
    # The CPUs this process may run on (a container's or taskset's share), not the host's.
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
