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
Recorded mode: score a bag of the node's outputs against a ground-truth bag, by stamp.

Live mode records the node's outputs into such a bag and scores it here too.
"""

from tqdm import tqdm

from .predictions import PredictionBag
from .robot_metrics import RobotMetrics
from .scoring import Scorer
from ..data.bag_reader import BagDataset, BagFrame
from ..data.folder_format import DatasetFormatError


def output_topics(camera: str, tasks: list[str]) -> dict[str, str]:
    """Return the node's output topic of each task for camera ``camera``."""
    names = {'segmentation': 'segmentation/labels', 'depth': 'depth/image'}
    prefix = '/' + camera.strip('/')
    return {task: f'{prefix}/{names[task]}' for task in tasks if task in names}


def camera_of(image_topic: str) -> str:
    """Return the camera name of an image topic: '/front/image_raw/compressed' -> 'front'."""
    for suffix in ('/image_raw/compressed', '/image_raw', '/compressed'):
        if image_topic.endswith(suffix):
            return image_topic[:-len(suffix)].strip('/')
    return image_topic.rsplit('/', 1)[0].strip('/')


def score(truth: BagDataset, predictions: PredictionBag, scorer: Scorer,
          only: set[int] | None = None, robot: RobotMetrics | None = None) -> None:
    """
    Score every ground-truth frame against the outputs with its header stamp.

    With ``only``, frames whose stamp is not in it are skipped (counted as not seen): live
    mode scores just the frames it sent.

    Frames without an output on every prediction topic count as missing. A frame whose
    output cannot be decoded counts as failed; an unreadable ground-truth bag stops the
    run (the scorer records why), Ctrl-C too (the scorer records that it was interrupted).
    ``robot`` gets every frame scored, and the truth of those without outputs.
    """
    try:
        with tqdm(total=len(truth), unit='frame', desc='scoring') as bar:
            for frame in truth.frames():
                if only is None or frame.stamp_ns in only:
                    score_frame(frame, predictions, scorer, robot)
                bar.update()
    except DatasetFormatError as exc:
        scorer.stop(str(exc))
    except KeyboardInterrupt:
        scorer.interrupted = True


def score_frame(frame: BagFrame, predictions: PredictionBag, scorer: Scorer,
                robot: RobotMetrics | None = None) -> None:
    """Score one ground-truth frame: missing without outputs, failed if they are unreadable."""
    prediction = None
    if frame.stamp_ns not in predictions.stamps:
        scorer.miss()
    else:
        try:
            prediction = predictions.get(frame.stamp_ns)
        except DatasetFormatError as exc:
            scorer.fail(frame.index, str(exc))
        else:
            # The image is decoded only if the picture grid keeps this frame.
            scorer.add(frame.index, lambda: frame.image, frame.targets, prediction)
    if robot is not None:
        robot.add(frame.index, frame.targets, prediction)


def check_overlap(truth: BagDataset, image_topic: str, predictions: PredictionBag) -> None:
    """Raise DatasetFormatError naming both bags and their topics when no stamp is in both."""
    if not set(truth.stamps) & predictions.stamps:
        topics = ', '.join(repr(t) for t in predictions.topics.values())
        raise DatasetFormatError(
            f'no header stamp of {image_topic!r} in {truth.path} has outputs on {topics} in '
            f'{predictions.path}')
