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
Read numeric variables from MATLAB .mat files without scipy.

Two formats occur in the NYUDv2 distribution: the labelled set is MATLAB v7.3 (an HDF5
file, read with h5py), while `splits.mat` and `classMapping40.mat` are MATLAB v5 files
(as `scipy.io.loadmat` reads them). Both come back in MATLAB's own shape, e.g. a 1x894 row
vector as a (1, 894) array; non-numeric variables (cells, chars, structs) are skipped.
"""

import struct
from typing import Sequence
import zlib

import h5py
import numpy as np

from .folder_format import DatasetFormatError

_MI_MATRIX = 14
_MI_COMPRESSED = 15
# MAT v5 element type -> numpy dtype (without byte order).
_MI_DTYPES = {1: 'i1', 2: 'u1', 3: 'i2', 4: 'u2', 5: 'i4', 6: 'u4', 7: 'f4', 9: 'f8',
              12: 'i8', 13: 'u8'}
# mxArray classes 6-15 are the numeric ones (double ... uint64).
_NUMERIC_CLASSES = range(6, 16)


def load_numeric(path: str, names: Sequence[str]) -> dict:
    """
    Return {name: array in MATLAB's shape} for the numeric variables `names` of a .mat file.

    :raises DatasetFormatError: the file is missing or unreadable, or lacks a variable.
    """
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, 'r') as f:
                # h5py sees MATLAB's column-major arrays with the axes reversed.
                found = {n: np.asarray(f[n]).T for n in names if n in f}
        else:
            with open(path, 'rb') as f:
                found = _read_v5(f.read(), set(names))
    except (OSError, ValueError, struct.error, zlib.error) as err:
        raise DatasetFormatError(f'{path}: cannot read MATLAB file ({err})') from err
    missing = [n for n in names if n not in found]
    if missing:
        raise DatasetFormatError(f'{path}: no numeric variable {missing[0]!r}')
    return found


def _read_v5(data: bytes, names: set) -> dict:
    if len(data) < 128 or data[126:128] not in (b'IM', b'MI'):
        raise ValueError('not a MATLAB v5 or v7.3 file')
    order = '<' if data[126:128] == b'IM' else '>'
    found = {}
    pos = 128
    while pos + 8 <= len(data):
        kind, payload, pos = _element(data, pos, order)
        if kind == _MI_COMPRESSED:
            kind, payload, _ = _element(zlib.decompress(payload), 0, order)
        if kind == _MI_MATRIX:
            name, array = _matrix(payload, order)
            if name in names and array is not None:
                found[name] = array
    return found


def _element(data: bytes, pos: int, order: str) -> tuple:
    """Return (type, payload bytes, position of the next element) of the element at `pos`."""
    kind, size = struct.unpack_from(order + 'II', data, pos)
    if kind >> 16:
        # Small element: type and size share the first word, data fits the second.
        return kind & 0xFFFF, data[pos + 4:pos + 4 + (kind >> 16)], pos + 8
    end = pos + 8 + size
    if end > len(data):
        raise ValueError('truncated MATLAB element')
    # Compressed elements are not padded; all others end on an 8-byte boundary.
    step = size if kind == _MI_COMPRESSED else (size + 7) // 8 * 8
    return kind, data[pos + 8:end], pos + 8 + step


def _matrix(payload: bytes, order: str) -> tuple:
    """Return (name, array or None when not numeric) of a miMATRIX payload."""
    _, flags, pos = _element(payload, 0, order)
    mx_class = struct.unpack_from(order + 'I', flags)[0] & 0xFF
    dims_type, dims, pos = _element(payload, pos, order)
    _, name, pos = _element(payload, pos, order)
    if mx_class not in _NUMERIC_CLASSES:
        return name.decode('ascii'), None
    shape = np.frombuffer(dims, order + _MI_DTYPES[dims_type])
    kind, real, _ = _element(payload, pos, order)
    values = np.frombuffer(real, order + _MI_DTYPES[kind])
    return name.decode('ascii'), values.reshape(tuple(shape), order='F')
