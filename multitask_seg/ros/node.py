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
    <c>/segmentation/confidence  32FC1 probability of each pixel's class (softmax, with
                              the checkpoint's temperature)
    <c>/depth/image           32FC1 metres (NaN invalid) or 16UC1 millimetres (0 invalid)
    <c>/depth/camera_info     the camera info, scaled to the output size if it differs
    <c>/normals/image         32FC3 unit surface normals, optical frame (0 invalid)
    <c>/points                organised PointCloud2: x y z rgb label [normal_x/y/z]

each only for the tasks the model has (topics and encodings: ``multitask_seg.tasks``).

Colour images, confidences and clouds are computed only while someone subscribes. Class
names and colours are the read-only parameters ``class_names`` and ``class_colors``
(flattened r, g, b) and a JSON std_msgs/String on the transient-local topic ``~/class_info``.
Statistics go to /diagnostics.

Subscription callbacks only store the newest frame per camera; one worker thread converts
every waiting frame, runs them through the model in one batch and publishes the results.
"""

from dataclasses import dataclass, replace
import json
from pathlib import Path
import threading
import time
from typing import Any, Callable, Hashable

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
import rclpy
from rclpy.event_handler import QoSSubscriptionMatchedInfo, SubscriptionEventCallbacks
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import String

from .cloud import cloud_message, cloud_points
from .colorize import colorize, palette_lut
from .convert import (color_message, confidence_message, FrameError, rgb_from_compressed,
                      rgb_from_image, scaled_camera_info, task_message)
from .diagnostics import NodeStats, reason_key
from .params import parameter_descriptor, PARAMETERS, parse_settings, Settings
from .rays import RayTables
from .worker import BatchWorker, LatestFrames
from ..allocator import retain_freed_memory
from ..inference import Predictor
from ..inference.precision_gate import Gate
from ..tasks import IGNORE_LABEL, TASKS

NODE_NAME = 'multitask_seg'
RELIABILITY = {'sensor_data': ReliabilityPolicy.BEST_EFFORT,
               'best_effort': ReliabilityPolicy.BEST_EFFORT,
               'reliable': ReliabilityPolicy.RELIABLE}
# Repeated errors of one kind and camera are logged at most this often (seconds).
LOG_PERIOD = 2.0


class TransitionFailed(ValueError):
    """Start-up configure or activate failed; the node has logged why."""


def describe_engine(predictor: Predictor) -> dict[str, str]:
    """Return what the predictor runs: engine, precision and network input size."""
    size = predictor.network_size
    described = {'engine': getattr(predictor, 'engine', 'custom'),
                 'precision': getattr(predictor, 'precision', 'unknown'),
                 'input size': f'{size[0]}x{size[1]}' if size else 'native'}
    # An int8 model's operations kept in float run as bf16 or f32 (see openvino_backend).
    hint = getattr(getattr(predictor, 'backend', None), 'options', {}).get(
        'INFERENCE_PRECISION_HINT')
    if described['precision'] == 'int8' and hint:
        described['unquantised ops'] = hint
    return described


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
    """One camera's publishers: one per task of the model, and None where not needed."""

    tasks: dict[str, Any]
    color: Any
    info: Any
    points: Any
    confidence: Any = None


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
        self._rays = RayTables()
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
            self._rays = RayTables(self.settings.rectified_input)
            self.stats = NodeStats(self.settings.cameras, self.get_name(),
                                   self.settings.device)
            self.add_on_set_parameters_callback(self._on_set_parameters)
            if not self.settings.managed:
                for transition in (self.trigger_configure, self.trigger_activate):
                    if transition() != TransitionCallbackReturn.SUCCESS:
                        raise TransitionFailed(self._error or 'start-up failed')
        except BaseException:
            self.destroy_node()
            raise

    # Parameters.

    def _declare_parameters(self) -> Settings:
        values = {}
        for name, spec in PARAMETERS.items():
            try:
                values[name] = self.declare_parameter(name, spec.default,
                                                      parameter_descriptor(spec)).value
            except InvalidParameterTypeException as exc:
                raise ValueError(f'parameter {name}: wrong type: {exc}') from exc
            except InvalidParameterValueException as exc:  # outside the declared range
                raise ValueError(f'parameter {name}: must be {spec.bounds_text()}; '
                                 f'{exc}') from exc
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
        """
        Load the model; create the publishers and the class parameters.

        A missing or unusable checkpoint fails the transition (logged once), leaving the
        node unconfigured and alive.
        """
        settings = self.settings
        if not Path(settings.checkpoint).is_file():
            return self._configure_failed(
                f'parameter checkpoint: file {settings.checkpoint} does not exist')
        try:
            self._predictor = self._predictor_factory(
                settings.checkpoint, device=settings.device, precision=settings.precision,
                input_size=settings.input_size, num_threads=settings.num_threads or None,
                max_pixels=settings.max_pixels, engine=settings.engine,
                keep_memory_max_pixels=settings.keep_memory_max_pixels,
                gate=Gate(settings.auto_min_labels_agree_pct, settings.auto_max_depth_change_m))
        except (OSError, ValueError) as exc:
            # The loaders' messages name the file already; say it once.
            named = settings.checkpoint in str(exc)
            return self._configure_failed(f'parameter checkpoint: '
                                          f'{"" if named else f"{settings.checkpoint}: "}{exc}')
        # After the model: the PyTorch backend sets a looser limit of its own.
        retain_freed_memory(settings.retained_memory_mb << 20)
        info = self._predictor.info
        tasks = self._predictor.tasks
        self._declare_class_parameters(info.classes, info.colors)
        self._lut = palette_lut(info.colors or [[0, 0, 0]],
                                np.uint8 if len(info.classes) <= IGNORE_LABEL else np.uint16)
        out_qos = qos_profile(settings.output_qos, settings.output_depth)
        for camera in settings.cameras:
            seg = 'segmentation' in tasks
            depth = 'depth' in tasks
            self._outputs[camera] = Outputs(
                tasks={task: self.create_publisher(Image, f'{camera}/{TASKS[task].ros.topic}',
                                                   out_qos) for task in tasks},
                color=self._publisher(Image, f'{camera}/segmentation/color', out_qos, seg),
                info=self._publisher(CameraInfo, f'{camera}/depth/camera_info', out_qos,
                                     depth),
                points=self._publisher(PointCloud2, f'{camera}/points', out_qos, depth),
                confidence=self._publisher(Image, f'{camera}/segmentation/confidence',
                                           out_qos, seg))
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._class_pub = self.create_publisher(String, '~/class_info', latched)
        self._class_pub.publish(String(data=json.dumps({
            'classes': info.classes, 'colors': info.colors, 'tasks': tasks,
            'depth_units': info.depth_units, 'depth_range': info.depth_range})))
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        if 'depth' not in tasks:
            for camera in settings.cameras:
                self.stats.camera_info(camera, 'unused: the model has no depth head')
        engine = describe_engine(self._predictor)
        self.stats.engine = engine
        self.get_logger().info(
            f'model {settings.checkpoint} on {settings.device}: '
            f'{", ".join(f"{k} {v}" for k, v in engine.items())}; tasks {sorted(tasks)}, '
            f'{len(info.classes)} classes; cameras {list(settings.cameras)}')
        return TransitionCallbackReturn.SUCCESS

    def _configure_failed(self, error: str) -> TransitionCallbackReturn:
        self._error = error
        self.get_logger().error(error)
        self._predictor = None
        return TransitionCallbackReturn.FAILURE

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
                msg_type, topic, lambda msg, c=camera: self._on_image(c, msg), in_qos,
                event_callbacks=SubscriptionEventCallbacks(
                    matched=lambda info, t=topic: self._on_input_matched(t, info),
                    incompatible_qos=lambda info, t=topic: self._on_incompatible_qos(t, info))))
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
            self.get_logger().debug('inference thread stopped')

    def _release(self) -> None:
        for outputs in self._outputs.values():
            for publisher in [*outputs.tasks.values(), outputs.color, outputs.info,
                              outputs.points]:
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
        stamp = msg.header.stamp
        self.stats.received(camera, replaced, stamp.sec * 10**9 + stamp.nanosec)

    def _on_incompatible_qos(self, topic: str, info: Any) -> None:
        self.get_logger().warning(
            f'a publisher of {topic} offers QoS incompatible with input_qos '
            f'{self.settings.input_qos} ({info.last_policy_kind.name}): it sends the node '
            f'nothing. A best-effort camera needs input_qos: sensor_data (large frames may '
            f'then be lost; see /diagnostics "missing")')

    def _on_camera_info(self, camera: str, msg: CameraInfo) -> None:
        self._infos[camera] = msg

    def _on_input_matched(self, topic: str, info: QoSSubscriptionMatchedInfo) -> None:
        publishers = self.get_publishers_info_by_topic(self.resolve_topic_name(topic))
        offered = ', '.join(sorted({
            f'{p.node_namespace.rstrip("/")}/{p.node_name} '
            f'{p.qos_profile.reliability.name.lower()}' for p in publishers}))
        self.get_logger().debug(
            f'{topic}: {info.current_count} publisher(s) matched '
            f'({info.current_count_change:+d}); offered QoS: {offered or "none"}; this '
            f'subscription: {self.settings.input_qos}, depth {self.settings.input_depth}')

    def _publish_diagnostics(self) -> None:
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = self.stats.report(self.settings.deadline_ms / 1e3)
        self._diag_pub.publish(msg)

    # The worker thread.

    def _process(self, batch: dict[str, Frame]) -> None:
        self.stats.processing({camera: frame.received for camera, frame in batch.items()})
        try:
            self._process_frames(batch)
        finally:
            self.stats.finished(list(batch))

    def _process_frames(self, batch: dict[str, Frame]) -> None:
        waited = time.monotonic() - min(frame.received for frame in batch.values())
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
        timings = {'wait': waited, 'convert': time.perf_counter() - start}
        try:
            # The softmax costs time: only while someone listens to a confidence topic.
            confidence = any(o.confidence is not None and o.confidence.get_subscription_count()
                             for o in self._outputs.values())
            results = self._predictor.predict(images, timings, confidence=confidence)
        except ValueError as exc:
            for camera in cameras:
                self._bad_frame(camera, str(exc))
            return
        start = time.perf_counter()
        for camera, frame, image, result in zip(cameras, frames, images, results):
            self._publish(camera, frame, image, result)
        timings['publish'] = time.perf_counter() - start
        self.stats.batch(len(images), timings)
        logger = self.get_logger()
        if logger.is_enabled_for(rclpy.logging.LoggingSeverity.DEBUG):
            stages = ', '.join(f'{stage} {seconds * 1e3:.1f} ms'
                               for stage, seconds in timings.items())
            logger.debug(f'batch of {len(images)} ({", ".join(cameras)}): {stages}')

    def _publish(self, camera: str, frame: Frame, image: np.ndarray,
                 result: dict[str, np.ndarray]) -> None:
        settings = self.settings
        outputs = self._outputs[camera]
        header = frame.msg.header
        height, width = image.shape[:2]
        published = {task: TASKS[task].published(result[task], self._predictor.info)
                     for task in outputs.tasks}
        for task, publisher in outputs.tasks.items():
            parameter = TASKS[task].ros.encoding_parameter
            encoding = getattr(settings, parameter) if parameter else None
            publisher.publish(task_message(task, published[task], header, encoding))
        labels = published.get('segmentation')
        if labels is not None:
            if outputs.color.get_subscription_count():
                color = colorize(labels, self._lut, image, settings.overlay_alpha)
                outputs.color.publish(color_message(color, header))
            if ('segmentation_confidence' in result
                    and outputs.confidence.get_subscription_count()):
                outputs.confidence.publish(confidence_message(result['segmentation_confidence'],
                                                              header))
        depth = published.get('depth')
        if depth is not None:
            info = self._camera_info(camera, height, width, header)
            if info is not None:
                outputs.info.publish(info)
                if outputs.points.get_subscription_count():
                    self._publish_cloud(camera, outputs, depth, info, image, labels,
                                        published.get('normals'))
        now = time.monotonic()
        stamp = Time.from_msg(header.stamp, clock_type=self.get_clock().clock_type)
        since_stamp = (self.get_clock().now() - stamp).nanoseconds / 1e9
        self.stats.published(camera, since_stamp, now - frame.received)

    def _camera_info(self, camera: str, height: int, width: int,
                     header: Any) -> CameraInfo | None:
        """Return the camera info scaled to the output, or None (said once per problem)."""
        info = self._infos.get(camera)
        if info is None:
            self._log_once((camera, 'no info'), f'camera {camera}: no camera_info received on '
                           f'{camera}/camera_info yet: publishing no {camera}/depth/camera_info '
                           f'and no {camera}/points until one arrives')
            return None
        try:
            scaled = scaled_camera_info(info, height, width, header)
        except ValueError as exc:
            problem = f'not used: {exc}'
            self.stats.camera_info(camera, problem, warn=True)
            self._log_once((camera, 'info', info.height, info.width, height, width),
                           f'camera {camera}: camera_info {problem}; publishing no '
                           f'{camera}/depth/camera_info and no {camera}/points')
            return None
        self.stats.camera_info(camera, 'ok')
        return scaled

    def _publish_cloud(self, camera: str, outputs: Outputs, depth: np.ndarray,
                       info: CameraInfo, image: np.ndarray, labels: np.ndarray | None,
                       normals: np.ndarray | None) -> None:
        if labels is None:
            labels = np.zeros(depth.shape, np.uint8)
        if self.settings.cloud_color == 'class':
            image = self._lut[labels]
        try:
            decimation = self.settings.cloud_decimation
            rays = self._rays.table(camera, info, decimation)
            points = cloud_points(depth, rays, image, labels, decimation, normals)
        except ValueError as exc:
            self._log_throttled((camera, 'cloud'), f'camera {camera}: no point cloud: {exc}')
            return
        outputs.points.publish(cloud_message(points, info.header))

    def _bad_frame(self, camera: str, reason: str) -> None:
        # Throttled per kind of reason, so a burst of different faults shows every one.
        self.stats.bad(camera, reason)
        self._log_throttled((camera, 'bad', reason_key(reason)),
                            f'camera {camera}: frame skipped: {reason}')

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

    def _log_once(self, key: Hashable, text: str) -> None:
        with self._log_lock:
            if key in self._log_state:
                return
            self._log_state[key] = (time.monotonic(), 0)
        self.get_logger().warning(text)
