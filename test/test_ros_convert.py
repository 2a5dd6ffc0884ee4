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

"""Message <-> numpy conversions: every input encoding, bad frames, outputs, camera info."""

import io
import struct
import sys
import zlib

from multitask_seg.ros.convert import (color_message, depth_message, FrameError, labels_message,
                                       rgb_from_compressed, rgb_from_image, scaled_camera_info)
from multitask_seg.tasks import valid_depth
import numpy as np
from PIL import Image as PilImage
import pytest
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

RGB = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)


def raw(pixels: np.ndarray, encoding: str, padding: int = 0) -> Image:
    rows = pixels.reshape(pixels.shape[0], -1)
    rows = np.pad(rows, ((0, 0), (0, padding)), constant_values=77)
    return Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
                 step=rows.shape[1], data=rows.tobytes())


@pytest.mark.parametrize('padding', [0, 3])
@pytest.mark.parametrize('encoding, pixels', [
    ('rgb8', RGB),
    ('bgr8', RGB[..., ::-1]),
    ('rgba8', np.dstack([RGB, np.full(RGB.shape[:2], 9, np.uint8)])),
    ('bgra8', np.dstack([RGB[..., ::-1], np.full(RGB.shape[:2], 9, np.uint8)])),
])
def test_colour_encodings_give_rgb(encoding, pixels, padding):
    out = rgb_from_image(raw(pixels, encoding, padding), 10**6)
    np.testing.assert_array_equal(out, RGB)
    assert out.flags.c_contiguous and out.flags.writeable


def test_mono8_is_replicated_to_three_channels():
    grey = RGB[..., 0]
    out = rgb_from_image(raw(grey[..., None], 'mono8', padding=2), 10**6)
    np.testing.assert_array_equal(out, np.repeat(grey[..., None], 3, axis=2))


@pytest.mark.parametrize('change, reason', [
    ({'encoding': '16UC1'}, 'unsupported encoding'),
    ({'step': 20}, 'shorter than a row'),
    ({'data': bytes(10)}, 'data has 10 bytes'),
    ({'height': 0, 'width': 0, 'step': 0, 'data': b''}, 'empty image'),
    ({'height': 8000, 'width': 8000, 'step': 24000}, 'larger than max_pixels'),
])
def test_malformed_images_raise_frame_error(change, reason):
    msg = raw(RGB, 'rgb8')
    for key, value in change.items():
        setattr(msg, key, value)
    with pytest.raises(FrameError, match=reason):
        rgb_from_image(msg, 4096 * 4096)


def test_full_size_oversized_image_is_rejected_before_conversion():
    msg = Image(height=8000, width=8000, encoding='mono8', step=8000, data=bytes(64_000_000))
    with pytest.raises(FrameError, match='8000x8000 is larger'):
        rgb_from_image(msg, 4096 * 4096)


def encode(pixels: np.ndarray, fmt: str) -> CompressedImage:
    buffer = io.BytesIO()
    PilImage.fromarray(pixels).save(buffer, format=fmt)
    return CompressedImage(format=fmt.lower(), data=buffer.getvalue())


def test_png_decodes_exactly():
    np.testing.assert_array_equal(rgb_from_compressed(encode(RGB, 'PNG'), 10**6), RGB)


def test_jpeg_decodes_close_and_accepts_image_transport_format():
    smooth = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    msg = encode(smooth, 'JPEG')
    msg.format = 'bgr8; jpeg compressed bgr8'
    out = rgb_from_compressed(msg, 10**6)
    assert out.shape == (16, 16, 3)
    assert np.abs(out.astype(int) - smooth).max() <= 3


@pytest.mark.parametrize('msg, reason', [
    (CompressedImage(format='tiff', data=b'II*\x00'), 'unsupported compressed format'),
    (CompressedImage(format='png', data=b'not a png'), 'neither JPEG nor PNG'),
    (encode(np.zeros((4, 4), np.uint16), 'PNG'), 'pixel mode'),
    (encode(np.zeros((30, 30, 3), np.uint8), 'PNG'), 'larger than max_pixels'),
])
def test_bad_compressed_images_raise_frame_error(msg, reason):
    with pytest.raises(FrameError, match=reason):
        rgb_from_compressed(msg, 800)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack('>I', len(data)) + kind + data + struct.pack(
        '>I', zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """Return a grey PNG whose header claims width x height, with one row of data."""
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr)
            + png_chunk(b'IDAT', zlib.compress(bytes(width + 1))) + png_chunk(b'IEND', b''))


@pytest.mark.parametrize('fmt, data, reason', [
    ('jpeg', b'', 'no data'),
    ('png', b'\x00\x01garbage', 'neither JPEG nor PNG'),
    ('jpeg', encode(RGB, 'JPEG').data[:10], 'truncated or corrupt JPEG header'),
    ('png', encode(RGB, 'PNG').data[:-30], 'truncated or corrupt PNG data'),
    ('16UC1; compressedDepth', encode(RGB, 'PNG').data, 'compressed depth image'),
    ('16UC1; compressedDepth png', encode(RGB, 'PNG').data, 'compressed depth image'),
    ('16UC1; compressedDepth rvl', b'\x00' * 16, 'compressed depth image'),
])
def test_compressed_faults_are_named(fmt, data, reason):
    with pytest.raises(FrameError, match=reason) as caught:
        rgb_from_compressed(CompressedImage(format=fmt, data=data), 10**6)
    assert 'BytesIO' not in str(caught.value)


