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

"""What every mode opens first: the model's description and the ground-truth bag."""

from dataclasses import dataclass
from pathlib import Path

from ..bundled import default_checkpoint
from ..checkpoint import ModelInfo, read_checkpoint
from ..data.bag_reader import BagDataset


class EvaluationError(Exception):
    """Nothing could be evaluated; the message says why."""


@dataclass(frozen=True)
class TruthOptions:
    """
    Where the ground truth is in a bag and how to read it.

    :ivar bag: rosbag2 folder, .mcap or .db3 file, or ROS 1 .bag file.
    :ivar image_topic: sensor_msgs/Image or CompressedImage topic of the camera.
    :ivar label_topic: mono8/mono16 class-id Image topic; '' = no segmentation truth.
    :ivar depth_topic: 32FC1/16UC1 depth Image topic; '' = no depth truth.
    :ivar depth_scale: metres per depth unit; None = REP 118 (1 for 32FC1, 0.001 for 16UC1).
    :ivar class_map: YAML file of source id -> model class name; None = ids as they are.
    :ivar label_offset: added to ground-truth ids (a domain's first class in a joint model).
    """

    bag: str
    image_topic: str
    label_topic: str = ''
    depth_topic: str = ''
    depth_scale: float | None = None
    class_map: str | None = None
    label_offset: int = 0


def checkpoint_path(path: str | None) -> Path:
    """Return ``path``, or the bundled model when None (FileNotFoundError if absent)."""
    return Path(path) if path else default_checkpoint()


def model_description(path: Path) -> tuple[ModelInfo, dict[str, int]]:
    """Return a checkpoint's ModelInfo and its tasks (name -> channels) without its weights."""
    payload = read_checkpoint(path)
    return payload['info'], dict(payload['model'].tasks)


def open_truth(options: TruthOptions, classes: list[str]) -> BagDataset:
    """
    Open the ground-truth bag; a class map names classes of ``classes`` (the model's).

    :raises DatasetFormatError: naming the bag and topic: missing, wrong type, empty, or
        no ground truth with the stamp of an image.
    """
    if options.class_map and options.label_offset:
        raise EvaluationError('give --class-map or --label-offset, not both')
    return BagDataset(options.bag, options.image_topic, options.label_topic or None,
                      options.depth_topic or None, depth_scale=options.depth_scale,
                      class_map=options.class_map,
                      classes=classes if options.class_map else None)
