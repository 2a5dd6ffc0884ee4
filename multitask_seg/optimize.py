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
Make a checkpoint's OpenVINO models and measure what reduced precision costs.

    multitask_seg_optimize --checkpoint m.pt --calibration DATA --output m.openvino

writes ``model.xml`` (fp32 weights; run as fp32 or bf16) and ``model-int8.xml`` (NNCF
post-training quantisation calibrated on DATA), runs every precision and fp32 through the
Predictor on held-out frames of DATA, and stores per precision: labels agreeing with fp32
(%), mIoU change against the ground truth where DATA has labels (points), mean and p99
absolute depth change (m) and the network's median milliseconds, in both models' rt_info
(``precision_gate.FIGURES_KEY``). Precision 'auto' reads them. DATA: a dataset folder, a
bag (``--calibration-kind bag --calibration-option image_topic=...``) or ``synthetic:indoor``
/ ``synthetic:outdoor`` (procedural scenes). Written beside ``m.pt`` as ``m.openvino`` the
Predictor finds it by itself for that checkpoint. NNCF is needed here only.
"""

import argparse
import json
from pathlib import Path
import sys
from typing import Sequence

import numpy as np
import yaml

from .inference import Predictor
from .inference.engines import SOURCE_KEY
from .inference.model_cache import content_hash
from .inference.openvino_backend import core, cpu_capabilities
from .inference.openvino_ir import convert_checkpoint, save_ir
from .inference.precision_gate import FIGURES_KEY, int8_variant
from .inference.preprocess import pixel_statistics, to_network_input
from .metrics import SegmentationMetric
from .stopping import stoppable


def load_frames(source: str, kind: str, options: dict, count: int,
                size: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """
    Return ``count`` (RGB image, labels or None) pairs spread evenly over ``source``.

    :param size: (height, width) of synthetic frames; datasets keep their own size.
    """
    if source.startswith('synthetic:'):
        from .synthetic.render import render_frame

        frames = [render_frame(source.split(':', 1)[1], seed, height=size[0], width=size[1])
                  for seed in range(count)]
        return [(frame.rgb, frame.labels) for frame in frames]
    from .data.registry import open_dataset, READERS, reader_parameters

    if kind not in READERS:
        raise ValueError(f'--calibration-kind: {kind!r} is not one of {sorted(READERS)}')
    first = reader_parameters(READERS[kind])[0][0]
    dataset = open_dataset(kind, **{first: source, **options})
    if len(dataset) < count:
        raise ValueError(f'--calibration {source} has {len(dataset)} frames; {count} needed')
    samples = [dataset[int(i)] for i in np.linspace(0, len(dataset) - 1, count)]
    return [(s.image, s.targets.get('segmentation')) for s in samples]


def measure(models: dict[str, tuple[Path, str]], frames, threads: int | None,
            input_size) -> dict[str, dict[str, float]]:
    """Run each (file, precision) on ``frames``; return figures against the first (fp32)."""
    results = {}
    for name, (path, precision) in models.items():
        predictor = Predictor(path, engine='openvino', precision=precision,
                              num_threads=threads, input_size=input_size)
        predictor.predict([frames[0][0]])  # compile outside the timing
        outputs, times = [], []
        for image, _ in frames:
            timings = {}
            outputs.append(predictor.predict([image], timings)[0])
            times.append(timings['infer'] * 1e3)
        results[name] = (outputs, float(np.median(times)), len(predictor.info.classes))
    reference, _, classes = results['fp32']
    figures = {}
    for name, (outputs, ms, _) in results.items():
        figures[name] = {'ms': round(ms, 2), **compare(reference, outputs, frames, classes)}
    return figures


def compare(reference: list[dict], outputs: list[dict], frames, classes: int) -> dict:
    """Return label agreement, mIoU change and depth differences of ``outputs``."""
    figures = {}
    if classes:
        agree = np.mean([np.mean(a['segmentation'] == b['segmentation'])
                         for a, b in zip(reference, outputs)])
        figures['labels_agree_pct'] = round(float(agree) * 100, 3)
        if all(labels is not None for _, labels in frames):
            mious = []
            for results in (reference, outputs):
                metric = SegmentationMetric(classes)
                for result, (_, labels) in zip(results, frames):
                    metric.update(result['segmentation'], labels)
                mious.append(metric.compute()['miou'])
            figures['miou_change_pct'] = round((mious[1] - mious[0]) * 100, 3)
    if 'depth' in reference[0]:
        diff = np.concatenate([np.abs(a['depth'] - b['depth']).ravel()
                               for a, b in zip(reference, outputs)])
        figures['depth_mean_abs_m'] = round(float(diff.mean()), 5)
        figures['depth_p99_abs_m'] = round(float(np.percentile(diff, 99)), 5)
    return figures


def quantise(fp32: Path, target: Path, images: list[np.ndarray], info,
             input_size) -> Path:
    """Write the NNCF int8 model of the IR ``fp32`` calibrated on ``images``."""
    size = tuple(input_size) if isinstance(input_size, tuple) else (
        tuple(info.input_size) if info.input_size else None)
    mean, std = pixel_statistics(info.mean, info.std)
    batches = [to_network_input([image], size, mean, std).numpy() for image in images]
    return quantise_batches(fp32, target, batches)


def quantise_batches(fp32: Path, target: Path, batches: list[np.ndarray]) -> Path:
    """Write the NNCF int8 model of the IR ``fp32``; ``batches``: normalised NCHW float32."""
    import nncf

    model = core().read_model(str(fp32))
    quantised = nncf.quantize(model, nncf.Dataset(batches), subset_size=len(batches),
                              preset=nncf.QuantizationPreset.MIXED)
    for key in model.get_rt_info().keys():
        quantised.set_rt_info(model.get_rt_info([key]).astype(str), [key])
    quantised.set_rt_info('int8', ['multitask_seg.quantised'])
    return save_ir(quantised, target)


def optimise(checkpoint: Path, output: Path, frames, held_out: int, threads: int | None,
             input_size='checkpoint') -> dict[str, dict[str, float]]:
    """Write ``output``/model.xml and model-int8.xml with their figures; return them."""
    fp32 = convert_checkpoint(checkpoint, output / 'model.xml')
    model = core().read_model(str(fp32))
    model.set_rt_info(content_hash(checkpoint), [SOURCE_KEY])
    save_ir(model, fp32)
    calibration, evaluation = frames[held_out:], frames[:held_out]
    info = Predictor(fp32, engine='openvino').info
    int8 = quantise(fp32, int8_variant(fp32), [image for image, _ in calibration], info,
                    input_size)
    models = {'fp32': (fp32, 'fp32'), 'int8': (int8, 'int8')}
    if 'BF16' in cpu_capabilities():
        models['bf16'] = (fp32, 'bf16')
    figures = measure(models, evaluation, threads, input_size)
    for path in (fp32, int8):
        model = core().read_model(str(path))
        model.set_rt_info(json.dumps(figures), [FIGURES_KEY])
        save_ir(model, path)
    return figures


@stoppable('multitask_seg_optimize')
def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, write the models and their figures; return the exit status."""
    parser = argparse.ArgumentParser(prog='multitask_seg_optimize',
                                     description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', required=True, type=Path, help='a .pt checkpoint')
    parser.add_argument('--calibration', required=True,
                        help='frames: a dataset path, or synthetic:indoor / synthetic:outdoor')
    parser.add_argument('--calibration-kind', default='folder',
                        help='reader of --calibration: folder, bag, nyud_mat, ... '
                             '(default: %(default)s)')
    parser.add_argument('--calibration-option', action='append', default=[],
                        metavar='KEY=VALUE', help='a further reader argument (YAML value)')
    parser.add_argument('--output', required=True, type=Path, help='folder to write')
    parser.add_argument('--frames', type=int, default=50, help='calibration frames')
    parser.add_argument('--held-out', type=int, default=20, help='frames measured on')
    parser.add_argument('--threads', type=int, default=None, help='CPU threads')
    parser.add_argument('--size', default='480x640',
                        help='height x width of synthetic frames (default: %(default)s)')
    args = parser.parse_args(argv)
    options = {}
    for option in args.calibration_option:
        key, _, value = option.partition('=')
        options[key] = yaml.safe_load(value)
    height, width = (int(v) for v in args.size.split('x'))
    try:
        frames = load_frames(args.calibration, args.calibration_kind, options,
                             args.frames + args.held_out, (height, width))
        figures = optimise(args.checkpoint, args.output, frames, args.held_out, args.threads)
    except (OSError, ValueError) as exc:
        print(f'multitask_seg_optimize: {exc}', file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2))
    print(f'wrote {args.output}/model.xml and model-int8.xml')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