def test_empty_format_is_sniffed():
    png, jpeg = encode(RGB, 'PNG'), encode(RGB, 'JPEG')
    png.format = jpeg.format = ''
    np.testing.assert_array_equal(rgb_from_compressed(png, 10**6), RGB)
    reference = np.array(PilImage.open(io.BytesIO(bytes(jpeg.data))).convert('RGB'))
    np.testing.assert_array_equal(rgb_from_compressed(jpeg, 10**6), reference)


def test_huge_png_is_refused_by_max_pixels_before_pillow_bomb_check():
    data = png_header_only(20000, 20000)
    # The premise: Pillow's own open refuses it as a decompression bomb.
    with pytest.raises(PilImage.DecompressionBombError):
        PilImage.open(io.BytesIO(data))
    with pytest.raises(FrameError, match='20000x20000 is larger than max_pixels=16777216'):
        rgb_from_compressed(CompressedImage(format='png', data=data), 4096 * 4096)


def test_labels_mono8_and_mono16():
    header = Header(frame_id='cam')
    small = labels_message(np.array([[1, 2]], np.uint8), header)
    assert (small.encoding, small.step, bytes(small.data)) == ('mono8', 2, b'\x01\x02')
    large = labels_message(np.array([[300, 2]], np.uint16), header)
    assert (large.encoding, large.step) == ('mono16', 4)
    assert np.frombuffer(large.data, np.uint16).tolist() == [300, 2]
    assert small.header is header


def test_depth_out_of_range_is_invalid_in_both_encodings():
    depth = valid_depth(np.array([[0.1, 0.5, 2.0, 10.0]], np.float32), (0.1, 10.0))
    metres = depth_message(depth, Header(), '32FC1')
    values = np.frombuffer(metres.data, np.float32)
    assert metres.encoding == '32FC1' and metres.step == 16
    np.testing.assert_array_equal(np.isnan(values), [True, False, False, True])
    assert values[1:3].tolist() == [0.5, 2.0]
    millimetres = depth_message(depth, Header(), '16UC1')
    assert millimetres.encoding == '16UC1'
    assert np.frombuffer(millimetres.data, np.uint16).tolist() == [0, 500, 2000, 0]
    with pytest.raises(ValueError, match='depth encoding'):
        depth_message(depth, Header(), '8UC1')


def test_color_message_is_rgb8():
    msg = color_message(RGB, Header())
    assert (msg.encoding, msg.step, msg.height, msg.width) == ('rgb8', 21, 5, 7)
    assert bytes(msg.data) == RGB.tobytes()


def camera_info(width: int, height: int) -> CameraInfo:
    return CameraInfo(width=width, height=height, distortion_model='plumb_bob',
                      d=[0.1, 0.0, 0.0, 0.0, 0.0],
                      k=[500.0, 0.0, 320.0, 0.0, 400.0, 240.0, 0.0, 0.0, 1.0],
                      p=[500.0, 0.0, 320.0, -25.0, 0.0, 400.0, 240.0, 0.0, 0.0, 0.0, 1.0, 0.0])


def test_camera_info_same_size_is_copied_with_the_image_header():
    header = Header(frame_id='optical')
    out = scaled_camera_info(camera_info(640, 480), 480, 640, header)
    assert out.header is header
    assert list(out.k) == list(camera_info(640, 480).k)


def test_camera_info_is_scaled_to_the_output_size():
    out = scaled_camera_info(camera_info(1280, 960), 480, 640, Header())
    assert (out.width, out.height) == (640, 480)
    np.testing.assert_allclose(out.k, [250, 0, 160, 0, 200, 120, 0, 0, 1])
    np.testing.assert_allclose(out.p, [250, 0, 160, -12.5, 0, 200, 120, 0, 0, 0, 1, 0])
    assert list(out.d) == [0.1, 0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize('calibrated, image', [((1280, 720), (960, 1280)),
                                               ((640, 480), (360, 640))])
def test_camera_info_of_another_aspect_ratio_is_refused(calibrated, image):
    with pytest.raises(ValueError, match=f'calibrated for {calibrated[0]}x{calibrated[1]}'):
        scaled_camera_info(camera_info(*calibrated), *image, Header())


def test_camera_info_tolerates_rounded_resize():
    # image_proc's resize rounds sizes: 1280x720 at a third is 427x240.
    out = scaled_camera_info(camera_info(1280, 720), 240, 427, Header())
    assert (out.width, out.height) == (427, 240)


def test_bayer_goes_through_cv_bridge_when_installed(monkeypatch):
    calls = []

    class FakeBridge:
        """Stands in for ROS's cv_bridge, which PyPI does not carry."""

        def imgmsg_to_cv2(self, msg, desired_encoding):
            calls.append((msg.encoding, desired_encoding))
            return np.full((msg.height, msg.width, 3), 5, np.uint8)

    module = type(sys)('cv_bridge')
    module.CvBridge = FakeBridge
    monkeypatch.setitem(sys.modules, 'cv_bridge', module)
    msg = Image(height=4, width=6, encoding='bayer_rggb8', step=6, data=bytes(24))
    assert rgb_from_image(msg, 10**6).shape == (4, 6, 3)
    assert calls == [('bayer_rggb8', 'rgb8')]


def test_bayer_without_cv_bridge_is_a_clear_frame_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'cv_bridge', None)  # import fails as when absent
    msg = Image(height=4, width=6, encoding='yuv422', step=12, data=bytes(48))
    with pytest.raises(FrameError, match="'yuv422' needs cv_bridge"):
        rgb_from_image(msg, 10**6)
