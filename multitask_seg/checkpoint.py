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
Self-describing checkpoints: one format for every model this package writes or reads.

A checkpoint is a plain dict of strings, numbers, lists and tensors, so it loads with
``torch.load(weights_only=True)`` and nothing in it can execute code:

    format, version   marker and schema version
    model             ModelConfig as a dict (encoder, tasks, decoder settings)
    info              ModelInfo as a dict (classes, colours, normalisation, input size,
                      depth units and valid range, provenance)
    state_dict        the network's weights
    extra             optional training state (optimisers, schedulers, epoch, RNG) for resume
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
import pickle
import re
import subprocess
from typing import Any

import dacite
import torch

from .atomic import atomic_path
from .model import build_model, ModelConfig, MultiTaskNet

FORMAT = 'multitask_seg.checkpoint'
VERSION = 1
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the reason."""


@dataclass
class ModelInfo:
    """
    What a user of the network needs besides its weights.

    :ivar classes: segmentation class names, index = class id (255 is reserved for ignore).
    :ivar colors: one [r, g, b] (0-255) per class, for colourised label images.
    :ivar mean, std: per-channel normalisation of RGB images scaled to [0, 1].
    :ivar input_size: [height, width] the network was trained at, to which inference resizes
        by default; None means it runs at each image's own size.
    :ivar depth_units: unit of the depth output ('m').
    :ivar depth_range: [min, max] depth in depth_units that the training data covered;
        predictions outside it are reported invalid.
    :ivar provenance: free-form record of how the weights were made (training config, data,
        teacher checkpoint and hash, git commit, time).
    :ivar temperature: segmentation logits are divided by it before the softmax of the
        confidence (temperature scaling, fitted on validation data); labels do not change.
    """

    classes: list[str] = field(default_factory=list)
    colors: list[list[int]] = field(default_factory=list)
    mean: list[float] = field(default_factory=lambda: list(IMAGENET_MEAN))
    std: list[float] = field(default_factory=lambda: list(IMAGENET_STD))
    input_size: list[int] | None = None
    depth_units: str = 'm'
    depth_range: list[float] = field(default_factory=lambda: [0.0, 80.0])
    provenance: dict[str, Any] = field(default_factory=dict)
    temperature: float = 1.0

    def check(self, config: ModelConfig) -> None:
        """Raise ValueError when the info contradicts the architecture."""
        n = config.tasks.get('segmentation')
        if n is not None and (len(self.classes) != n or len(self.colors) != n):
            raise ValueError(f'{n} segmentation classes but {len(self.classes)} names and '
                             f'{len(self.colors)} colours')
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError('mean and std need 3 values each')
        if self.input_size is not None and (len(self.input_size) != 2
                                            or min(self.input_size) < 1):
            raise ValueError(f'input_size must be [height, width], got {self.input_size}')
        if not 0 < self.temperature < float('inf'):
            raise ValueError(f'temperature must be positive and finite, got {self.temperature}')


def default_info(config: ModelConfig, **kwargs: Any) -> ModelInfo:
    """Return ModelInfo with placeholder class names and a fixed palette for ``config``."""
    n = config.tasks.get('segmentation', 0)
    generator = torch.Generator().manual_seed(0)
    palette = torch.randint(0, 256, (n, 3), generator=generator).tolist()
    kwargs.setdefault('classes', [f'class_{i}' for i in range(n)])
    kwargs.setdefault('colors', palette)
    return ModelInfo(**kwargs)


def git_commit() -> str:
    """Return the package's git commit, or 'unknown' outside a checkout."""
    try:
        return subprocess.run(
            ['git', 'rev-parse', 'HEAD'], cwd=Path(__file__).parent, capture_output=True,
            text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


def save_checkpoint(path: str | Path, model: MultiTaskNet, info: ModelInfo,
                    extra: dict[str, Any] | None = None, half: bool = False) -> Path:
    """
    Write a checkpoint atomically: a reader sees the old file or the new one, never half.

    :param path: destination file (parent folders are created).
    :param model: the network; its config is stored beside the weights.
    :param info: classes, normalisation, depth contract and provenance (the git commit and
        the time are added unless given).
    :param extra: training state for resuming (tensors and plain data only).
    :param half: store floating-point weights as float16, half the file size; loading
        casts them back to the model's float32.
    """
    info.check(model.config)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    described = asdict(info)
    described['provenance'] = {'git_commit': git_commit(),
                               'saved': datetime.now(timezone.utc).isoformat(timespec='seconds'),
                               **info.provenance}
    payload = {'format': FORMAT, 'version': VERSION, 'model': asdict(model.config),
               'info': described, 'state_dict': state, 'extra': extra or {}}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_error(path: Path, exc: Exception) -> CheckpointError:
    """
    Say why torch.load(weights_only=True) refused ``path``, in this package's terms.

    torch's own text advises re-running with weights_only=False or allow-listing globals,
    which would run code from an untrusted file; that advice is left out.
    """
    text = str(exc)
    detail = text.partition('WeightsUnpickler error:')[2].partition('Check the documentation')[0]
    detail = ' '.join(detail.split())
    if isinstance(exc, pickle.UnpicklingError) and detail.startswith('Unsupported operand'):
        return CheckpointError(f'{path} is not a torch file (neither a zip archive nor a '
                               f'pickle that torch.save writes)')
    if isinstance(exc, pickle.UnpicklingError) and detail:
        found = re.search(r'GLOBAL (\S+)', detail)
        what = f' ({found[1]})' if found else ''
        return CheckpointError(
            f'checkpoint {path} holds a Python object{what} besides tensors and plain data; '
            f'checkpoints load with weights_only=True, which never runs code from the file, '
            f'so it is refused')
    if 'zip archive' in text:
        return CheckpointError(f'checkpoint {path} is truncated or corrupt (not a complete '
                               f'zip archive)')
    first = text.strip().splitlines()[0] if text.strip() else ''
    return CheckpointError(f'checkpoint {path} is truncated, corrupt or not a torch file '
                           f'({type(exc).__name__}: {first})')


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """
    Load and validate a checkpoint's payload without building the network.

    Returns the payload with 'model' as ModelConfig and 'info' as ModelInfo.
    Raises FileNotFoundError or CheckpointError, each naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    try:
        payload = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # truncation and foreign pickles raise many types
        raise load_error(path, exc) from exc
    if not isinstance(payload, dict) or payload.get('format') != FORMAT:
        raise CheckpointError(f'{path} is not a multitask_seg checkpoint (no {FORMAT!r} '
                              f'marker; a bare state dict needs its model description)')
    if payload.get('version') != VERSION:
        raise CheckpointError(f'checkpoint {path} has format version '
                              f'{payload.get("version")}, this package reads {VERSION}')
    strict = dacite.Config(strict=True)
    try:
        payload['model'] = dacite.from_dict(ModelConfig, payload['model'], config=strict)
        payload['model'].validate()
        payload['info'] = dacite.from_dict(ModelInfo, payload['info'], config=strict)
        payload['info'].check(payload['model'])
    except (KeyError, ValueError, dacite.DaciteError) as exc:
        raise CheckpointError(f'checkpoint {path} has an invalid description: {exc}') from exc
    return payload


def load_checkpoint(path: str | Path) -> tuple[MultiTaskNet, ModelInfo, dict[str, Any]]:
    """
    Build the network a checkpoint describes and load its weights (on the CPU, eval mode).

    Returns (model, info, extra). Raises CheckpointError naming the file when the weights
    do not fit the described architecture.
    """
    payload = read_checkpoint(path)
    model = build_model(payload['model'])
    try:
        model.load_state_dict(payload['state_dict'], strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[:3]
        raise CheckpointError(f'checkpoint {path}: weights do not match the architecture '
                              f'it describes: {" ".join(first)}') from exc
    return model.eval(), payload['info'], payload['extra']
