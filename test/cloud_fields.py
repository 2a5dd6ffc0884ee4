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
Decode a PointCloud2 from the fields it declares, as any subscriber must (test helper).

Nothing here comes from multitask_seg.ros.cloud: names, offsets, types, counts and byte
order are read from the message, types mapped through the sensor_msgs PointField constants.
"""

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField

NUMPY_TYPES = {PointField.INT8: 'i1', PointField.UINT8: 'u1', PointField.INT16: 'i2',
               PointField.UINT16: 'u2', PointField.INT32: 'i4', PointField.UINT32: 'u4',
               PointField.FLOAT32: 'f4', PointField.FLOAT64: 'f8'}


def read_cloud(msg: PointCloud2) -> np.ndarray:
    """Return the (height, width) structured array the message's field list describes."""
    order = '>' if msg.is_bigendian else '<'
    dtypes = []
    for field in msg.fields:
        assert field.datatype in NUMPY_TYPES, f'{field.name}: datatype {field.datatype}'
        assert field.count >= 1, f'{field.name}: count {field.count}'
        dtypes.append(np.dtype((order + NUMPY_TYPES[field.datatype], (field.count,)))
                      if field.count > 1 else np.dtype(order + NUMPY_TYPES[field.datatype]))
    # Fields must not overlap and must fit in one point.
    spans = sorted((f.offset, f.offset + d.itemsize) for f, d in zip(msg.fields, dtypes))
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:])), spans
    assert spans[-1][1] <= msg.point_step, (spans, msg.point_step)
    assert msg.row_step == msg.point_step * msg.width
    assert len(msg.data) == msg.row_step * msg.height
    dtype = np.dtype({'names': [f.name for f in msg.fields], 'formats': dtypes,
                      'offsets': [f.offset for f in msg.fields], 'itemsize': msg.point_step})
    return np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width)
