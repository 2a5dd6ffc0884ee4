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
Read numeric variables from MATLAB .mat files.

Two formats occur in the NYUDv2 distribution: the labelled set is MATLAB v7.3 (an HDF5
file, read with h5py), while `splits.mat` and `classMapping40.mat` are MATLAB v5 files
(read with `scipy.io.loadmat`). Both come back in MATLAB's own shape, e.g. a 1x894 row
vector as a (1, 894) array; non-numeric variables (cells, chars, structs) count as missing.
"""

from typing import Sequence

import h5py
import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError

from .folder_format import DatasetFormatError

# numpy kinds of MATLAB's numeric and logical classes (scipy gives logicals as uint8).
_NUMERIC_KINDS = 'biuf'


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
            found = loadmat(path, variable_names=list(names))
    except (OSError, ValueError, MatReadError) as err:
        raise DatasetFormatError(f'{path}: cannot read MATLAB file ({err})') from err
    found = {n: found[n] for n in names
             if n in found and getattr(found[n], 'dtype', np.dtype('O')).kind in _NUMERIC_KINDS}
    missing = [n for n in names if n not in found]
    if missing:
        raise DatasetFormatError(f'{path}: no numeric variable {missing[0]!r}')
    return found
