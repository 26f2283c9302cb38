"""PyTorch's ``torch.utils.tensorboard``: :class:`SummaryWriter` writes TensorBoard event files
(scalars, histograms, images, text) from lamina Tensors, NumPy arrays or Python numbers, so

    from lamina.utils.tensorboard import SummaryWriter
    with SummaryWriter() as writer:          # runs/<datetime>_<host>
        writer.add_scalar("loss/train", loss, step)

runs as ``torch.utils.tensorboard`` does; ``tensorboard --logdir runs`` shows the result.

The event files are written by TensorBoard's own writer (the ``tensorboard`` package, an
optional dependency: ``pip install 'lamina[tensorboard]'``), which frames each ``Event``
protocol buffer as a TFRecord; this module builds the ``Summary`` protocol buffers:

- a scalar is a ``simple_value`` (``new_style=True``: a one-element float tensor tagged for
  the scalars plugin);
- a histogram of values v_1..v_n is min, max, n, sum v_i, sum v_i^2 and bucket counts with
  their right edges; ``bins='tensorflow'`` uses TensorFlow's buckets, edges +-1e-12 * 1.1^k
  and 0, so that histograms of any scale keep about 10% resolution;
- an image is a PNG (8 bits per channel; float images are taken to lie in [0, 1], scaled by
  255 and truncated, integer images are clipped to [0, 255]), one channel repeated as RGB;
- a text is a one-element string tensor tagged for the text plugin, under ``TAG/text_summary``.
"""
from __future__ import annotations

import datetime
import math
import os
import socket
import struct
import time
import zlib

import numpy as np

from ..backend import to_host

from ..errors import LaminaValueError

__all__ = ["SummaryWriter"]


def _protos():
    """TensorBoard's writer and protocol buffers (ImportError naming the extra without it)."""
    try:
        from tensorboard.compat.proto import (event_pb2, summary_pb2, tensor_pb2,
                                              tensor_shape_pb2, types_pb2)
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as exc:
        raise ImportError(
            f"lamina.utils.tensorboard.SummaryWriter needs the tensorboard package ({exc}); "
            "install it with: pip install 'lamina[tensorboard]'") from None
    return EventFileWriter, event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2


def _numpy(value) -> np.ndarray:
    """``value`` (a lamina or torch Tensor, an array, a number or a list) as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach()
        value = value.cpu() if hasattr(value, "cpu") else value
        value = value.numpy()
    return to_host(value)


def _tensorflow_bins() -> np.ndarray:
    """TensorFlow's default histogram edges: 0 and +-1e-12 * 1.1^k below 1e20."""
    positive = [1e-12]
    while positive[-1] * 1.1 < 1e20:
        positive.append(positive[-1] * 1.1)
    positive = np.array(positive)
    return np.concatenate([-positive[::-1], [0.0], positive])


def _histogram_counts(values: np.ndarray, bins, max_bins: int | None, tag: str):
    """Bucket counts and their edges (one more), trimmed to the buckets from the first
    non-empty one to the last, then merged in groups of equal size when more than
    ``max_bins`` remain."""
    counts, edges = np.histogram(values, bins=_tensorflow_bins() if bins == "tensorflow" else bins)
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise LaminaValueError(f"add_histogram({tag!r}): no value lies within the bins "
                               f"[{edges[0]:g}, {edges[-1]:g}]")
    first, last = int(nonzero[0]), int(nonzero[-1])
    counts, edges = counts[first:last + 1], edges[first:last + 2]
    if max_bins is not None and len(counts) > max_bins:
        group = math.ceil(len(counts) / max_bins)
        starts = np.arange(0, len(counts), group)
        counts, edges = np.add.reduceat(counts, starts), np.append(edges[starts], edges[-1])
    return counts, edges


def _hwc(image: np.ndarray, dataformats: str) -> np.ndarray:
    """``image`` laid out as height x width x channels (1, 3 or 4 channels)."""
    dataformats = dataformats.upper()
    if sorted(dataformats) not in (sorted("HW"), sorted("CHW")) or image.ndim != len(dataformats):
        raise LaminaValueError(f"dataformats {dataformats!r} does not describe an image of shape "
                               f"{image.shape}; expected CHW, HWC or HW with as many axes")
    if "C" not in dataformats:
        image, dataformats = image[None], "C" + dataformats
    image = np.transpose(image, [dataformats.index(axis) for axis in "HWC"])
    if image.shape[2] not in (1, 3, 4):
        raise LaminaValueError(f"an image has 1, 3 or 4 channels, got {image.shape[2]} "
                               f"(shape {image.shape} as HWC)")
    return image


