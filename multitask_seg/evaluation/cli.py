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
Command line multitask_seg_eval: accuracy (and, live, speed) of a model on a ROS bag.

    multitask_seg_eval offline BAG [--checkpoint model.pt] [--out eval_output]
    multitask_seg_eval live BAG [--rate 1.0] [--attach]
    multitask_seg_eval recorded BAG --predictions OUTPUTS_BAG

The bag holds camera images (sensor_msgs/Image or CompressedImage) and, optionally,
ground truth on Image topics (labels mono8/mono16, depth 32FC1 metres or 16UC1
millimetres) with the header stamps of their images. Without --checkpoint the bundled
model is used. The report (results.json, summary.md, pictures) goes to --out: accuracy,
and (see robot_metrics) streaming accuracy, temporal stability, accuracy by object size
and calibration.
Exit status: 0 complete; 1 results written but incomplete (see results.json 'counts');
2 nothing evaluated (bad bag, model or options: the message names the file or topic);
130 interrupted.
"""

import argparse
import contextlib
import json
from pathlib import Path
import sys
from typing import Sequence

import numpy as np

from . import report
from .model_and_truth import (check_truth_classes, checkpoint_path, EvaluationError,
                              model_description, open_truth, TruthOptions)
from .predictions import bag_topics, PredictionBag
from .recorded import camera_of, check_overlap, output_topics, score
from .robot_metrics import CONFIDENCE, RobotMetrics
from .scoring import Scorer
from ..checkpoint import CheckpointError
from ..data.bag_reader import BagDataset
from ..data.bag_writer import BagTopics
from ..data.folder_format import DatasetFormatError
from ..inference.engines import ENGINE_NAMES
from ..stopping import GracefulStop

PROG = 'multitask_seg_eval'


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of multitask_seg_eval."""
    topics = BagTopics()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('bag', help='rosbag2 folder, .mcap or .db3 file, or ROS 1 .bag file')
    common.add_argument('--out', type=Path, default=Path('eval_output'),
                        help='folder for results.json, summary.md and the pictures')
    common.add_argument('--checkpoint', help='model file (default: the bundled model)')
    common.add_argument('--image-topic', default=topics.image,
                        help='camera topic, sensor_msgs/Image or CompressedImage')
    common.add_argument('--label-topic', default=topics.segmentation,
                        help="ground-truth class ids, mono8/mono16 Image ('' = none)")
    common.add_argument('--depth-topic', default=topics.depth,
                        help="ground-truth depth, 32FC1/16UC1 Image ('' = none)")
    common.add_argument('--depth-scale', type=float,
                        help='metres per depth unit (default REP 118: 1 for 32FC1, 0.001 for '
                             '16UC1)')
    common.add_argument('--class-map', help='YAML: ground-truth id -> model class name')
    common.add_argument('--label-offset', type=int, default=0,
                        help="added to ground-truth ids: the position of the dataset's first "
                             "class in a joint model's classes")
    common.add_argument('--depth-cap', type=float,
                        help='score depth only where ground truth <= this many metres')
    common.add_argument('--samples', type=int, default=4, help='frames in samples.png')
    common.add_argument('--mark', action='append', default=[], metavar='NAME=MS',
                        help='a latency measured elsewhere (an engine, precision or tier) to '
                             'place on the streaming curve; repeatable')
    common.add_argument('--poses', type=Path,
                        help='JSON {header stamp ns: {"K": 3x3, "pose": 4x4 camera-to-world}} '
                             '(the demo writes one): stability then warps frames by motion')
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[1])
    modes = parser.add_subparsers(dest='mode', required=True)
    offline = modes.add_parser('offline', parents=[common],
                               help='run the inference core on the bag, no ROS')
    offline.add_argument('--batch-size', type=int, default=4)
    offline.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:N]'")
    offline.add_argument('--input-size', default='checkpoint',
                         help="'checkpoint', 'native' or '<height>x<width>'")
    offline.add_argument('--threads', type=int, help='CPU threads (default: all)')
    offline.add_argument('--latency', type=float,
                         help='seconds from a frame to its output, for streaming accuracy '
                              "(default: each batch's time in the inference core)")
    offline.add_argument('--engine', default='auto', choices=ENGINE_NAMES,
                         help='inference engine; auto: OpenVINO, else ONNX Runtime, else '
                              'PyTorch (CUDA: PyTorch) (default: %(default)s)')
    live = modes.add_parser('live', parents=[common],
                            help='replay the bag to the node over DDS; latency, drops, fps')
    live.add_argument('--rate', type=float, default=1.0,
                      help='replay speed relative to the recorded rate')
    live.add_argument('--attach', action='store_true',
                      help='use a node already running (its ROS_DOMAIN_ID and discovery '
                           'settings) instead of starting one')
    live.add_argument('--camera', help='camera name (default: from --image-topic)')
    live.add_argument('--node-name', default='multitask_seg', help='name of the node')
    live.add_argument('--params-file', type=Path,
                      help="node parameters (default: the package's config/params.yaml)")
    live.add_argument('--settle', type=float, default=5.0,
                      help='seconds without output after the last frame before the rest '
                           'count as dropped')
    live.add_argument('--startup-timeout', type=float, default=120.0,
                      help='seconds for the node to come up and answer a first frame')
    live.add_argument('--confidence', action='store_true',
                      help="record the node's segmentation confidence for calibration (the "
                           'node then computes a softmax per frame, in its latency)')
    recorded = modes.add_parser('recorded', parents=[common],
                                help="score a bag of the node's outputs recorded elsewhere")
    recorded.add_argument('--predictions', required=True,
                          help="bag with the node's outputs")
    recorded.add_argument('--camera', help='camera name (default: from --image-topic)')
    recorded.add_argument('--pred-label-topic',
                          help="(default <camera>/segmentation/labels; '' = none)")
    recorded.add_argument('--pred-depth-topic',
                          help="(default <camera>/depth/image; '' = none)")
    return parser


