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
Fit the segmentation temperature on a validation bag and store it in a checkpoint.

    python -m multitask_seg.evaluation.calibrate BAG --checkpoint model.pt --out calibrated.pt

The model runs on the bag's images as the inference core does (same resize and
normalisation, logits resized to each image); up to ``--pixels`` labelled pixels per frame,
drawn at random, feed ``fit_temperature``. The output checkpoint is the input with
``info.temperature`` set (and the fit recorded in its provenance): the labels it gives are
the same, its confidence is calibrated. Use a validation bag, never the test bag.
"""

import argparse
from pathlib import Path
import sys
from typing import Sequence

import numpy as np
import torch

from .model_and_truth import EvaluationError, open_truth, TruthOptions
from .temperature import fit_temperature
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..data.bag_writer import BagTopics
from ..data.folder_format import DatasetFormatError
from ..inference import Predictor
from ..inference.preprocess import pixel_statistics, to_network_input, upsample
from ..tasks import IGNORE_LABEL


def sample_logits(predictor: Predictor, frames, pixels: int, offset: int,
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return (N, C) logits and (N,) model class ids of labelled pixels of ``frames``.

    :param frames: BagFrame iterator with segmentation ground truth.
    :param pixels: at most this many pixels per frame, drawn at random.
    :param offset: added to ground-truth ids (see the evaluator's --label-offset).
    """
    rng = np.random.default_rng(seed)
    mean, std = pixel_statistics(predictor.info.mean, predictor.info.std)
    logits, labels = [], []
    for frame in frames:
        truth = frame.sample.targets.get('segmentation')
        if truth is None:
            continue
        image = frame.sample.image
        batch = to_network_input([image], predictor.network_size, mean, std)
        with torch.no_grad():
            scores = upsample(predictor.backend(batch)['segmentation'].float(),
                              image.shape[:2])[0]
        ids = truth.astype(np.int64).ravel()
        valid = np.flatnonzero(ids != IGNORE_LABEL)
        chosen = rng.choice(valid, min(pixels, valid.size), replace=False)
        logits.append(scores.flatten(1)[:, torch.from_numpy(chosen)].T)
        labels.append(torch.from_numpy(ids[chosen] + offset))
    if not logits:
        raise DatasetFormatError('no frame of the bag has segmentation ground truth')
    return torch.cat(logits), torch.cat(labels)


def nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    """Return the mean negative log-likelihood of ``labels`` under softmax(logits / T)."""
    keep = (labels >= 0) & (labels < logits.shape[1])
    return float(torch.nn.functional.cross_entropy(logits[keep].double() / temperature,
                                                   labels[keep]))


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    topics = BagTopics()
    parser = argparse.ArgumentParser(prog='python -m multitask_seg.evaluation.calibrate',
                                     description=__doc__.split('\n')[1])
    parser.add_argument('bag', help='validation bag: images and segmentation ground truth')
    parser.add_argument('--checkpoint', required=True, help='.pt model to calibrate')
    parser.add_argument('--out', required=True, type=Path, help='calibrated .pt to write')
    parser.add_argument('--image-topic', default=topics.image)
    parser.add_argument('--label-topic', default=topics.segmentation)
    parser.add_argument('--class-map', help='YAML: ground-truth id -> model class name')
    parser.add_argument('--label-offset', type=int, default=0)
    parser.add_argument('--pixels', type=int, default=4096, help='pixels drawn per frame')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Fit and store the temperature; return 0, or 2 with a message naming what is wrong."""
    args = build_parser().parse_args(argv)
    try:
        predictor = Predictor(args.checkpoint)
        options = TruthOptions(bag=args.bag, image_topic=args.image_topic,
                               label_topic=args.label_topic, class_map=args.class_map,
                               label_offset=args.label_offset)
        truth = open_truth(options, predictor.info.classes)
        try:
            logits, labels = sample_logits(predictor, truth.frames(), args.pixels,
                                           args.label_offset)
        finally:
            truth.close()
        temperature = fit_temperature(logits, labels)
        model, info, extra = load_checkpoint(args.checkpoint)
    except (CheckpointError, DatasetFormatError, EvaluationError, FileNotFoundError,
            ValueError) as exc:
        print(f'calibrate: error: {exc}', file=sys.stderr)
        return 2
    before, after = nll(logits, labels, 1.0), nll(logits, labels, temperature)
    info.temperature = temperature
    info.provenance = {**info.provenance, 'temperature_fit': {
        'bag': str(args.bag), 'pixels': int(labels.numel()), 'nll_before': before,
        'nll_after': after, 'from_checkpoint': str(args.checkpoint)}}
    save_checkpoint(args.out, model, info, extra)
    print(f'temperature {temperature:.3f} from {labels.numel()} pixels (NLL {before:.4f} -> '
          f'{after:.4f}); written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
