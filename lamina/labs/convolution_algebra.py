"""The algebra behind the cnn-filters lab (Grohs, "Introduction to (Convolutional) Neural
Networks", "Convolutional Neural Networks"): conv2d is cross-correlation, the lecture's
convolution flips the kernel, and a convolution is a matrix product (doubly block
circulant with periodic padding, doubly block Toeplitz with zero padding).
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..nn import functional as F

__all__ = ["VERTICAL_EDGE", "ASYMMETRIC", "TOLERANCE", "cross_correlate", "lecture_convolution",
           "circulant_matrix", "toeplitz_matrix", "is_doubly_block_circulant", "conv_algebra"]

#: Grohs's vertical-edge filter (Introduction to (Convolutional) Neural Networks), rows top to bottom (conv2d's weight[0, 0] layout).
VERTICAL_EDGE = np.array([[-1.0, 2.0, -1.0],
                          [-1.0, 2.0, -1.0],
                          [-1.0, 2.0, -1.0]], dtype=np.float32)

#: An asymmetric 3x3 kernel: K != K[::-1, ::-1] and K != K.T, so a flip cannot hide.
ASYMMETRIC = np.array([[1.0, 2.0, 0.0],
                       [0.0, -1.0, 3.0],
                       [-2.0, 0.0, 1.0]])
TOLERANCE = 1e-12  # float64: "equal" means this close


def cross_correlate(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Z[i, j] = sum_{k,l} X[i+k, j+l] K[k, l] over the valid region, in NumPy (one shifted
    slice per kernel offset): what conv2d is claimed to compute."""
    kh, kw = kernel.shape
    h, w = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    z = np.zeros((h, w), dtype=np.result_type(x, kernel))
    for k in range(kh):
        for l in range(kw):
            z += kernel[k, l] * x[k:k + h, l:l + w]
    return z


def lecture_convolution(x: np.ndarray, kernel: np.ndarray, periodic: bool = True) -> np.ndarray:
    """Grohs's Z[i, j] = sum_{k,l} X[i-k, j-l] K[k, l] for every (i, j) of X's shape, with X
    periodized (``periodic``) or zero-padded where i - k or j - l leaves it."""
    z = np.zeros(x.shape, dtype=np.result_type(x, kernel))
    n1, n2 = x.shape
    for k in range(kernel.shape[0]):
        for l in range(kernel.shape[1]):
            if periodic:
                # shifted[i, j] = X[(i - k) mod n1, (j - l) mod n2]
                shifted = np.roll(x, (k, l), axis=(0, 1))
            else:
                shifted = np.zeros_like(x)
                shifted[k:, l:] = x[:n1 - k, :n2 - l]
            z += kernel[k, l] * shifted
    return z


def circulant_matrix(kernel: np.ndarray, shape: tuple) -> np.ndarray:
    """C with vec(X * K) = C vec(X) for the periodized convolution of (n1, n2) images
    (row-major vec): C[(i,j), (p,q)] = K[(i-p) mod n1, (j-q) mod n2], K zero outside its
    support. Built from K's entries alone."""
    n1, n2 = shape
    c = np.zeros((n1 * n2, n1 * n2), dtype=kernel.dtype)
    i, j = np.indices(shape)
    rows = (i * n2 + j).ravel()
    for k in range(kernel.shape[0]):
        for l in range(kernel.shape[1]):
            cols = (((i - k) % n1) * n2 + (j - l) % n2).ravel()
            c[rows, cols] += kernel[k, l]
    return c


def toeplitz_matrix(kernel: np.ndarray, shape: tuple) -> np.ndarray:
    """T with vec(cross_correlate(X, K)) = T vec(X) for (n1, n2) images, no padding:
    T[(i,j), (i+k, j+l)] = K[k, l], an (h w) x (n1 n2) doubly block Toeplitz matrix."""
    n1, n2 = shape
    kh, kw = kernel.shape
    h, w = n1 - kh + 1, n2 - kw + 1
    t = np.zeros((h * w, n1 * n2), dtype=kernel.dtype)
    i, j = np.indices((h, w))
    rows = (i * w + j).ravel()
    for k in range(kh):
        for l in range(kw):
            t[rows, ((i + k) * n2 + j + l).ravel()] = kernel[k, l]
    return t