def truth_options(args: argparse.Namespace) -> TruthOptions:
    """Return where the ground truth is, from the common options."""
    return TruthOptions(bag=args.bag, image_topic=args.image_topic,
                        label_topic=args.label_topic, depth_topic=args.depth_topic,
                        depth_scale=args.depth_scale, class_map=args.class_map,
                        label_offset=args.label_offset)


def new_scorer(args: argparse.Namespace, info: object, frames: int) -> Scorer:
    """Return a scorer with the common options."""
    return Scorer(info, frames, depth_cap=args.depth_cap, samples=args.samples,
                  label_offset=args.label_offset)


def new_robot_metrics(args: argparse.Namespace, info: object, truth: BagDataset,
                      **kwargs: object) -> RobotMetrics:
    """Return the streaming, stability, small-object and calibration metrics of a run."""
    return RobotMetrics(info, truth.stamps, label_offset=args.label_offset,
                        depth_cap=args.depth_cap, poses=read_poses(args.poses),
                        marks=parse_marks(args.mark), **kwargs)


def parse_marks(marks: list[str]) -> dict[str, float]:
    """Parse --mark NAME=MS values into {name: seconds}."""
    out = {}
    for mark in marks:
        name, _, ms = mark.rpartition('=')
        try:
            seconds = float(ms) / 1e3
        except ValueError:
            seconds = -1.0
        if not name or not seconds >= 0:
            raise EvaluationError(f'--mark {mark!r}: expected NAME=MILLISECONDS, e.g. '
                                  f'openvino_bf16=28.5')
        out[name] = seconds
    return out


