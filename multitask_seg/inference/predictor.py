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
The inference core: numpy RGB images in, label and depth arrays out. No ROS here.

The ROS node, the bag evaluator, the teacher labeller and the trainer's validation all call
``Predictor``.
"""

from pathlib import Path
import time
from typing import Sequence

import numpy as np
import torch

from .engines import choose_engine, open_backend
from .network_backend import NetworkBackend
from .precision_gate import Gate, resolve_precision
from .preprocess import check_image, pixel_statistics, to_network_input
from ..checkpoint import ModelInfo
from ..frame_limits import DEFAULT_MAX_PIXELS, KEEP_MEMORY_MAX_PIXELS
from ..input_size import network_size
from ..model import MultiTaskNet
from ..tasks import TASKS


class Predictor:
    """
    Predict every task of a model for a batch of RGB images.

    :param model_path: a .pt checkpoint, an .onnx export of one, or a .yaml describing a
        foreign ONNX model (see ``external_onnx``).
    :param device: 'cpu' or 'cuda[:N]'.
    :param precision: 'fp32', 'fp16' (CUDA, torch), 'bf16', 'int8' (OpenVINO, a model from
        ``multitask_seg_optimize``) or 'auto': the fastest precision whose measured figures,
        stored in the model, pass ``gate``; fp32 for a model without figures.
    :param engine: 'auto' (see ``engines.choose_engine``), 'torch', 'onnxruntime' or
        'openvino'; a .pt checkpoint is converted once for the latter two.
    :param channels_last: NHWC layout for the PyTorch backend.
    :param input_size: 'checkpoint' resizes to the size the model was trained at (or runs at
        the image's size if the checkpoint names none); 'native' runs at each image's
        own size; (height, width) resizes to that size.
    :param num_threads: CPU threads for inference (None: the library default).
    :param max_pixels: larger images are rejected with ValueError rather than exhausting RAM.
    :param gate: the accuracy limits of precision 'auto' (default: >= 99 % labels agreeing
        with fp32, <= 3 cm mean depth change).
    :param keep_memory_max_pixels: OpenVINO keeps a compiled graph's working memory for
        the next call only for batches of at most this many pixels (N x H x W); larger ones
        give it back (a 4096 x 4096 frame's is gigabytes). None: always keep it.
    """

    def __init__(self, model_path: str | Path, *, device: str = 'cpu', precision: str = 'fp32',
                 channels_last: bool = True,
                 input_size: str | tuple[int, int] = 'checkpoint',
                 num_threads: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, engine: str = 'auto',
                 gate: Gate = Gate(),
                 keep_memory_max_pixels: int | None = KEEP_MEMORY_MAX_PIXELS) -> None:
        if num_threads:
            torch.set_num_threads(num_threads)
        self.engine = choose_engine(engine, device, model_path)
        self.precision = resolve_precision(precision, self.engine, model_path, gate,
                                           num_threads, input_size)
        self._attach(open_backend(model_path, self.engine, device, self.precision,
                                  channels_last, num_threads, keep_memory_max_pixels),
                     input_size, max_pixels)

    @classmethod
    def from_network(cls, model: MultiTaskNet, info: ModelInfo, *, device: str | None = None,
                     precision: str = 'fp32', channels_last: bool = True,
                     input_size: str | tuple[int, int] = 'checkpoint',
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> 'Predictor':
        """
        Predict with a network in memory (one being trained), as a checkpoint of it would.

        The predictor runs a copy of the network's current weights (see ``NetworkBackend``),
        on the torch engine, as the node's torch engine runs their checkpoint; the network
        itself is left as it is (training mode included). ``info`` is the description its
        checkpoint would carry.

        :param device: default: where the network's weights are.
        :param precision, channels_last, input_size, max_pixels: as for the constructor.
        """
        if device is None:
            device = str(next(model.parameters()).device)
        predictor = cls.__new__(cls)
        predictor.engine, predictor.precision = 'torch', precision
        predictor._attach(NetworkBackend(model, info, device, precision, channels_last),
                          input_size, max_pixels)
        return predictor

    def _attach(self, backend, input_size: str | tuple[int, int], max_pixels: int) -> None:
        self.backend = backend
        self.info = self.backend.info
        self.tasks = dict(self.backend.config.tasks)
        self.max_pixels = max_pixels
        self.network_size = network_size(input_size, self.info)
        self._mean, self._std = pixel_statistics(self.info.mean, self.info.std)

    def predict(self, images: Sequence[np.ndarray], timings: dict[str, float] | None = None,
                confidence: bool = False) -> list[dict[str, np.ndarray]]:
        """
        Run every task on each image, in as few forward passes as sizes allow.

        :param images: (H, W, 3) uint8 RGB arrays; sizes may differ.
        :param timings: if given, receives seconds spent in 'preprocess', 'infer' and
            'postprocess' (summed over forward passes).
        :param confidence: also return 'segmentation_confidence', the (H, W) float32
            softmax probability of each pixel's predicted class (of the logits divided by
            the checkpoint's temperature).
        :return: One dict per image, at that image's resolution, each task post-processed
            by its rule in ``multitask_seg.tasks``: 'segmentation' (H, W) uint8 class ids
            (uint16 past 255 classes), 'depth' (H, W) float32 metres clipped to the
            checkpoint's depth_range, 'normals' (H, W, 3) float32 unit vectors.
        """
        for image in images:
            check_image(image, self.max_pixels)
        if hasattr(self.backend, 'predict_full') and not confidence:
            return self._predict_deployed(images, timings)
        times = {'preprocess': 0.0, 'infer': 0.0, 'postprocess': 0.0}
        results: list[dict[str, np.ndarray] | None] = [None] * len(images)
        for indices in self._groups(images):
            t0 = time.perf_counter()
            batch = to_network_input([images[i] for i in indices], self.network_size,
                                     self._mean, self._std)
            t1 = time.perf_counter()
            outputs = self.backend(batch)
            t2 = time.perf_counter()
            for k, i in enumerate(indices):
                size = images[i].shape[:2]
                results[i] = {}
                for name, out in outputs.items():
                    results[i].update(TASKS[name].finish(out[k:k + 1], size, self.info,
                                                         confidence))
            t3 = time.perf_counter()
            times['preprocess'] += t1 - t0
            times['infer'] += t2 - t1
            times['postprocess'] += t3 - t2
        if timings is not None:
            timings.update(times)
        return results

    def _predict_deployed(self, images: Sequence[np.ndarray],
                          timings: dict[str, float] | None) -> list[dict[str, np.ndarray]]:
        # The engine runs normalisation, resizing and post-processing inside its graph
        # (one compiled shape per image size); only batching by size is left here. Groups
        # of different sizes run one after another, each with every thread: run side by
        # side (a one-image request per graph, one thread each, unpinned) a 640x480 and a
        # 1280x720 frame took 29.1 ms against 24.9 one after another with the bundled
        # model, 80 against 74 with the network at 640x480 (bf16, 2 cores): the larger
        # frame's longer tail runs alone on one core. Pinned streams were slower still.
        results: list[dict[str, np.ndarray] | None] = [None] * len(images)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(image.shape[:2], []).append(i)
        start = time.perf_counter()
        mean, std = self._mean.flatten().numpy(), self._std.flatten().numpy()
        for indices in groups.values():
            batch = np.stack([images[i] for i in indices])
            outputs = self.backend.predict_full(batch, self.network_size, mean, std)
            for k, i in enumerate(indices):
                results[i] = {name: out[k] for name, out in outputs.items()}
        if timings is not None:
            timings.update(preprocess=0.0, infer=time.perf_counter() - start, postprocess=0.0)
        return results

    def predict_one(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Predict for a single (H, W, 3) uint8 image; see ``predict``."""
        return self.predict([image])[0]

    def _groups(self, images: Sequence[np.ndarray]) -> list[list[int]]:
        # One forward pass per distinct network input size.
        groups: dict[tuple[int, int], list[int]] = {}
        for i, image in enumerate(images):
            key = self.network_size or image.shape[:2]
            groups.setdefault(tuple(key), []).append(i)
        return list(groups.values())
