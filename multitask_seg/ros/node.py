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
The multitask_seg node: semantic segmentation and metric depth for every camera.

Per camera ``<c>`` (names from parameter ``cameras``) it reads ``<c>/image_raw`` (or
``<c>/image_raw/compressed``) and ``<c>/camera_info``, and writes, each with the input
image's header:

    <c>/segmentation/labels   mono8 class ids (mono16 past 255 classes)
    <c>/segmentation/color    rgb8 class colours, optionally blended over the image
    <c>/depth/image           32FC1 metres (NaN invalid) or 16UC1 millimetres (0 invalid)
    <c>/depth/camera_info     the camera info, scaled to the output size if it differs
    <c>/points                organised PointCloud2: x y z rgb label (see cloud.py)

Colour images and clouds are computed only while someone subscribes. Class names and
colours are the read-only parameters ``class_names`` and ``class_colors`` (flattened
r, g, b) and a JSON std_msgs/String on the transient-local topic ``~/class_info``.
Statistics go to /diagnostics.

Subscription callbacks only store the newest frame per camera; one worker thread converts
every waiting frame, runs them through the model in one batch and publishes the results.
"""

from dataclasses import dataclass, replace
import json
import sys
import threading
import time
from typing import Any, Callable, Hashable

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
import rclpy
from rclpy.exceptions import InvalidParameterTypeException
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import String

from .cloud import cloud_message, cloud_points
from .colorize import colorize, palette_lut
from .convert import (color_message, depth_message, FrameError, labels_message,
                      rgb_from_compressed, rgb_from_image, scaled_camera_info, valid_depth)
from .diagnostics import NodeStats
from .params import PARAMETERS, parse_settings, Settings
from .worker import BatchWorker, LatestFrames
from ..inference import Predictor
from ..inference.precision_gate import Gate

NODE_NAME = 'multitask_seg'
RELIABILITY = {'sensor_data': ReliabilityPolicy.BEST_EFFORT,
               'best_effort': ReliabilityPolicy.BEST_EFFORT,
               'reliable': ReliabilityPolicy.RELIABLE}
# Repeated errors of one kind and camera are logged at most this often (seconds).
LOG_PERIOD = 2.0


def describe_engine(predictor: Predictor) -> dict[str, str]:
    """Return what the predictor runs: engine, precision and network input size."""
    size = predictor.network_size
    return {'engine': getattr(predictor, 'engine', 'custom'),
            'precision': getattr(predictor, 'precision', 'unknown'),
            'input size': f'{size[0]}x{size[1]}' if size else 'native'}


def qos_profile(name: str, depth: int) -> QoSProfile:
    """Return a keep-last volatile QoS with the reliability that ``name`` stands for."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=RELIABILITY[name], durability=DurabilityPolicy.VOLATILE)


@dataclass
class Frame:
    """An input message and when it arrived (time.monotonic seconds)."""

    msg: Image | CompressedImage
    received: float


@dataclass
class Outputs:
    """One camera's publishers; None for a task the model does not have."""

    labels: Any
    color: Any
    depth: Any
    info: Any
    points: Any


