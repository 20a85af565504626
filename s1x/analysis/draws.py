"""The question indices ``scipy.stats.bootstrap`` draws, block by block and faster than numpy's own call.

scipy draws ``np.random.default_rng(seed).integers(0, n, (n_resamples, n))``.
For a range below 2**32 numpy turns each 64-bit output of the generator into
two 32-bit words (low half first) and maps each word ``u`` to
``(u * n) >> 32``, redrawing the rare words whose low product bits fall under
``(2**32 - n) % n`` (Lemire's method). numpy does that one element at a time
(about 2 ns each: 10 ms of a 10,000 x 500 bootstrap); here it is a few
vectorised passes over raw generator output, one cache-sized block of
resamples at a time, so the indices never exist all at once. Where a core is
idle, the raw output of the next block is drawn in a second thread meanwhile.

The fast path is used only where it is checked to give numpy's exact draws:
once per process it is compared with ``Generator.integers`` on a small range
and on one where a quarter of the words are redrawn; otherwise (another numpy,
a big-endian machine) the blocks come from ``Generator.integers`` itself, which
continues the same stream across calls.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Iterator

import numpy as np

# Indices per block: 196 resamples x 500 questions is 784 KB, which stays in L2 here; measured here,
# smaller blocks cost more in per-block overhead (and thread hand-overs), larger ones in cache misses.
BLOCK_ELEMENTS = 3 << 15

# Draws from which a second thread drawing ahead pays for itself (a 10,000 x 500 bootstrap is 5e6).
PREFETCH_ELEMENTS = 1 << 20

_SHIFT = np.uint64(32)


@lru_cache(maxsize=1)
def _drawing_thread() -> ThreadPoolExecutor:
    """One worker thread for the process, started on first use (starting one per call costs more
    than the prefetch saves on a small bootstrap)."""
    return ThreadPoolExecutor(1, thread_name_prefix="s1x-bootstrap-draws")


def _raw_chunks(bits, size: int, prefetch: bool) -> Iterator[np.ndarray]:
    """The generator's raw 64-bit output, ``size`` at a time, endlessly. With ``prefetch`` the next
    chunk is drawn in a worker thread while the caller works on this one. Only the drawing moves
    there: measured here, any numpy work added to the thread made the whole slower, not faster. The
    stream, and so every draw, is the same either way."""
    if not prefetch:
        while True:
            yield bits.random_raw(size)
    ahead = _drawing_thread().submit(bits.random_raw, size)
    while True:
        raw = ahead.result()
        ahead = _drawing_thread().submit(bits.random_raw, size)
        yield raw


def _lemire_blocks(rng: np.random.Generator, high: int, n_rows: int, width: int,
                   rows: int, prefetch: bool) -> Iterator[np.ndarray]:
    """Blocks of ``rows`` rows of ``rng.integers(0, high, (n_rows, width))`` (a bootstrap: high = width = n)."""
    scale = np.uint64(high)
    threshold = (2**32 - high) % high
    # Raw outputs are taken in fixed chunks of one block's worth (two words each); the accepted draws
    # beyond a block wait in ``pending`` for the next, so the chunking never changes the draws.
    chunks = _raw_chunks(rng.bit_generator, max(1, (rows * width + 1) // 2), prefetch)
    pending = np.empty(0, np.uint64)
    for start in range(0, n_rows, rows):
        count = min(rows, n_rows - start) * width
        parts, have = [pending] if len(pending) else [], len(pending)
        while have < count:
            products = np.multiply(next(chunks).view(np.uint32), scale, dtype=np.uint64)
            low = products.view(np.uint32)[0::2]  # the low 32 bits of each product (little-endian)
            if threshold and low.min() < threshold:
                products = products[low >= threshold]  # redrawn words: the next ones take their place
            np.right_shift(products, _SHIFT, out=products)
            parts.append(products)
            have += len(products)
        flat = parts[0] if len(parts) == 1 else np.concatenate(parts)
        pending = flat[count:]
        yield flat[:count].view(np.int64).reshape(-1, width)


def _numpy_blocks(rng: np.random.Generator, high: int, n_rows: int, width: int, rows: int) -> Iterator[np.ndarray]:
    for start in range(0, n_rows, rows):
        yield rng.integers(0, high, (min(rows, n_rows - start), width))


def draw_blocks(high: int, n_rows: int, width: int, seed: int, rows: int, fast: bool = True,
                prefetch: bool | None = None) -> Iterator[np.ndarray]:
    """Consecutive row blocks of ``np.random.default_rng(seed).integers(0, high, (n_rows, width))``,
    vectorised when ``fast`` (and possible), else from ``Generator.integers`` block by block.
    ``prefetch`` (default: :func:`worth_prefetching`) draws the generator's output in a second thread."""
    rng = np.random.default_rng(seed)
    if fast and 1 < high < 2**32 and sys.byteorder == "little":
        if prefetch is None:
            prefetch = worth_prefetching(n_rows * width)
        return _lemire_blocks(rng, high, n_rows, width, rows, prefetch)
    return _numpy_blocks(rng, high, n_rows, width, rows)  # high 1: numpy draws nothing at all


def worth_prefetching(elements: int) -> bool:
    """Whether drawing in a second thread pays: a large draw, and a core that is idle now (on a
    loaded machine the thread would only take turns with the work it is meant to overlap)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average: no second thread there
        return False
    return elements >= PREFETCH_ELEMENTS and cores > 1 and load < cores - 1


@lru_cache(maxsize=1)
def fast_path_matches_numpy() -> bool:
    """Whether the vectorised draws equal ``Generator.integers`` here (checked once per process)."""
    for high, n_rows, width, rows in ((7, 50, 7, 3), (500, 40, 500, 16), (3 * 2**30, 30, 9, 7)):  # 25% redrawn
        ours = np.concatenate(list(draw_blocks(high, n_rows, width, 12345, rows)))
        if not np.array_equal(ours, np.random.default_rng(12345).integers(0, high, (n_rows, width))):
            return False
    return True


def index_blocks(n: int, n_resamples: int, seed: int, rows: int | None = None) -> Iterator[np.ndarray]:
    """Consecutive row blocks of ``np.random.default_rng(seed).integers(0, n, (n_resamples, n))``:
    the question indices of scipy's paired bootstrap."""
    rows = rows or max(1, BLOCK_ELEMENTS // n)
    return draw_blocks(n, n_resamples, n, seed, rows, fast=fast_path_matches_numpy())
