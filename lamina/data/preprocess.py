"""Fitting an ordinary picture of one character to a model, the way its training set was made.

A model trained on MNIST has only ever seen digits prepared in one particular way, and a
picture prepared differently (dark ink on white paper, a small digit in a large image, a
digit in a corner) is outside everything it has learned, however clear it looks to a person.
:func:`preprocess` repeats the preparation of the training set on the picture:

* **MNIST** (LeCun, Cortes and Burges): NIST's black-and-white digits were size-normalised to
  fit a 20x20 box with their aspect ratio kept (the anti-aliasing of that scaling gives the
  grey levels), then placed in a 28x28 image so that their centre of mass lies at its centre.
  Light ink on a black background.
* **Fashion-MNIST** (Xiao, Rasul and Vollgraf): each product photo was trimmed to the object,
  its longest edge resized to 28 pixels, the result centred on a 28x28 canvas and negated
  (a light object on black).
* **the UCI optdigits** (lamina's :class:`~lamina.data.Digits`): NIST's normalised 32x32
  bitmaps, in which the digit fills the height of the frame and is centred across it,
  reduced to 8x8 by counting the "on" pixels of each 4x4 block. At 8x8 the centring is
  best seen in the centre of mass: every one of the 1,797 digits spans all 8 rows, and the
  column of its centre of mass is 3.57 +- 0.30 (the frame's centre is 3.5), while its
  bounding box sits at columns 1-6 for most but not all.

The common first step, :func:`ink`, finds the background (the median of the border, or the
uniform frame of a picture saved inside white margins), inverts a light background so that the
ink is bright, and stretches the ink to [0, 1] over a black (0) background. The picture is then
cropped to the ink's bounding box, scaled (anti-aliased, aspect ratio kept) and placed as its
training set's images were (moved back inside the frame where the rule would push ink out).

>>> import numpy as np
>>> page = np.ones((200, 200), np.float32)      # white paper
>>> page[40:60, 50:150] = 0.0                   # a black bar...
>>> page[60:170, 120:140] = 0.0                 # ...and a stem: a rough "7"
>>> image, how = preprocess(page, "mnist")
>>> image.shape, float(image.max())
((28, 28), 1.0)
"""
from __future__ import annotations

import numpy as np

from ..errors import LaminaValueError

__all__ = ["STYLES", "style_for", "preprocess", "ink", "resize", "bounding_box",
           "centre_of_mass"]

# name: (frame size, size of the box the ink is scaled into, how it is placed down and
# across (centred by its bounding box or by its centre of mass), whether the ink is stretched
# to full brightness (digits are strokes of one ink; a product's grey levels are its
# colours), whose images these rules made)
STYLES = {
    "mnist": (28, 20, ("mass", "mass"), True, "MNIST's digits"),
    "fashion-mnist": (28, 28, ("box", "box"), False, "Fashion-MNIST's images"),
    "digits": (8, 8, ("box", "mass"), True, "the optdigits digits"),
}
_PLACEMENT = {("mass", "mass"): "centred by its centre of mass",
              ("box", "box"): "centred",
              ("box", "mass"): "centred across by its centre of mass"}

_TOLERANCE = 0.1   # grey levels closer than this to the background count as background


def style_for(dataset: str, in_shape: tuple) -> str | None:
    """The preparation a run's training images had, from its data set name and input shape:
    'digits' for lamina's 8x8 digits, 'fashion-mnist', 'mnist' for any other single-channel
    28x28 data set (MNIST and the sets built like it: EMNIST, Kuzushiji-MNIST, ...), None for
    anything else (colour images, flat inputs, other sizes)."""
    shape = tuple(int(s) for s in in_shape)
    if dataset == "digits" and shape == (1, 8, 8):
        return "digits"
    if shape == (1, 28, 28):
        return "fashion-mnist" if dataset == "fashion-mnist" else "mnist"
    return None