def read_poses(path: Path | None) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """Read --poses: header stamp -> (K (3, 3), camera-to-world (4, 4)); None without."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
        return {int(stamp): (np.asarray(v['K'], np.float64).reshape(3, 3),
                             np.asarray(v['pose'], np.float64).reshape(4, 4))
                for stamp, v in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvaluationError(f'--poses {path}: expected JSON {{stamp: {{"K": 3x3, "pose": '
                              f'4x4}}}}: {exc}') from exc


def with_confidence(bag: str, topics: dict[str, str], camera: str) -> dict[str, str]:
    """Add the node's confidence topic to ``topics`` when the outputs bag has it."""
    topic = f'/{camera.strip("/")}/segmentation/confidence'
    if 'segmentation' in topics and topic in bag_topics(bag):
        return {**topics, CONFIDENCE: topic}
    return topics


def checked_classes(truth: BagDataset, args: argparse.Namespace, classes: list[str]) -> None:
    """Refuse ground-truth ids the model lacks (see ``check_truth_classes``); close on error."""
    try:
        check_truth_classes(truth, truth_options(args), classes)
    except EvaluationError:
        truth.close()
        raise


def inputs(args: argparse.Namespace, checkpoint: Path | None) -> dict:
    """Return the options as they go into results.json."""
    values = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    return {**values, 'checkpoint': str(checkpoint) if checkpoint else 'attached node'}


def run_offline(args: argparse.Namespace) -> report.Evaluation:
    """Evaluate the inference core on the bag."""
    from .offline import evaluate
    from ..inference import Predictor
    from ..input_size import parse_input_size

    try:
        input_size = parse_input_size(args.input_size)
    except ValueError as exc:
        raise EvaluationError(f'--input-size: {exc}') from exc
    checkpoint = checkpoint_path(args.checkpoint)
    predictor = Predictor(checkpoint, device=args.device, input_size=input_size,
                          num_threads=args.threads, engine=args.engine)
    truth = open_truth(truth_options(args), predictor.info.classes)
    checked_classes(truth, args, predictor.info.classes)
    scorer = new_scorer(args, predictor.info, len(truth))
    source = ('--latency' if args.latency is not None else
              f"the inference core's time per batch of {args.batch_size} on {args.device}")
    robot = new_robot_metrics(args, predictor.info, truth, latency_source=source)
    try:
        evaluate(predictor, truth, scorer, args.batch_size, robot, args.latency)
    finally:
        truth.close()
    return report.Evaluation('offline', inputs(args, checkpoint), scorer, robot=robot)


def run_recorded(args: argparse.Namespace) -> report.Evaluation:
    """Score the recorded outputs against the ground truth."""
    checkpoint = checkpoint_path(args.checkpoint)
    info, tasks = model_description(checkpoint)
    truth = open_truth(truth_options(args), info.classes)
    checked_classes(truth, args, info.classes)
    wanted = {'segmentation': (args.label_topic, args.pred_label_topic),
              'depth': (args.depth_topic, args.pred_depth_topic)}
    defaults = output_topics(args.camera or camera_of(args.image_topic), list(tasks))
    topics = {task: defaults.get(task, '') if given is None else given
              for task, (has_truth, given) in wanted.items() if has_truth}
    topics = with_confidence(args.predictions, {t: v for t, v in topics.items() if v},
                             args.camera or camera_of(args.image_topic))
    predictions = PredictionBag(args.predictions, topics, optional=(CONFIDENCE,))
    try:
        check_overlap(truth, args.image_topic, predictions)
        scorer = new_scorer(args, info, len(truth))
        robot = new_robot_metrics(args, info, truth,
                                  latency_source='none: a recorded bag holds no publish times')
        score(truth, predictions, scorer, robot=robot)
    finally:
        predictions.close()
        truth.close()
    return report.Evaluation('recorded', inputs(args, checkpoint), scorer, robot=robot)


