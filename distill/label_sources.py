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

"""Where the labeller's images come from: any dataset reader, or a plain folder of images."""

from pathlib import Path

from multitask_seg.data.folder_dataset import FolderDataset
from multitask_seg.data.folder_format import DatasetFormatError, IMAGE_DIR, read_png
from multitask_seg.data.registry import open_dataset, reader_parameters, READERS
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


class FolderSource:
    """Images of a dataset folder, and which annotations each already has."""

    def __init__(self, root: Path) -> None:
        self.dataset = FolderDataset(str(root))
        self.names = self.dataset.names
        self.root = root

    def has(self, index: int, task: str) -> bool:
        """Return whether sample ``index`` has ground truth for ``task``."""
        return self.dataset.has(index, task)

    def image(self, index: int) -> np.ndarray:
        """Return sample ``index``'s (H, W, 3) uint8 RGB image."""
        return read_png(str(self.root / IMAGE_DIR / f'{self.names[index]}.png'), ('RGB',),
                        'image')


class ImageFolderSource:
    """Every PNG or JPEG in a folder (not recursive); none has ground truth."""

    def __init__(self, root: Path) -> None:
        self.files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise DatasetFormatError(f'{root}: no images/ folder and no .png/.jpg images')
        self.names = [p.stem for p in self.files]
        if len(set(self.names)) != len(self.names):
            raise DatasetFormatError(f'{root}: two images share a name stem')

    def has(self, index: int, task: str) -> bool:
        """Plain images carry no annotations."""
        return False

    def image(self, index: int) -> np.ndarray:
        """Return image ``index`` as (H, W, 3) uint8 RGB (grey and RGBA are converted)."""
        path = self.files[index]
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert('RGB'))
        except (UnidentifiedImageError, OSError) as exc:
            raise DatasetFormatError(f'{path}: not a readable image: {exc}') from exc


class ReaderSource:
    """Images of any reader of ``data.registry`` (NYUD, KITTI, bag topics, ...)."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.names = list(reader.names)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample ``index`` has ground truth for ``task``."""
        return self.reader.has(index, task)

    def image(self, index: int) -> np.ndarray:
        """Return sample ``index``'s (H, W, 3) uint8 RGB image."""
        return self.reader[index].image


def open_source(root: Path, kind: str = 'auto', options: dict | None = None):
    """
    Open the labeller's input.

    :param root: the input path: for 'auto', a dataset folder (it has images/) or else a
        plain folder of images; for a registry kind, the reader's first required argument
        (the .mat file, the bag, the dataset root...).
    :param kind: 'auto' or a kind of ``data.registry`` ('folder', 'nyud_mat', 'bag', ...).
    :param options: further constructor arguments of that reader.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f'input {root} does not exist')
    if kind != 'auto':
        required, _ = reader_parameters(READERS[kind]) if kind in READERS else ([], [])
        first = required[0] if required else 'root'
        return ReaderSource(open_dataset(kind, **{first: str(root), **(options or {})}))
    if options:
        raise ValueError('--input-option needs --input-kind')
    if (root / IMAGE_DIR).is_dir():
        return FolderSource(root)
    return ImageFolderSource(root)