def _png(image: np.ndarray) -> bytes:
    """A PNG of ``image`` (height x width x 1, 3 or 4 uint8 channels): the signature, IHDR
    (8-bit grey, RGB or RGBA), one zlib stream of rows each led by filter byte 0, IEND."""
    height, width, channels = image.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           np.ascontiguousarray(image).reshape(height, width * channels)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, {1: 0, 3: 2, 4: 6}[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def _uint8(image: np.ndarray) -> np.ndarray:
    """8-bit pixels: floats (in [0, 1]) times 255, clipped to [0, 255] and truncated, as
    torch's writer does; integers clipped."""
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind == "f":
        if not np.all(np.isfinite(image)):
            raise LaminaValueError("an image with NaN or infinite values cannot be drawn")
        image = image * image.dtype.type(255)  # in the image's precision, as torch
    return np.clip(image, 0, 255).astype(np.uint8)


class SummaryWriter:
    """Writes TensorBoard event files into ``log_dir``, as torch's ``SummaryWriter`` does.

    ``log_dir`` defaults to ``runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname><comment>``;
    ``purge_step`` tells TensorBoard to drop the events at that step and later which an
    earlier, interrupted run left in ``log_dir``; events are queued (``max_queue``) and
    written at least every ``flush_secs`` seconds, at :meth:`flush` and at :meth:`close`.
    ``global_step`` is the x-axis value (default 0), ``walltime`` the time recorded (default
    now). Usable as a context manager, which closes it.
    """

    def __init__(self, log_dir: str | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = ""):
        protos = _protos()
        self._EventFileWriter, self._event_pb2, self._summary_pb2 = protos[:3]
        self._tensor_pb2, self._shape_pb2, self._types_pb2 = protos[3:]
        if not log_dir:
            stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self.all_writers: dict = {}
        self._writer(self.log_dir)

    # -------------------------------------------------------------------- files
    def _writer(self, log_dir: str):
        """The event file writer for ``log_dir`` (opened on first use, again after close)."""
        writer = self.all_writers.get(log_dir)
        if writer is None:
            writer = self._EventFileWriter(log_dir, self.max_queue, self.flush_secs,
                                           self.filename_suffix)
            if self.purge_step is not None:
                session = self._event_pb2.SessionLog(status=self._event_pb2.SessionLog.START)
                writer.add_event(self._event_pb2.Event(step=self.purge_step, wall_time=time.time(),
                                                       session_log=session))
            self.all_writers[log_dir] = writer
        return writer

    @property
    def file_writer(self):
        return self._writer(self.log_dir)

    def get_logdir(self) -> str:
        """The directory the event files go to."""
        return self.log_dir

    def _add(self, values: list, global_step, walltime, log_dir: str | None = None) -> None:
        event = self._event_pb2.Event(summary=self._summary_pb2.Summary(value=values))
        event.wall_time = time.time() if walltime is None else float(walltime)
        if global_step is not None:
            event.step = int(_numpy(global_step))
        self._writer(log_dir or self.log_dir).add_event(event)

    def _tensor(self, dtype: str, **fields):
        shape = self._shape_pb2.TensorShapeProto(dim=[self._shape_pb2.TensorShapeProto.Dim(size=1)])
        return self._tensor_pb2.TensorProto(dtype=getattr(self._types_pb2, dtype),
                                            tensor_shape=shape, **fields)

    def _metadata(self, plugin: str, content: bytes = b""):
        data = self._summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin, content=content)
        return self._summary_pb2.SummaryMetadata(plugin_data=data)

    # -------------------------------------------------------------------- summaries
    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One point of the curve ``tag``: ``scalar_value`` (a number or one-element tensor)
        at ``global_step``."""
        value = _numpy(scalar_value)
        if value.size != 1:
            raise LaminaValueError(f"add_scalar({tag!r}) needs one number, got shape {value.shape}")
        value = float(value.reshape(()))
        if not new_style:
            summary = self._summary_pb2.Summary.Value(tag=tag, simple_value=value)
        else:
            tensor = (self._tensor("DT_DOUBLE", double_val=[value]) if double_precision
                      else self._tensor("DT_FLOAT", float_val=[value]))
            summary = self._summary_pb2.Summary.Value(tag=tag, tensor=tensor,
                                                      metadata=self._metadata("scalars"))
        self._add([summary], global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Several curves on one chart: each ``tag: value`` goes, under ``main_tag``, into its
        own subdirectory ``log_dir/<main_tag>_<tag>`` (``/`` in ``main_tag`` written ``_``)."""
        for tag, scalar in tag_scalar_dict.items():
            log_dir = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            value = float(_numpy(scalar).reshape(()))
            self._add([self._summary_pb2.Summary.Value(tag=main_tag, simple_value=value)],
                      global_step, walltime, log_dir)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins: int | None = None) -> None:
        """The distribution of ``values`` (any shape, flattened); ``bins`` is 'tensorflow',
        a bin count, a sequence of edges or one of NumPy's bin rules ('auto', 'fd', ...)."""
        data = _numpy(values).astype(np.float64).ravel()
        if data.size == 0:
            raise LaminaValueError(f"add_histogram({tag!r}) got no values")
        if not np.all(np.isfinite(data)):
            raise LaminaValueError(f"add_histogram({tag!r}) got NaN or infinite values")
        counts, edges = _histogram_counts(data, bins, max_bins, tag)
        # TensorBoard reads bucket i as (bucket_limit[i-1], bucket_limit[i]]: an empty first
        # bucket ending at the left edge keeps that edge.
        histogram = self._summary_pb2.HistogramProto(
            min=float(data.min()), max=float(data.max()), num=int(data.size),
            sum=float(data.sum()), sum_squares=float(np.dot(data, data)),
            bucket_limit=[float(e) for e in edges], bucket=[0.0] + [float(c) for c in counts])
        summary = self._summary_pb2.Summary.Value(tag=tag, histo=histogram)
        self._add([summary], global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        """One image: ``img_tensor`` laid out as ``dataformats`` (CHW, HWC or HW), floats in
        [0, 1] or integers in [0, 255]; one channel is shown as grey."""
        image = _uint8(_hwc(_numpy(img_tensor), dataformats))
        if image.shape[2] == 1:
            image = np.repeat(image, 3, axis=2)
        height, width, channels = image.shape
        encoded = self._summary_pb2.Summary.Image(height=height, width=width, colorspace=channels,
                                                  encoded_image_string=_png(image))
        self._add([self._summary_pb2.Summary.Value(tag=tag, image=encoded)], global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images as one grid, up to 8 to a row (``dataformats`` NCHW, NHWC, ...)."""
        batch = _numpy(img_tensor)
        dataformats = dataformats.upper()
        if "N" not in dataformats or batch.ndim != len(dataformats):
            raise LaminaValueError(f"dataformats {dataformats!r} does not describe a batch of "
                                   f"shape {batch.shape}; expected NCHW, NHWC or NHW")
        batch = np.moveaxis(batch, dataformats.index("N"), 0)
        images = [_hwc(image, dataformats.replace("N", "")) for image in batch]
        if not images:
            raise LaminaValueError(f"add_images({tag!r}) got an empty batch")
        columns = min(len(images), 8)
        rows = math.ceil(len(images) / columns)
        height, width, channels = images[0].shape
        grid = np.zeros((rows * height, columns * width, channels), images[0].dtype)
        for k, image in enumerate(images):
            r, c = divmod(k, columns)
            grid[r * height:(r + 1) * height, c * width:(c + 1) * width] = image
        self.add_image(tag, grid, global_step, walltime, dataformats="HWC")

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """A (Markdown) text, shown by TensorBoard's text plugin under ``tag/text_summary``."""
        tensor = self._tensor("DT_STRING", string_val=[str(text_string).encode("utf-8")])
        summary = self._summary_pb2.Summary.Value(tag=f"{tag}/text_summary", tensor=tensor,
                                                  metadata=self._metadata("text"))
        self._add([summary], global_step, walltime)

    # -------------------------------------------------------------------- lifetime
    def flush(self) -> None:
        """Write every queued event to disk."""
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files (a later ``add_*`` opens new ones)."""
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.all_writers = {}

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
