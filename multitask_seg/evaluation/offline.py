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
Offline mode: the inference core on a bag's images, in batches, without ROS.

Each prediction is scored as the node would publish it (every task's published rule in
``multitask_seg.tasks``: depth at the ends of the model's range is invalid and left out,
see ``depth.coverage``), so offline, live, recorded and the trainer's validation agree.
"""

import time

from tqdm import tqdm

from .robot_metrics import RobotMetrics
from .scoring import Scorer
from ..data.bag_reader import BagDataset
from ..data.folder_dataset import Sample
from ..data.folder_format import DatasetFormatError
from ..inference import Predictor
from ..tasks import TASKS


def predict_batch(predictor: Predictor, batch: list[tuple[int, Sample]], scorer: Scorer,
                  robot: RobotMetrics | None = None, latency: float | None = None) -> None:
    """
    Predict (frame index, sample) pairs and score each; a rejected batch fails them all.

    ``robot`` also gets each frame, with the segmentation confidence, and as its latency
    ``latency`` if given, else the batch's time in the inference core (a frame's output
    is ready when its batch is).
    """
    start = time.perf_counter()
    try:
        predictions = predictor.predict([sample.image for _, sample in batch],
                                        confidence=robot is not None)
    except ValueError as exc:
        for index, sample in batch:
            scorer.fail(index, str(exc))
            if robot is not None:
                robot.add(index, sample.targets, None)
        return
    seconds = time.perf_counter() - start if latency is None else latency
    for (index, sample), prediction in zip(batch, predictions):
        prediction = {task: TASKS[task].published(value, predictor.info) if task in TASKS
                      else value for task, value in prediction.items()}
        scorer.add(index, sample.image, sample.targets, prediction)
        if robot is not None:
            robot.add(index, sample.targets, prediction, seconds)


def evaluate(predictor: Predictor, truth: BagDataset, scorer: Scorer, batch_size: int,
             robot: RobotMetrics | None = None, latency: float | None = None) -> None:
    """
    Score every frame of ``truth``; the scorer records an early stop or Ctrl-C.

    Frames already read when the bag turns out unreadable are still scored. ``robot``
    and ``latency``: see ``predict_batch``.
    """
    batch: list[tuple[int, Sample]] = []
    with tqdm(total=len(truth), unit='frame', desc='offline') as bar:
        try:
            for frame in truth.frames():
                # Decoded as read, so a bad frame stops the run after the frames before it.
                batch.append((frame.index, frame.sample))
                if len(batch) == batch_size:
                    predict_batch(predictor, batch, scorer, robot, latency)
                    bar.update(len(batch))
                    batch = []
        except DatasetFormatError as exc:
            scorer.stop(str(exc))
        except KeyboardInterrupt:
            scorer.interrupted = True
            return
        if batch:
            predict_batch(predictor, batch, scorer, robot, latency)
            bar.update(len(batch))
