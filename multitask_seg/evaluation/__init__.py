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
Evaluate a model on ROS bags: offline through the inference core, live through the node.

Three modes share one scorer (``scoring``), the metrics of ``multitask_seg.metrics`` and
one report (``report``, ``plots``): ``offline`` runs ``Predictor`` on a bag's images,
``live`` replays the bag to a running node and records what it publishes, ``recorded``
scores a bag of node outputs recorded elsewhere. ``cli.main`` is multitask_seg_eval.
"""
