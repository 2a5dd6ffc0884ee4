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

writes ``model.xml`` (fp32 weights; run as fp32 or bf16) and ``model-int8.xml`` (NNCF int8
calibrated on DATA, with the operations whose quantisation the gate cannot afford kept
in float: see ``quantise``), runs every precision and fp32 through the Predictor on
held-out frames of DATA, and stores per precision: labels agreeing with fp32 (%), mIoU
change against the ground truth where DATA has labels (points), mean and p99 absolute
depth change (m) and the network's median milliseconds, in both models' rt_info
(``precision_gate.FIGURES_KEY``). Precision 'auto' reads them.

DATA is split three ways, never overlapping: the first ``--held-out`` frames are measured
on, the next ``--validation`` frames steer which layers stay in float, the rest calibrate.
Every frame is used at each network input size of ``--input-sizes`` (the checkpoint's
training size, where the node runs it by default, and the frames' own size); the figures
stored are the worst over those sizes, each size's under ``by_size``. DATA: a dataset
folder, a bag (``--calibration-kind bag --calibration-option image_topic=...``) or
``synthetic:indoor`` / ``synthetic:outdoor`` (procedural scenes). Written beside ``m.pt``
as ``m.openvino`` the Predictor finds it by itself for that checkpoint. NNCF is needed
here only.

With ``--qat-steps N`` the int8 model comes from quantisation-aware training instead
(``qat``): the quantised network is fine-tuned N steps on the calibration frames to
answer as fp32 does, resumably, and measured on the held-out frames like the rest.
"""

import argparse
import json
from pathlib import Path
import sys
from typing import Sequence

import numpy as np
from tqdm import tqdm
import yaml

from .checkpoint import read_checkpoint
from .inference import Predictor
from .inference.engines import SOURCE_KEY
from .inference.model_cache import content_hash
from .inference.openvino_backend import core, cpu_capabilities
from .inference.openvino_ir import convert_checkpoint, save_ir
from .inference.precision_gate import FIGURES_KEY, Gate, int8_variant
from .inference.preprocess import pixel_statistics, to_network_input
from .input_size import network_size, parse_input_size
from .metrics import SegmentationMetric
from .qat import QatSettings
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
            input_sizes: Sequence) -> dict[str, dict]:
    """
    Run each (file, precision) on ``frames`` at each input size; return figures against fp32.

    Per precision: the worst of each figure over the sizes ('ms' is the first size's), and
    every size's own figures under 'by_size'.
    """
    by_size = {}
    for input_size in input_sizes:
        label, figures = measure_at(models, frames, threads, input_size)
        by_size[label] = figures
    worst = {}
    for name in models:
        sizes = [figures[name] for figures in by_size.values()]
        combined = {'ms': sizes[0]['ms']}
        for key in sizes[0]:
            if key != 'ms':
                values = [size[key] for size in sizes]
                combined[key] = min(values) if key in HIGHER_IS_BETTER else max(values)
        worst[name] = {**combined, 'by_size': {label: figures[name]
                                               for label, figures in by_size.items()}}
    return worst


# Figures where a smaller value is the worse one; for the rest a larger one is.
HIGHER_IS_BETTER = ('labels_agree_pct', 'miou_change_pct')


def measure_at(models: dict[str, tuple[Path, str]], frames, threads: int | None,
               input_size) -> tuple[str, dict[str, dict[str, float]]]:
    """Return (the size's name, {precision: figures against fp32}) at one input size."""
    results, label = {}, None
    for name, (path, precision) in models.items():
        predictor = Predictor(path, engine='openvino', precision=precision,
                              num_threads=threads, input_size=input_size)
        size = predictor.network_size
        label = f'{size[0]}x{size[1]}' if size else 'native'
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
    return label, figures


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


def network_batches(images: list[np.ndarray], info, input_sizes: Sequence) -> list[np.ndarray]:
    """Return each of ``images`` as normalised NCHW float32 batches at every input size."""
    mean, std = pixel_statistics(info.mean, info.std)
    sizes = [network_size(size, info) for size in input_sizes]
    # Image by image, so any first few items (NNCF ranks on a subset) hold every size.
    return [to_network_input([image], size, mean, std).numpy()
            for image in images for size in sizes]


def optimise(checkpoint: Path, output: Path, frames, held_out: int, threads: int | None,
             input_sizes: Sequence = ('checkpoint', 'native'), validation: int = 0,
             gate: Gate = Gate(), margin: float | None = 0.3, qat=None,
             on_step=None) -> dict[str, dict]:
    """
    Write ``output``/model.xml and model-int8.xml with their figures; return them.

    ``frames``: held-out frames first, then ``validation`` frames, then calibration ones.
    ``margin``: None quantises every operation it can (plain NNCF); a number keeps in
    float what the gate needs on the validation frames (``quantise.quantise_to_gate``).
    ``qat``: ``qat.QatSettings`` to fine-tune the quantised network on the calibration
    frames instead (state in ``output``/qat-state.pt; ``on_step(step, loss)`` after each
    step); None: post-training quantisation.
    """
    from .quantise import quantise_batches, quantise_to_gate

    fp32 = convert_checkpoint(checkpoint, output / 'model.xml')
    model = core().read_model(str(fp32))
    model.set_rt_info(content_hash(checkpoint), [SOURCE_KEY])
    save_ir(model, fp32)
    evaluation = frames[:held_out]
    steering = frames[held_out:held_out + validation]
    calibration = frames[held_out + validation:]
    info = Predictor(fp32, engine='openvino').info
    images = [image for image, _ in calibration]
    float_parts = 'bf16' if 'BF16' in cpu_capabilities() else 'f32'
    if qat is not None:
        from .qat import export_int8, fine_tune

        student = fine_tune(checkpoint, images, qat, output / 'qat-state.pt', on_step)
        int8 = export_int8(student, fp32, int8_variant(fp32), float_parts)
    elif margin is None or not steering:
        int8 = quantise_batches(fp32, int8_variant(fp32),
                                network_batches(images, info, input_sizes))
    else:
        int8 = quantise_to_gate(
            fp32, int8_variant(fp32), network_batches(images, info, input_sizes),
            network_batches([image for image, _ in steering], info, input_sizes), gate,
            margin, info.depth_range, float_parts, threads)
    models = {'fp32': (fp32, 'fp32'), 'int8': (int8, 'int8')}
    if 'BF16' in cpu_capabilities():
        models['bf16'] = (fp32, 'bf16')
    figures = measure(models, evaluation, threads, input_sizes)
    for path in (fp32, int8):
        model = core().read_model(str(path))
        model.set_rt_info(json.dumps(figures), [FIGURES_KEY])
        save_ir(model, path)
    return figures


def qat_settings(args: argparse.Namespace):
    """Return the QatSettings ``--qat-*`` ask for, or None for post-training int8."""
    if args.qat_steps < 0:
        raise ValueError(f'--qat-steps must be >= 0, got {args.qat_steps}')
    if not args.qat_steps:
        return None
    if args.validation:
        raise ValueError('--qat-steps and --validation both choose how int8 is made: '
                         'give one')
    info = read_checkpoint(args.checkpoint)['info']
    sizes = []
    for size in parse_input_sizes(args.qat_sizes):
        resolved = network_size(size, info) if size != 'native' else None
        if resolved is None:
            raise ValueError(f'--qat-sizes: {size!r} names no fixed size for '
                             f'{args.checkpoint}; give HxW')
        sizes.append(tuple(resolved))
    return QatSettings(steps=args.qat_steps, lr=args.qat_lr, sizes=tuple(sizes))


def parse_input_sizes(text: str) -> list:
    """Parse 'checkpoint,native,240x320' into Predictor input sizes."""
    try:
        return [parse_input_size(part.strip()) for part in text.split(',')]
    except ValueError as exc:
        raise ValueError(f'--input-sizes: {exc}') from None


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
    # Steering is opt-in: NNCF's accuracy control ranks every quantised operation again
    # after a few reverts; on the bundled model (115 operations, 10 frames at 160x120 and
    # 640x480) 45 minutes took it from 1.53 to 1.24 of the 0.7 asked.
    parser.add_argument('--validation', type=int, default=0,
                        help='frames that steer which layers int8 keeps in float (default: '
                             '%(default)s, plain int8; 10 is a start)')
    # 0.3: bf16 itself keeps 0.44 of the slack on the bundled model at 640x480 (99.44 %
    # labels, 1.2 cm), and running the float parts in bf16 costs int8 about 0.2 more.
    parser.add_argument('--margin', type=float, default=0.3,
                        help="share of the gate's slack int8 must keep on the validation "
                             'frames: 0 = on the gate, 1 = as fp32 (default: %(default)s)')
    parser.add_argument('--input-sizes', default='checkpoint,native',
                        help='network input sizes to calibrate and measure at, comma-'
                             "separated: 'checkpoint', 'native' (the frames' own) or HxW "
                             '(default: %(default)s)')
    parser.add_argument('--min-labels-agree', type=float, default=Gate.min_labels_agree_pct,
                        help='the gate int8 aims at: least labels agreeing with fp32 (%%)')
    parser.add_argument('--max-depth-change', type=float, default=Gate.max_depth_mean_abs_m,
                        help='the gate int8 aims at: largest mean depth change (m)')
    parser.add_argument('--qat-steps', type=int, default=0,
                        help='fine-tune the int8 network this many steps on the calibration '
                             'frames (quantisation-aware training, self-distilled from fp32; '
                             'resumable) instead of post-training quantisation (default: '
                             '%(default)s, post-training)')
    parser.add_argument('--qat-lr', type=float, default=QatSettings.lr,
                        help='QAT learning rate (Adam; default: %(default)s)')
    parser.add_argument('--qat-sizes', default='checkpoint',
                        help='network input sizes QAT trains at, one per step in turn, comma-'
                             "separated: 'checkpoint' or HxW (default: %(default)s)")
    parser.add_argument('--threads', type=int, default=None, help='CPU threads')
    parser.add_argument('--size', default='480x640',
                        help='height x width of synthetic frames (default: %(default)s)')
    args = parser.parse_args(argv)
    options = {}
    for option in args.calibration_option:
        key, _, value = option.partition('=')
        options[key] = yaml.safe_load(value)
    height, width = (int(v) for v in args.size.split('x'))
    gate = Gate(args.min_labels_agree, args.max_depth_change)
    try:
        if not 0 <= args.margin <= 1:
            raise ValueError(f'--margin must be between 0 and 1, got {args.margin}')
        sizes = parse_input_sizes(args.input_sizes)
        qat = qat_settings(args)
        frames = load_frames(args.calibration, args.calibration_kind, options,
                             args.frames + args.validation + args.held_out, (height, width))
        with tqdm(total=qat.steps if qat else 0, unit='step', desc='QAT',
                  disable=qat is None) as bar:
            def on_step(step: int, loss: float) -> None:
                bar.n = step
                bar.set_postfix(loss=f'{loss:.4f}', refresh=True)

            figures = optimise(args.checkpoint, args.output, frames, args.held_out,
                               args.threads, sizes, args.validation, gate, args.margin, qat,
                               on_step)
    except (OSError, ValueError) as exc:
        print(f'multitask_seg_optimize: {exc}', file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2))
    print(f'wrote {args.output}/model.xml and model-int8.xml')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
