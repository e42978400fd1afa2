r"""Compressing what workers send: top-k sparsification with error feedback, 8-bit quantisation.

A worker that made local updates from θ to θ_i sends the *delta* :math:`\Delta_i = \theta_i - \theta`
instead of θ_i, compressed:

* **top-k** (``topk=k``, k in (0, 1]): per array, only the fraction k of entries with the
  largest magnitude, as int32 indices and float32 values (8 bytes per kept entry instead
  of 4 per entry: k < 1/2 saves bytes);
* **8-bit** (``quantize=True``): per array, a float32 scale :math:`s = \max|v|/127` and
  :math:`q = \mathrm{round}(v/s)` as int8 (1 byte per entry instead of 4).

Both together: top-k, then the kept values in 8 bits.

**Error feedback** (Seide et al. 2014; Stich et al., "Sparsified SGD with memory", 2018;
Karimireddy et al. 2019): what compression dropped is not lost but kept by the slot
in a residual :math:`e_i` and added to its next delta:

.. math:: c = C(\Delta_i + e_i), \qquad e_i \leftarrow \Delta_i + e_i - c .

The driver rebuilds :math:`\theta + c` and merges it like uncompressed parameters. With
k = 1 and no quantisation nothing is dropped (e = 0) and the run equals the
uncompressed one up to float32 rounding of the delta. The residual lives with the slot's
agent on its worker: a worker that dies loses it (the dropped mass of at most one delta).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class CompressedDelta:
    """A slot's compressed parameter delta: ``arrays[key]`` is ``(indices or None, values, scale or None)``
    and ``shapes[key]`` the array's shape; keys absent from ``arrays`` are not floating point and
    keep the driver's value."""

    arrays: dict[str, tuple[np.ndarray | None, np.ndarray, np.ndarray | None]]
    shapes: dict[str, tuple[int, ...]]


def check_topk(topk: Any) -> float | None:
    """``topk`` as a float in (0, 1], or None; a clear error otherwise."""
    if topk is None:
        return None
    if isinstance(topk, bool) or not isinstance(topk, int | float) or not 0 < float(topk) <= 1:
        raise ValueError(f"topk must be the fraction of entries kept, a number in (0, 1]; got {topk!r}")
    return float(topk)


def compress(delta: dict[str, np.ndarray], topk: float | None, quantize: bool) -> CompressedDelta:
    """Compress every floating-point array of ``delta`` (module docstring)."""
    arrays: dict[str, tuple[np.ndarray | None, np.ndarray, np.ndarray | None]] = {}
    shapes = {}
    for key, value in delta.items():
        value = np.asarray(value)
        if not np.issubdtype(value.dtype, np.floating):
            continue
        flat = value.reshape(-1).astype(np.float32)
        shapes[key] = tuple(value.shape)
        indices = None
        if topk is not None and topk < 1.0:
            keep = max(1, int(np.ceil(topk * flat.size))) if flat.size else 0
            indices = np.argpartition(-np.abs(flat), keep - 1)[:keep].astype(np.int32) if keep else flat[:0]
            indices = np.sort(indices).astype(np.int32)
            flat = flat[indices]
        scale = None
        if quantize:
            peak = float(np.abs(flat).max()) if flat.size else 0.0
            scale = np.array(peak / 127.0 if peak > 0 else 1.0, dtype=np.float32)
            flat = np.clip(np.rint(flat / scale), -127, 127).astype(np.int8)
        arrays[key] = (indices, flat, scale)
    return CompressedDelta(arrays, shapes)


def decompress(compressed: CompressedDelta) -> dict[str, np.ndarray]:
    """The dense float32 delta a :class:`CompressedDelta` stands for (zeros where entries were dropped)."""
    dense = {}
    for key, (indices, values, scale) in compressed.arrays.items():
        shape = compressed.shapes[key]
        decoded = values.astype(np.float32) * scale if scale is not None else values.astype(np.float32)
        if indices is None:
            dense[key] = decoded.reshape(shape)
        else:
            full = np.zeros(int(np.prod(shape)), dtype=np.float32)
            full[indices] = decoded
            dense[key] = full.reshape(shape)
    return dense


def compress_with_feedback(
    start: dict[str, np.ndarray],
    end: dict[str, np.ndarray],
    residual: dict[str, np.ndarray] | None,
    topk: float | None,
    quantize: bool,
) -> tuple[CompressedDelta, dict[str, np.ndarray]]:
    """Compress ``end - start`` plus ``residual``; return it and the new residual (module docstring)."""
    delta = {}
    for key, value in end.items():
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            d = np.asarray(value, dtype=np.float32) - np.asarray(start[key], dtype=np.float32)
            if residual is not None and key in residual:
                d = d + residual[key]
            delta[key] = d
    compressed = compress(delta, topk, quantize)
    sent = decompress(compressed)
    return compressed, {key: delta[key] - sent[key] for key in delta}


def expand(output: Any, base: dict[str, np.ndarray]) -> Any:
    """A worker's output as parameters: ``base + delta`` for a :class:`CompressedDelta`
    (float64 sum, cast back), anything else unchanged."""
    if not isinstance(output, CompressedDelta):
        return output
    dense = decompress(output)
    params = {}
    for key, value in base.items():
        if key in dense:
            params[key] = (np.asarray(value, dtype=np.float64) + dense[key]).astype(value.dtype)
        else:
            params[key] = np.array(value, copy=True)
    return params
