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
from ..data.folder_format import IGNORE_LABEL

# Where the shipped class maps are, relative to the package's share or source folder.
CLASS_MAPS = 'config/class_maps'


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


def check_truth_classes(truth: BagDataset, options: TruthOptions, classes: list[str]) -> None:
    """
    Refuse ground truth with class ids that the model does not have (unless a map is given).

    Such pixels would otherwise drop out of the scores without a word, and the rest would be
    scored under the model's names for those ids.

    :param classes: the model's class names, id order.
    :raises EvaluationError: naming the ids, the model's id range and the fix.
    """
    if options.class_map or not options.label_topic or not classes:
        return
    foreign = sorted(i for i in truth.label_ids() if i != IGNORE_LABEL
                     and not 0 <= i + options.label_offset < len(classes))
    if not foreign:
        return
    shown = ', '.join(map(str, foreign[:20])) + (', ...' if len(foreign) > 20 else '')
    shift = f' after --label-offset {options.label_offset}' if options.label_offset else ''
    raise EvaluationError(
        f'{options.bag}: {options.label_topic!r} holds class ids {shown}{shift}, which the '
        f'model does not have (its {len(classes)} classes are ids 0-{len(classes) - 1}: '
        f'{", ".join(classes)}; {IGNORE_LABEL} = ignore). The labels are in another label '
        f'space: give --class-map FILE mapping its ids to these class names ({CLASS_MAPS}/ '
        f'ships NYUv2-40, KITTI-6 and Cityscapes-19 maps for the bundled model), or '
        "--label-offset N if they are a block of the model's classes")
