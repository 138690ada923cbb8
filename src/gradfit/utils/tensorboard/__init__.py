"""``gradfit.utils.tensorboard``: PyTorch's ``SummaryWriter``, on TensorBoard's own writer.

``from torch.utils.tensorboard import SummaryWriter`` is in a large share of training
scripts; this is the same class for gradfit. Events go through the ``tensorboard`` package's
``EventFileWriter`` and its protocol-buffer classes (an optional extra:
``pip install gradfit[tensorboard]``, as PyTorch makes it optional), so TensorBoard reads the
files as its own. :func:`log_training_step` logs what ``gradfit train --tensorboard`` records:
the metrics, the learning rates and, from a :class:`~gradfit.nn.utils.monitor.GradientMonitor`,
each layer's activation and gradient variance (the lecture's vanishing/exploding-gradient
check).
"""

from __future__ import annotations

import io
import math
import os
import socket
import time
from datetime import datetime

import numpy as np

__all__ = ["SummaryWriter", "log_training_step"]


def _tb():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "gradfit.utils.tensorboard needs the tensorboard package: "
            "pip install 'gradfit[tensorboard]' (or pip install tensorboard)"
        ) from e
    return event_pb2, summary_pb2, EventFileWriter


def _array(x) -> np.ndarray:
    from gradfit._arrays import unwrap

    if hasattr(x, "detach") and hasattr(x, "grad_fn"):
        x = x.detach()
    if type(x).__module__.startswith("torch"):  # a PyTorch tensor handed over
        return np.asarray(x.detach().cpu().numpy())
    return np.asarray(unwrap(x))


def _scalar(value) -> float:
    arr = _array(value)
    if arr.size != 1:
        raise ValueError(f"add_scalar: expected a single number, got shape {arr.shape}")
    return float(arr.reshape(()))