def _filter(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) matrix of an anti-aliased linear resampling along one axis.

    Output pixel i has its centre at c_i = (i + 1/2) n_in/n_out - 1/2 in input coordinates and
    averages the inputs with the triangle weights max(0, 1 - |x - c_i|/s), s = max(1, n_in/n_out),
    normalised to sum 1: linear interpolation when enlarging, an average over the footprint of
    the output pixel when shrinking (so thin strokes fade rather than vanish)."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    weights = np.clip(1.0 - np.abs(np.arange(n_in)[None, :] - centres[:, None]) / support,
                      0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` (H, W) or (C, H, W) resampled to ``height`` x ``width`` (see :func:`_filter`);
    the same size gives the image back unchanged."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape[-2:] == (height, width):
        return image
    rows = _filter(image.shape[-2], height).astype(np.float32)
    cols = _filter(image.shape[-1], width).astype(np.float32)
    return np.ascontiguousarray(rows @ image @ cols.T, dtype=np.float32)


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), bottom and right exclusive, of the True pixels of a 2-D
    mask; None when there are none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean position sum_p I(p) p / sum_p I(p)."""
    total = float(image.sum())
    if total <= 0.0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = float((image.sum(axis=1) * np.arange(image.shape[0])).sum()) / total
    cols = float((image.sum(axis=0) * np.arange(image.shape[1])).sum()) / total
    return rows, cols


def _border(image: np.ndarray) -> np.ndarray:
    return np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])


def _framed_picture(grey: np.ndarray, background: float):
    """The picture inside a uniform margin (a digit shown with imshow and saved with white
    margins): the bounding box of what differs from the margin, when that box has a uniform
    border of another grey level and something inside it; else None."""
    box = bounding_box(np.abs(grey - background) > _TOLERANCE)
    if box is None:
        return None
    inner = grey[box[0]:box[1], box[2]:box[3]]
    if min(inner.shape) < 4 or inner.shape == grey.shape:
        return None
    edge = _border(inner)
    level = float(np.median(edge))
    uniform = float(np.mean(np.abs(edge - level) <= _TOLERANCE)) >= 0.9
    content = bool((np.abs(inner[1:-1, 1:-1] - level) > _TOLERANCE).any())
    if abs(level - background) > 0.5 and uniform and content:
        return inner, level
    return None


def ink(grey: np.ndarray, stretch: bool = True) -> tuple[np.ndarray, list[str]]:
    """A grey picture (H, W) in [0, 1] as light ink on a black background, and what was
    done (a list of phrases). The background becomes 0 and, with ``stretch``, the brightest
    ink 1: (g - b) / (max g - b); without, full brightness stays 1: (g - b) / (1 - b).

    The background b is the median grey level of the border; a picture that sits inside a
    uniform margin of another level is taken out of the margin first. A light background
    (above 1/2) is inverted. The paper's noise (up to three times the border's median
    distance from b) becomes 0, so that everything left above 0 is ink. A picture with no
    ink (everything within 0.1 of the background) comes back as zeros."""
    grey = np.asarray(grey, dtype=np.float32)
    if grey.ndim != 2:
        raise LaminaValueError(f"ink: expected one grey image (H, W), got shape {grey.shape}")
    done: list[str] = []
    background = float(np.median(_border(grey)))
    framed = _framed_picture(grey, background)
    if framed is not None:
        grey, background = framed
        done.append(f"taken out of its margins ({grey.shape[1]}x{grey.shape[0]} pixels)")
    if background > 0.5:
        grey, background = 1.0 - grey, 1.0 - background
        done.append("inverted (dark ink on a light background)")
    top = float(grey.max())
    if top - background <= _TOLERANCE:
        done.append("no ink found (the picture is uniform)")
        return np.zeros_like(grey), done
    full = top if stretch else 1.0
    # the median, not a high percentile: ink may touch the border (optdigits' always does)
    noise = 3.0 * float(np.median(np.abs(_border(grey) - background)))
    light = np.clip((grey - background) / (full - background), 0.0, 1.0)
    light[light <= noise / (full - background)] = 0.0
    return light, done


def _fit_box(height: int, width: int, box: int) -> tuple[int, int]:
    """The size of a height x width picture scaled so that its longer side is ``box``."""
    if height >= width:
        return box, max(1, min(box, round(box * width / height)))
    return max(1, min(box, round(box * height / width))), box


def _digits_size(height: int, width: int, frame: int) -> tuple[int, int]:
    """optdigits: the height fills the frame, the width follows (at most the frame)."""
    new_width = round(frame * width / height)
    if new_width <= frame:
        return frame, max(1, new_width)
    return max(1, round(frame * height / width)), frame


def _place(canvas: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    """Paste ``patch`` with its corner at (top, left), clipped to the canvas."""
    h, w = patch.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, canvas.shape[0]), min(left + w, canvas.shape[1])
    if r1 > r0 and c1 > c0:
        canvas[r0:r1, c0:c1] = patch[r0 - top:r1 - top, c0 - left:c1 - left]


def preprocess(grey: np.ndarray, style: str) -> tuple[np.ndarray, str]:
    """``grey`` (H, W) in [0, 1], any size and polarity, prepared as the images of ``style``
    (a key of :data:`STYLES`) were: a (size, size) float32 array, and one sentence saying
    what was done.

    The ink (see :func:`ink`) is cropped to its bounding box, scaled with
    its aspect ratio kept until its longer side is the style's box (for 'digits': until its
    height fills the frame), for digits stretched so its brightest pixel is 1 (a product
    keeps its grey levels), and placed in the frame:
    with its centre of mass at the frame's centre ('mnist'; 'digits' across), or centred by
    its bounding box ('fashion-mnist'; 'digits' down), and kept inside the frame."""
    if style not in STYLES:
        raise LaminaValueError(f"unknown preprocessing style {style!r}; expected one of "
                               f"{', '.join(STYLES)}")
    frame, box_size, placement, stretch, source = STYLES[style]
    light, done = ink(grey, stretch)
    canvas = np.zeros((frame, frame), np.float32)
    box = bounding_box(light > 0.0)
    if box is None:
        return canvas, "; ".join(done + ["given to the model as a blank image"])
    crop = light[box[0]:box[1], box[2]:box[3]]
    size = (_digits_size(*crop.shape, frame) if style == "digits"
            else _fit_box(*crop.shape, box_size))
    patch = resize(crop, *size)
    peak = float(patch.max())
    if stretch and peak > 0.0:
        patch = np.clip(patch / peak, 0.0, 1.0)
    mass = centre_of_mass(patch)
    corner = []
    for axis, rule in enumerate(placement):
        # an odd margin leaves its extra pixel before the box, as Fashion-MNIST's does
        start = (round((frame - 1) / 2 - mass[axis]) if rule == "mass"
                 else (frame - size[axis] + 1) // 2)
        corner.append(int(min(max(start, 0), frame - size[axis])))
    _place(canvas, patch, *corner)
    done.append(f"cropped to the ink ({crop.shape[1]}x{crop.shape[0]} pixels), scaled to "
                f"{size[1]}x{size[0]} and {_PLACEMENT[placement]} in {frame}x{frame}, "
                f"as {source} were made")
    return canvas, "; ".join(done)
