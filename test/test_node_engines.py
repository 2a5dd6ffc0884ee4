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

"""Each inference engine forced by the node's parameter, over real DDS."""

import numpy as np
import pytest
from test_node_pubsub import constant_checkpoint, DEPTH, frame, LABEL, start  # noqa: F401


@pytest.mark.parametrize('engine', ['torch', 'onnxruntime', 'openvino'])
def test_the_engine_parameter_picks_the_engine(start, engine):  # noqa: F811
    node, probe = start(engine=engine, precision='fp32')
    assert node._predictor.engine == engine
    probe.image_pubs['cam'].publish(frame(node))
    (_, labels), = probe.wait_for('cam/segmentation/labels', 1, 60)
    (_, depth), = probe.wait_for('cam/depth/image', 1, 60)
    # The constant model answers the same on every engine: class 3 and 2.5 m everywhere.
    assert set(np.frombuffer(labels.data, np.uint8)) == {LABEL}
    np.testing.assert_allclose(np.frombuffer(depth.data, np.float32), DEPTH, rtol=1e-5)
    inference = node.stats.report(0.1)[0]
    shown = {value.key: value.value for value in inference.values}
    assert (shown['engine'], shown['precision'], shown['input size']) == (engine, 'fp32',
                                                                          '64x80')