def _default_bins() -> np.ndarray:
    """TensorFlow's default histogram buckets: +-1e-12 * 1.1**k up to 1e20, and 0."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    pos = np.array(pos)
    return np.concatenate([-pos[::-1], [0.0], pos])


def _histogram_proto(values: np.ndarray, bins, summary_pb2):
    from tensorboard.compat.proto.summary_pb2 import HistogramProto

    del summary_pb2
    values = values.astype(np.float64).ravel()
    if values.size == 0:
        raise ValueError("add_histogram: the values are empty")
    if not np.all(np.isfinite(values)):
        raise ValueError("add_histogram: the values contain nan or inf")
    edges = _default_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    counts, limits = np.histogram(values, bins=edges)
    nonzero = np.flatnonzero(counts)
    start, end = (nonzero[0], nonzero[-1] + 1) if nonzero.size else (0, len(counts))
    # TensorBoard reads bucket i as (limit[i-1], limit[i]]: keep the upper edges.
    return HistogramProto(
        min=float(values.min()),
        max=float(values.max()),
        num=int(values.size),
        sum=float(values.sum()),
        sum_squares=float(np.dot(values, values)),
        bucket_limit=[float(x) for x in limits[start + 1 : end + 1]],
        bucket=[float(c) for c in counts[start:end]],
    )


def _to_hwc(img: np.ndarray, dataformats: str) -> np.ndarray:
    fmt = dataformats.upper()
    if len(fmt) != img.ndim or sorted(fmt) not in (sorted("CHW"), sorted("HW"), sorted("HWC")):
        raise ValueError(
            f"add_image: dataformats {dataformats!r} does not fit an image of shape {img.shape}"
        )
    if fmt == "HW":
        img = img[None]
        fmt = "CHW"
    img = np.transpose(img, [fmt.index(c) for c in "HWC"])
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.shape[2] not in (3, 4):
        raise ValueError(f"add_image: expected 1, 3 or 4 channels, got {img.shape[2]}")
    if img.dtype.kind == "f":
        img = np.clip(img * 255.0, 0, 255) if img.max(initial=0) <= 1.0 else np.clip(img, 0, 255)
    return img.astype(np.uint8)


def _png(img_hwc: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img_hwc).save(buf, format="PNG")
    return buf.getvalue()


class SummaryWriter:
    """Writes TensorBoard event files, as ``torch.utils.tensorboard.SummaryWriter``.

    Args:
        log_dir: the run's folder; default ``runs/<Mon>DD_HH-MM-SS_<host><comment>``, as
            PyTorch names it.
        comment: appended to the default ``log_dir``.
        purge_step: accepted for compatibility (TensorBoard purges on reload).
        max_queue: events held before a write.
        flush_secs: seconds between automatic flushes.
        filename_suffix: appended to the event file's name.
    """

    def __init__(
        self,
        log_dir=None,
        comment: str = "",
        purge_step=None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ):
        event_pb2, summary_pb2, writer_cls = _tb()
        self._event_pb2, self._summary_pb2, self._writer_cls = event_pb2, summary_pb2, writer_cls
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._suffix = filename_suffix
        self._writer = writer_cls(self.log_dir, max_queue, flush_secs, filename_suffix)
        self._scalar_writers: dict = {}
        self._closed = False

    # ------------------------------------------------------------------ plumbing
    def get_logdir(self) -> str:
        return self.log_dir

    def _add(self, summary, global_step, walltime, writer=None) -> None:
        if self._closed:
            raise RuntimeError("SummaryWriter: the writer is closed")
        event = self._event_pb2.Event(
            summary=summary, wall_time=time.time() if walltime is None else float(walltime)
        )
        if global_step is not None:
            event.step = int(global_step)
        (writer or self._writer).add_event(event)

    def _value(self, tag: str, **fields):
        return self._summary_pb2.Summary(value=[self._summary_pb2.Summary.Value(tag=tag, **fields)])

    # ------------------------------------------------------------------ the API
    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:  # fmt: skip
        """Log one number under ``tag`` at ``global_step``."""
        self._add(self._value(tag, simple_value=_scalar(scalar_value)), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:  # fmt: skip
        """Several curves in one chart: each key is written to its own run,
        ``<log_dir>/<main_tag>_<key>``, under the tag ``main_tag`` (PyTorch's layout)."""
        for key, value in tag_scalar_dict.items():
            path = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            writer = self._scalar_writers.get(path)
            if writer is None:
                writer = self._writer_cls(path, self._max_queue, self._flush_secs, self._suffix)
                self._scalar_writers[path] = writer
            summary = self._value(main_tag, simple_value=_scalar(value))
            self._add(summary, global_step, walltime, writer)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:  # fmt: skip
        """A histogram of ``values`` (a tensor or array); ``bins`` as ``np.histogram``'s, or
        ``"tensorflow"`` for TensorFlow's default buckets."""
        histo = _histogram_proto(_array(values), bins, self._summary_pb2)
        self._add(self._value(tag, histo=histo), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Text (Markdown) for TensorBoard's text plugin."""
        from tensorboard.compat.proto.tensor_pb2 import TensorProto
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.plugins.text.metadata import create_summary_metadata

        tensor = TensorProto(
            dtype="DT_STRING",
            string_val=[str(text_string).encode("utf-8")],
            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
        )
        value = self._summary_pb2.Summary.Value(
            tag=tag + "/text_summary",
            metadata=create_summary_metadata(display_name=tag, description=""),
            tensor=tensor,
        )
        self._add(self._summary_pb2.Summary(value=[value]), global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:  # fmt: skip
        """An image: floats in [0, 1] (or 0-255) or uint8, laid out as ``dataformats``."""
        img = _to_hwc(_array(img_tensor), dataformats)
        image = self._summary_pb2.Summary.Image(
            height=img.shape[0], width=img.shape[1], colorspace=img.shape[2],
            encoded_image_string=_png(img),
        )  # fmt: skip
        self._add(self._value(tag, image=image), global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True,
                   walltime=None) -> None:  # fmt: skip
        """A matplotlib figure, rendered to an image (closed afterwards unless ``close``
        is False)."""
        figure.canvas.draw()
        rgba = np.asarray(figure.canvas.buffer_rgba())
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)
        self.add_image(tag, rgba, global_step, walltime, dataformats="HWC")

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None) -> None:  # fmt: skip
        """One run of a hyperparameter search for TensorBoard's HParams dashboard: the
        experiment, the session's values and its metrics, in the sub-run ``run_name``
        (default: the current time), as PyTorch writes them."""
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        infos = []
        start = plugin_data_pb2.SessionStartInfo(start_time_secs=time.time())
        for name, v in hparam_dict.items():
            if v is None:
                continue
            if isinstance(v, bool):
                start.hparams[name].bool_value = v
                kind = api_pb2.DATA_TYPE_BOOL
            elif isinstance(v, int | float):
                start.hparams[name].number_value = float(v)
                kind = api_pb2.DATA_TYPE_FLOAT64
            elif isinstance(v, str):
                start.hparams[name].string_value = v
                kind = api_pb2.DATA_TYPE_STRING
            elif hasattr(v, "grad_fn") or isinstance(v, np.ndarray | np.generic):
                start.hparams[name].number_value = _scalar(v)
                kind = api_pb2.DATA_TYPE_FLOAT64
            else:
                raise ValueError(
                    f"add_hparams: value of {name!r} must be bool, int, float, str or a "
                    f"one-element tensor, got {type(v).__name__}"
                )
            infos.append(api_pb2.HParamInfo(name=name, type=kind))
        metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
        experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
        end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS,
                                             end_time_secs=time.time())  # fmt: skip
        run = os.path.join(self.log_dir, run_name or str(time.time()))
        with SummaryWriter(log_dir=run) as w:
            for tag, data in (
                (metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment)),
                (metadata.SESSION_START_INFO_TAG,
                 plugin_data_pb2.HParamsPluginData(session_start_info=start)),
                (metadata.SESSION_END_INFO_TAG,
                 plugin_data_pb2.HParamsPluginData(session_end_info=end)),
            ):  # fmt: skip
                value = self._summary_pb2.Summary.Value(
                    tag=tag, metadata=metadata.create_summary_metadata(data)
                )
                w._add(self._summary_pb2.Summary(value=[value]), None, None)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def flush(self) -> None:
        """Write pending events to disk."""
        self._writer.flush()
        for w in self._scalar_writers.values():
            w.flush()

    def close(self) -> None:
        """Flush and close the event files (further writes raise)."""
        if self._closed:
            return
        self._writer.close()
        for w in self._scalar_writers.values():
            w.close()
        self._closed = True

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def log_training_step(
    writer: SummaryWriter, step: int, metrics: dict | None = None, optimizer=None, monitor=None
) -> None:
    """Log one step of training: what ``gradfit train --tensorboard`` records.

    Args:
        writer: the ``SummaryWriter``.
        step: the global step (epoch or iteration) of every value.
        metrics: ``{name: number}`` (loss, accuracy, ...), each under ``metrics/<name>``.
        optimizer: its learning rate is logged as ``lr`` (one group) or ``lr/group<i>``.
        monitor: a ``GradientMonitor`` on the model; each watched layer's latest activation
            and gradient variance go to ``activations/<layer>`` and ``gradients/<layer>``,
            and the per-layer rates of change (the quantity the monitor flags) to
            ``activation_rate/<layer>`` and ``grad_rate/<layer>``.
    """
    for name, value in (metrics or {}).items():
        writer.add_scalar(f"metrics/{name}", value, step)
    if optimizer is not None:
        groups = optimizer.param_groups
        for i, group in enumerate(groups):
            writer.add_scalar("lr" if len(groups) == 1 else f"lr/group{i}", group["lr"], step)
    if monitor is not None:
        for layer in monitor.layers:
            for prefix, value in (
                ("activations", layer.activation_var),
                ("gradients", layer.grad_var),
                ("activation_rate", layer.activation_rate),
                ("grad_rate", layer.grad_rate),
            ):
                if value is not None and math.isfinite(value):
                    writer.add_scalar(f"{prefix}/{layer.name}", value, step)