class SegmentationNode(LifecycleNode):
    """
    Segmentation and depth for every camera, from one batched model.

    A lifecycle node: configure loads the model and creates the publishers, activate
    subscribes and starts the worker thread, deactivate and cleanup undo them. Unless
    parameter ``managed`` is true it goes through configure and activate by itself.

    :param predictor_factory: builds the inference core from (checkpoint, **options);
        tests pass a slow or instrumented one.
    :param **kwargs: passed to rclpy's Node (context, parameter_overrides, namespace...).

    :raises: ValueError: a parameter is invalid, or (unmanaged) the model cannot be loaded.
    """

    def __init__(self, *, predictor_factory: Callable[..., Predictor] = Predictor,
                 node_name: str = NODE_NAME, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._predictor_factory = predictor_factory
        self._predictor: Predictor | None = None
        self._outputs: dict[str, Outputs] = {}
        self._infos: dict[str, CameraInfo] = {}
        self._inputs: list[Any] = []
        self._worker: BatchWorker | None = None
        self._frames = LatestFrames()
        self._timer = None
        self._class_pub = None
        self._diag_pub = None
        self._lut: np.ndarray | None = None
        self._log_lock = threading.Lock()
        self._log_state: dict[Hashable, tuple[float, int]] = {}
        self._error = ''
        try:
            self.settings = self._declare_parameters()
            self.stats = NodeStats(self.settings.cameras, self.get_name(),
                                   self.settings.device)
            self.add_on_set_parameters_callback(self._on_set_parameters)
            if not self.settings.managed:
                for transition in (self.trigger_configure, self.trigger_activate):
                    if transition() != TransitionCallbackReturn.SUCCESS:
                        raise ValueError(self._error or 'start-up failed')
        except BaseException:
            self.destroy_node()
            raise

    # Parameters.

    def _declare_parameters(self) -> Settings:
        values = {}
        for name, spec in PARAMETERS.items():
            descriptor = ParameterDescriptor(description=spec.description,
                                             read_only=spec.read_only,
                                             dynamic_typing=spec.any_type)
            try:
                values[name] = self.declare_parameter(name, spec.default, descriptor).value
            except InvalidParameterTypeException as exc:
                raise ValueError(f'parameter {name}: wrong type: {exc}') from exc
        if not isinstance(values['cameras'], list):
            return parse_settings(values)
        for camera in values['cameras']:
            name = f'{camera}.transport'
            descriptor = ParameterDescriptor(description=f'input transport of {camera}',
                                             read_only=True)
            values[name] = self.declare_parameter(name, values['transport'], descriptor).value
        return parse_settings(values)

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        changes = {p.name: p.value for p in parameters if p.name in PARAMETERS}
        if not changes:
            return SetParametersResult(successful=True)
        current = {name: self.get_parameter(name).value for name in PARAMETERS}
        current.update({f'{c}.transport': t for c, t in self.settings.transports.items()})
        try:
            checked = parse_settings({**current, **changes})
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.settings = replace(self.settings, **{
            name: getattr(checked, name) for name in changes})
        return SetParametersResult(successful=True)

    # Lifecycle.

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the model; create the publishers and the class parameters."""
        settings = self.settings
        try:
            self._predictor = self._predictor_factory(
                settings.checkpoint, device=settings.device, precision=settings.precision,
                input_size=settings.input_size, num_threads=settings.num_threads or None,
                max_pixels=settings.max_pixels, engine=settings.engine,
                gate=Gate(settings.auto_min_labels_agree_pct, settings.auto_max_depth_change_m))
        except (OSError, ValueError) as exc:
            self._error = f'parameter checkpoint: cannot load {settings.checkpoint}: {exc}'
            self.get_logger().error(self._error)
            self._predictor = None
            return TransitionCallbackReturn.FAILURE
        info = self._predictor.info
        tasks = self._predictor.tasks
        self._declare_class_parameters(info.classes, info.colors)
        self._lut = palette_lut(info.colors or [[0, 0, 0]],
                                np.uint8 if len(info.classes) <= 255 else np.uint16)
        out_qos = qos_profile(settings.output_qos, settings.output_depth)
        for camera in settings.cameras:
            seg = 'segmentation' in tasks
            depth = 'depth' in tasks
            self._outputs[camera] = Outputs(
                labels=self._publisher(Image, f'{camera}/segmentation/labels', out_qos, seg),
                color=self._publisher(Image, f'{camera}/segmentation/color', out_qos, seg),
                depth=self._publisher(Image, f'{camera}/depth/image', out_qos, depth),
                info=self._publisher(CameraInfo, f'{camera}/depth/camera_info', out_qos,
                                     depth),
                points=self._publisher(PointCloud2, f'{camera}/points', out_qos, depth))
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._class_pub = self.create_publisher(String, '~/class_info', latched)
        self._class_pub.publish(String(data=json.dumps({
            'classes': info.classes, 'colors': info.colors, 'tasks': tasks,
            'depth_units': info.depth_units, 'depth_range': info.depth_range})))
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        engine = describe_engine(self._predictor)
        self.stats.engine = engine
        self.get_logger().info(
            f'model {settings.checkpoint} on {settings.device}: '
            f'{", ".join(f"{k} {v}" for k, v in engine.items())}; tasks {sorted(tasks)}, '
            f'{len(info.classes)} classes; cameras {list(settings.cameras)}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start the worker, subscribe to every camera and start the diagnostics timer."""
        settings = self.settings
        self._frames = LatestFrames()
        self._worker = BatchWorker(self._frames, self._process, self._on_worker_error)
        self._worker.start()
        in_qos = qos_profile(settings.input_qos, settings.input_depth)
        for camera in settings.cameras:
            if settings.transports[camera] == 'compressed':
                msg_type, topic = CompressedImage, f'{camera}/image_raw/compressed'
            else:
                msg_type, topic = Image, f'{camera}/image_raw'
            self._inputs.append(self.create_subscription(
                msg_type, topic, lambda msg, c=camera: self._on_image(c, msg), in_qos))
            self._inputs.append(self.create_subscription(
                CameraInfo, f'{camera}/camera_info',
                lambda msg, c=camera: self._on_camera_info(c, msg), in_qos))
        self._timer = self.create_timer(settings.diagnostics_period, self._publish_diagnostics)
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe and stop the worker after its current batch."""
        self._stop()
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the model and the publishers."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop and release everything, whatever state the node was in."""
        self._stop()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Recover to unconfigured by releasing everything."""
        return self.on_shutdown(state)

    def destroy_node(self) -> None:
        """Stop the worker thread and release the model before destroying the node."""
        self._stop()
        self._release()
        super().destroy_node()

    def _publisher(self, msg_type: type, topic: str, qos: QoSProfile, needed: bool) -> Any:
        return self.create_publisher(msg_type, topic, qos) if needed else None

    def _declare_class_parameters(self, classes: list[str], colors: list[list[int]]) -> None:
        # Read-only parameters cannot be undeclared at cleanup; the checkpoint (read-only
        # too) cannot change, so a second configure finds the same values.
        values = {'class_names': (list(classes) or [''], 'segmentation class names by id'),
                  'class_colors': ([int(v) for rgb in colors for v in rgb] or [0],
                                   'class colours by id, flattened r, g, b (0-255)')}
        for name, (value, description) in values.items():
            if not self.has_parameter(name):
                self.declare_parameter(name, value, ParameterDescriptor(
                    description=description, read_only=True))

    def _stop(self) -> None:
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        self._inputs = []
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        if self._worker is not None:
            worker, self._worker = self._worker, None
            for camera in worker.stop():
                self.stats.dropped(camera)

    def _release(self) -> None:
        for outputs in self._outputs.values():
            for publisher in vars(outputs).values():
                if publisher is not None:
                    self.destroy_publisher(publisher)
        self._outputs = {}
        for publisher in (self._class_pub, self._diag_pub):
            if publisher is not None:
                self.destroy_publisher(publisher)
        self._class_pub = self._diag_pub = None
        self._predictor = None

    # Callbacks: cheap, they only store.

    def _on_image(self, camera: str, msg: Image | CompressedImage) -> None:
        replaced = self._frames.put(camera, Frame(msg, time.monotonic()))
        self.stats.received(camera, replaced)

    def _on_camera_info(self, camera: str, msg: CameraInfo) -> None:
        self._infos[camera] = msg

    def _publish_diagnostics(self) -> None:
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = self.stats.report(self.settings.deadline_ms / 1e3)
        self._diag_pub.publish(msg)

    # The worker thread.

    def _process(self, batch: dict[str, Frame]) -> None:
        start = time.perf_counter()
        cameras, frames, images = [], [], []
        for camera, frame in batch.items():
            try:
                if isinstance(frame.msg, CompressedImage):
                    image = rgb_from_compressed(frame.msg, self.settings.max_pixels)
                else:
                    image = rgb_from_image(frame.msg, self.settings.max_pixels)
            except FrameError as exc:
                self._bad_frame(camera, str(exc))
                continue
            cameras.append(camera)
            frames.append(frame)
            images.append(image)
        if not images:
            return
        timings = {'convert': time.perf_counter() - start}
        try:
            results = self._predictor.predict(images, timings)
        except ValueError as exc:
            for camera in cameras:
                self._bad_frame(camera, str(exc))
            return
        start = time.perf_counter()
        for camera, frame, image, result in zip(cameras, frames, images, results):
            self._publish(camera, frame, image, result)
        timings['publish'] = time.perf_counter() - start
        self.stats.batch(len(images), timings)

    def _publish(self, camera: str, frame: Frame, image: np.ndarray,
                 result: dict[str, np.ndarray]) -> None:
        settings = self.settings
        outputs = self._outputs[camera]
        header = frame.msg.header
        height, width = image.shape[:2]
        labels = result.get('segmentation')
        if labels is not None:
            outputs.labels.publish(labels_message(labels, header))
            if outputs.color.get_subscription_count():
                color = colorize(labels, self._lut, image, settings.overlay_alpha)
                outputs.color.publish(color_message(color, header))
        if 'depth' in result:
            depth = valid_depth(result['depth'], self._predictor.info.depth_range)
            outputs.depth.publish(depth_message(depth, header, settings.depth_encoding))
            info = self._infos.get(camera)
            if info is not None:
                info = scaled_camera_info(info, height, width, header)
                outputs.info.publish(info)
                if outputs.points.get_subscription_count():
                    self._publish_cloud(camera, outputs, depth, info, image, labels)
        now = time.monotonic()
        stamp = Time.from_msg(header.stamp, clock_type=self.get_clock().clock_type)
        since_stamp = (self.get_clock().now() - stamp).nanoseconds / 1e9
        self.stats.published(camera, since_stamp, now - frame.received)

    def _publish_cloud(self, camera: str, outputs: Outputs, depth: np.ndarray,
                       info: CameraInfo, image: np.ndarray, labels: np.ndarray | None) -> None:
        if labels is None:
            labels = np.zeros(depth.shape, np.uint8)
        if self.settings.cloud_color == 'class':
            image = self._lut[labels]
        try:
            points = cloud_points(depth, info.k, image, labels, self.settings.cloud_decimation)
        except ValueError as exc:
            self._log_throttled((camera, 'cloud'), f'camera {camera}: no point cloud: {exc}')
            return
        outputs.points.publish(cloud_message(points, info.header))

    def _bad_frame(self, camera: str, reason: str) -> None:
        self.stats.bad(camera)
        self._log_throttled((camera, 'bad'), f'camera {camera}: frame skipped: {reason}')

    def _on_worker_error(self, exc: Exception) -> None:
        self._log_throttled('worker', f'inference failed: {type(exc).__name__}: {exc}')

    def _log_throttled(self, key: Hashable, text: str) -> None:
        now = time.monotonic()
        with self._log_lock:
            last, suppressed = self._log_state.get(key, (-np.inf, 0))
            if now - last < LOG_PERIOD:
                self._log_state[key] = (last, suppressed + 1)
                return
            self._log_state[key] = (now, 0)
        more = f' ({suppressed} more like it suppressed)' if suppressed else ''
        self.get_logger().error(text + more)


def main(args: list[str] | None = None) -> int:
    """Run the node until SIGINT or SIGTERM; return the process exit status."""
    rclpy.init(args=args)
    try:
        try:
            node = SegmentationNode()
        except ValueError as exc:
            rclpy.logging.get_logger(NODE_NAME).fatal(str(exc))
            return 1
        try:
            rclpy.spin(node)
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            node.destroy_node()
        return 0
    finally:
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