def is_doubly_block_circulant(c: np.ndarray, n1: int, n2: int) -> bool:
    """Whether the (n1 n2)^2 matrix is block circulant (block (I, P) depends on (I - P) mod
    n1 only) with circulant n2 x n2 blocks."""
    blocks = c.reshape(n1, n2, n1, n2).transpose(0, 2, 1, 3)  # blocks[I, P] is n2 x n2
    first = blocks[0]
    for big in range(n1):
        if not np.array_equal(blocks[big], np.roll(first, big, axis=0)):
            return False
    for block in first:
        for small in range(n2):
            if not np.array_equal(block[small], np.roll(block[0], small)):
                return False
    return True


def _conv2d64(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """lamina's F.conv2d of one float64 image with one kernel (no padding)."""
    out = F.conv2d(Tensor._wrap(x[None, None]), Tensor._wrap(kernel[None, None]))
    return out._data[0, 0]


def conv_algebra(n: int = 6, seed: int = 0) -> list:
    """The comparisons behind "conv2d is cross-correlation" and "a convolution is a matrix
    product", on a random float64 n x n image: a list of (key, description, max |difference|,
    or for the structure checks 0.0 when the property holds and 1.0 when it does not)."""
    x = np.random.default_rng(seed).standard_normal((n, n))
    k = ASYMMETRIC
    kh, kw = k.shape
    lamina_valid = _conv2d64(x, k)
    lecture_zero = lecture_convolution(x, k, periodic=False)[kh - 1:, kw - 1:]
    lecture_periodic = lecture_convolution(x, k, periodic=True)
    padded = F.pad(Tensor._wrap(x[None, None]), (kw - 1, 0, kh - 1, 0), mode="circular")._data[0, 0]
    flipped = np.ascontiguousarray(k[::-1, ::-1])
    c, t = circulant_matrix(k, (n, n)), toeplitz_matrix(k, (n, n))
    w = VERTICAL_EDGE.astype(np.float64)
    err = lambda a, b: float(np.max(np.abs(a - b)))  # noqa: E731
    return [
        ("corr", "F.conv2d(X, K) vs NumPy cross-correlation sum_{k,l} X[i+k, j+l] K[k, l]",
         err(lamina_valid, cross_correlate(x, k))),
        ("conv", "F.conv2d(X, K) vs the lecture's convolution sum_{k,l} X[i-k, j-l] K[k, l] "
                 "(valid part)", err(lamina_valid, lecture_zero)),
        ("flipped", "F.conv2d(X, K turned 180 degrees) vs the lecture's convolution (valid part)",
         err(_conv2d64(x, flipped), lecture_zero)),
        ("symmetric", "Grohs's W: F.conv2d(X, W) vs the lecture's X * W (W = W turned 180 "
                      "degrees, so the flip is invisible)",
         err(_conv2d64(x, w), lecture_convolution(x, w, periodic=False)[2:, 2:])),
        ("circulant", f"C vec(X) vs vec(X * K), periodized ({n * n}x{n * n} circulant C from K)",
         err((c @ x.ravel()).reshape(n, n), lecture_periodic)),
        ("circulant_conv2d", "C vec(X) vs F.conv2d(circular pad of X, K turned 180 degrees)",
         err((c @ x.ravel()).reshape(n, n), _conv2d64(padded, flipped))),
        ("circulant_structure", "C is doubly block circulant (0 = yes, 1 = no)",
         0.0 if is_doubly_block_circulant(c, n, n) else 1.0),
        ("toeplitz", f"T vec(X) vs F.conv2d(X, K), zero padding ({t.shape[0]}x{t.shape[1]} "
                     "doubly block Toeplitz T)", err((t @ x.ravel()).reshape(lamina_valid.shape),
                                                      lamina_valid)),
    ]
