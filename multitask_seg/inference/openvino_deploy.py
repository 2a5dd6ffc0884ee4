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
The deploy graph: camera bytes in, full-resolution answers out, all inside OpenVINO.

Around the network it adds what the Predictor otherwise does in Python, with the same
arithmetic: uint8 RGB (N, H, W, 3) to float, (x - mean) / std in 0-255 terms, bilinear
resize to the network size (half-pixel centres, as torch's align_corners=False), and after
it bilinear upsampling of every output to (H, W), argmax of the logits to uint8 (uint16
past 255 classes) labels, depth clamped to the model's range, normals normalised to unit
length and channels-last. Shapes are fixed per compile.
"""

import numpy as np

_AXES = np.array([2, 3], np.int64)


def _resize(output, size: tuple[int, int]):
    import openvino.opset13 as ops

    return ops.interpolate(output, np.array(size, np.int64), 'linear_onnx', 'sizes',
                           axes=_AXES, coordinate_transformation_mode='half_pixel')


def _resize_one_channel(output, size: tuple[int, int]):
    # (N, 1, h, w) -> (N, H, W). Resized as a 4D tensor, one channel is padded to the
    # CPU plugin's 16-channel block and costs as much as 16 (measured 9.3 ms for depth at
    # 640x480, bf16); as (N, h, w) it runs planar.
    import openvino.opset13 as ops

    flat = ops.squeeze(output, np.array([1], np.int64))
    return ops.interpolate(flat, np.array(size, np.int64), 'linear_onnx', 'sizes',
                           axes=np.array([1, 2], np.int64),
                           coordinate_transformation_mode='half_pixel')


def deploy_model(network, batch: int, image_size: tuple[int, int],
                 network_size: tuple[int, int], mean: np.ndarray, std: np.ndarray,
                 tasks: dict[str, int], depth_range: list[float]):
    """
    Return a new openvino.Model: ``network`` (one NCHW float input) wrapped as above.

    :param mean, std: (3,) float32 normalisation in 0-255 pixel terms.
    :return: Input 'image' (batch, H, W, 3) uint8; outputs named after the tasks:
        'segmentation' (batch, H, W) class ids, 'depth' (batch, H, W) float32 metres,
        'normals' (batch, H, W, 3) float32.
    """
    import openvino as ov
    import openvino.opset13 as ops

    network = network.clone()
    image = ops.parameter([batch, *image_size, 3], ov.Type.u8, name='image')
    x = ops.transpose(ops.convert(image, ov.Type.f32), np.array([0, 3, 1, 2], np.int64))
    x = ops.subtract(x, mean.reshape(1, 3, 1, 1).astype(np.float32))
    x = ops.divide(x, std.reshape(1, 3, 1, 1).astype(np.float32))
    if tuple(network_size) != tuple(image_size):
        x = _resize(x, network_size)
    (old,) = network.get_parameters()
    for target in list(old.output(0).get_target_inputs()):
        target.replace_source_output(x.output(0))
    results = []
    for task, result in zip(tasks, network.get_results()):
        out = result.input_value(0)
        # A network that already answers at the image's size (ESPNet, or any model run at
        # its input size with full-resolution outputs) skips the resize: with half-pixel
        # centres a same-size bilinear resize is the identity, yet it costs a pass over the
        # output (7.6 of 62 ms for ESPNet at 640x480, bf16).
        shape = out.get_partial_shape()
        same_size = shape.is_static and tuple(shape.to_shape())[2:] == tuple(image_size)
        if task == 'depth':
            out = ops.squeeze(out, np.array([1], np.int64)) if same_size else \
                _resize_one_channel(out, image_size)
            out = ops.clamp(out, *depth_range)
        else:
            if not same_size:
                out = _resize(out, image_size)
            if task == 'segmentation':
                ids = ops.topk(out, np.int64(1), 1, 'max', 'none', ov.Type.i32).output(1)
                ids = ops.squeeze(ids, np.array([1], np.int64))
                out = ops.convert(ids, ov.Type.u8 if tasks[task] <= 255 else ov.Type.u16)
            else:
                out = ops.normalize_l2(out, np.array([1], np.int64), 1e-12, 'max')
                out = ops.transpose(out, np.array([0, 2, 3, 1], np.int64))
        out.output(0).get_tensor().set_names({task})
        results.append(ops.result(out))
    return ov.Model(results, [image], 'multitask_seg_deploy')