def run_live(args: argparse.Namespace) -> report.Evaluation:
    """Replay the bag to the node, then score what it published."""
    from . import live
    from ..ros.dds import local_dds

    checkpoint = None if args.attach else checkpoint_path(args.checkpoint)
    if args.rate <= 0:
        raise EvaluationError(f'--rate must be positive, got {args.rate}')
    described = checkpoint or (Path(args.checkpoint) if args.checkpoint else None)
    if args.class_map and described is None:
        raise EvaluationError('--class-map with --attach needs --checkpoint naming the '
                              "node's model, for its class names")
    # A .pt names its classes without loading the model: refuse foreign labels before the
    # replay where possible.
    early = described is not None and described.suffix == '.pt'
    classes = model_description(described)[0].classes if early or args.class_map else []
    truth = open_truth(truth_options(args), classes if args.class_map else [])
    if early:
        checked_classes(truth, args, classes)
    camera = args.camera or camera_of(args.image_topic)
    options = live.LiveOptions(camera=camera, rate=args.rate, attach=args.attach,
                               node_name=args.node_name, settle=args.settle,
                               startup_timeout=args.startup_timeout,
                               params_file=args.params_file, confidence=args.confidence)
    args.out.mkdir(parents=True, exist_ok=True)
    # A node of our own runs in a DDS domain of this run's own; an attached one is found
    # with the caller's settings.
    with contextlib.nullcontext() if args.attach else local_dds():
        images = BagDataset(args.bag, args.image_topic)
        try:
            replay = live.replay(images, options, checkpoint, args.out)
        finally:
            images.close()
    if replay.info is None:
        truth.close()
        raise EvaluationError(replay.error or 'interrupted before the node answered')
    if not early:
        checked_classes(truth, args, replay.info.classes)
    scorer = new_scorer(args, replay.info, len(truth))
    bag = args.out / 'predictions'
    predictions = PredictionBag(bag, with_confidence(bag, output_topics(camera, replay.tasks),
                                                     camera), optional=(CONFIDENCE,))
    # Bag time is the replay's clock: a frame's truth is current from the moment it was
    # sent; its prediction arrives its latency later.
    sent = np.array([replay.sent.get(s, np.nan) for s in truth.stamps])
    back = sent + np.array([replay.answered.get(s, np.nan) for s in truth.stamps])
    robot = new_robot_metrics(args, replay.info, truth, published=(sent, back),
                              latency_source='live: frame published -> outputs received')
    try:
        score(truth, predictions, scorer, only=set(replay.sent), robot=robot)
    finally:
        predictions.close()
        truth.close()
    scorer.interrupted |= replay.interrupted
    if replay.error:
        scorer.stop(replay.error)
    figures = {'sent': len(replay.sent), 'answered': len(replay.answered),
               'dropped': len(replay.sent) - len(replay.answered), 'seconds': replay.seconds,
               'fps': len(replay.answered) / replay.seconds if replay.answered else 0.0,
               'rate': args.rate, 'tasks': replay.tasks}
    return report.Evaluation('live', inputs(args, checkpoint), scorer,
                             latencies=list(replay.answered.values()), live=figures,
                             robot=robot)


MODES = {'offline': run_offline, 'live': run_live, 'recorded': run_recorded}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docs)."""
    args = build_parser().parse_args(argv)
    # SIGTERM (a supervisor, `timeout`) takes the Ctrl-C path (Stopped is a
    # KeyboardInterrupt), so the node this run started is stopped in its finally blocks
    # instead of being left running.
    try:
        with GracefulStop(graceful=False):
            evaluation = MODES[args.mode](args)
    except (EvaluationError, DatasetFormatError, CheckpointError, FileNotFoundError) as exc:
        print(f'{PROG}: error: {exc}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'{PROG}: interrupted', file=sys.stderr)
        return 130
    data = report.write(evaluation, args.out)
    print((args.out / 'summary.md').read_text())
    print(f'report written to {args.out}')
    if data['stopped_by']:
        print(f'{PROG}: error: {data["stopped_by"]}', file=sys.stderr)
    if data['interrupted']:
        return 130
    return 0 if data['complete'] else 1


if __name__ == '__main__':
    sys.exit(main())
