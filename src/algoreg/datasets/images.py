"""Grey-scale images shipped inside scikit-image as matrix completion problems.

Images (no download: these files are in scikit-image's wheel): the photographs ``camera``,
``moon`` (512 × 512), ``coins`` (303 × 384), ``text`` (172 × 448), ``page`` (191 × 384),
``brick``, ``grass``, ``gravel`` (512 × 512), and ``faces``: the 200 faces of ``lfw_subset``
(25 × 25 pixels each) as the rows of a 200 × 625 matrix.

Intensity scale (``scale``): ``"unit"`` (default) maps the image to [0, 1] (uint8 / 255; faces are
already in [0, 1]); ``"rms"`` divides the unit-scaled image by its root-mean-square entry, so
that ‖X‖_F = √(mn) like the synthetic truths; ``"none"`` keeps the stored values (0–255 for the
photographs). ``shape`` resizes a photograph (anti-aliased, scikit-image's ``resize``) before
scaling, e.g. ``(128, 128)`` to make deep factorizations cheap.

scikit-image is an optional extra (``pip install algoreg[images]``) and matplotlib (for
:func:`completion_figure`) another (``algoreg[plot]``); both are imported when first needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, check_choice, check_int, check_real, check_shape
from ..problems.completion import CompletionProblem, uniform_mask

PHOTOS = ("camera", "moon", "coins", "text", "page", "brick", "grass", "gravel")
IMAGES = (*PHOTOS, "faces")
SCALES = ("unit", "rms", "none")
PATTERNS = ("random", "blocks")


def _skimage():
    try:
        import skimage.data
        import skimage.transform
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError("images need scikit-image: pip install 'algoreg[images]'") from None
    return skimage


def image(
    name: str = "camera", *, shape: tuple[int, int] | None = None, scale: str = "unit"
) -> np.ndarray:
    """Image ``name`` as a float64 matrix (see the module docstring for ``shape``/``scale``)."""
    check_choice("name", name, IMAGES)
    check_choice("scale", scale, SCALES)
    sk = _skimage()
    if name == "faces":
        if shape is not None:
            raise ConfigError("shape applies to photographs; faces is a fixed 200 × 625 matrix")
        faces = np.asarray(sk.data.lfw_subset(), dtype=np.float64)
        X, peak = faces.reshape(faces.shape[0], -1), 1.0
    else:
        raw = getattr(sk.data, name)()
        if raw.ndim != 2:  # pragma: no cover - every listed photograph is grey-scale
            raise ConfigError(f"image {name!r} is not grey-scale (shape {raw.shape})")
        peak = float(np.iinfo(raw.dtype).max) if raw.dtype.kind in "ui" else 1.0
        X = np.asarray(raw, dtype=np.float64)
        if shape is not None:
            shape = check_shape("shape", shape)
            X = sk.transform.resize(X, shape, anti_aliasing=True, preserve_range=True)
    if scale == "none":
        return X
    X = X / peak
    if scale == "rms":
        X = X / np.sqrt(np.mean(X**2))
    return X


def block_mask(shape: tuple[int, int], fraction: float, block: int, seed: Any) -> np.ndarray:
    """Boolean mask observing about ``fraction`` of the entries, missing whole blocks.

    The matrix is tiled by ``block`` × ``block`` tiles (smaller at the right and bottom edges);
    tiles are removed in a random order until the observed fraction is as close as possible to
    ``fraction`` (within half a tile: |observed − fraction| ≤ block²/(2mn)).
    """
    m, n = check_shape("shape", shape)
    block = check_int("block", block, low=1)
    fraction = check_real("fraction", fraction, low=0.0, high=1.0, low_open=True)
    tiles = [(i, j) for i in range(0, m, block) for j in range(0, n, block)]
    sizes = np.array([(min(block, m - i)) * (min(block, n - j)) for i, j in tiles])
    order = np.random.default_rng(seed).permutation(len(tiles))
    missing = np.concatenate([[0], np.cumsum(sizes[order])])  # after removing k tiles
    target = (1.0 - fraction) * m * n
    k = int(np.argmin(np.abs(missing - target)))
    if missing[k] == m * n:
        k -= 1  # keep at least one tile observed
    mask = np.ones((m, n), dtype=bool)
    for t in order[:k]:
        i, j = tiles[t]
        mask[i : i + block, j : j + block] = False
    return mask


def image_completion(
    name: str = "camera",
    *,
    fraction: float = 0.5,
    pattern: str = "random",
    block: int = 16,
    shape: tuple[int, int] | None = None,
    scale: str = "unit",
    noise: float = 0.0,
    seed: int = 0,
) -> CompletionProblem:
    """Image ``name`` as a completion problem observing ``fraction`` of its entries.

    ``pattern="random"``: round(fraction·mn) entries drawn uniformly (exact count, nested in
    ``fraction`` for a fixed seed); ``"blocks"``: whole ``block`` × ``block`` tiles missing
    (:func:`block_mask`). ``noise`` adds N(0, noise²) to the observed entries. The problem's
    ``test_error`` is the relative error on the missing entries; see :func:`psnr` for PSNR.
    """
    check_choice("pattern", pattern, PATTERNS)
    fraction = check_real("fraction", fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    noise = check_real("noise", noise, low=0.0)
    seed = check_int("seed", seed, low=0)
    truth = image(name, shape=shape, scale=scale)
    mask_ss, noise_ss = np.random.SeedSequence(seed).spawn(2)
    if pattern == "random":
        n_obs = max(1, round(fraction * truth.size))
        mask = uniform_mask(truth.shape, n_obs, mask_ss)
    else:
        mask = block_mask(truth.shape, fraction, block, mask_ss)
    observed = truth + noise * np.random.default_rng(noise_ss).standard_normal(truth.shape)
    return CompletionProblem(truth, mask, observed, noise=noise, seed=seed)


def psnr(
    truth: np.ndarray,
    estimate: np.ndarray,
    *,
    data_range: float | None = None,
    mask: np.ndarray | None = None,
) -> float:
    """Peak signal-to-noise ratio 10·log10(R² / MSE) in dB.

    MSE is the mean of (estimate − truth)² over the entries where ``mask`` is true (all entries
    by default); R = ``data_range``, by default max(truth) − min(truth) over the whole image.
    ``inf`` when the estimate is exact.
    """
    truth = np.asarray(truth, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    if truth.shape != estimate.shape:
        raise ConfigError(f"estimate shape {estimate.shape} differs from truth {truth.shape}")
    R = float(truth.max() - truth.min()) if data_range is None else data_range
    R = check_real("data_range", R, low=0.0, low_open=True)
    diff = estimate - truth
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != truth.shape or not mask.any():
            raise ConfigError("mask must have the truth's shape and select at least one entry")
        diff = diff[mask]
    mse = float(np.mean(diff**2))
    return float("inf") if mse == 0 else float(10 * np.log10(R**2 / mse))


def completion_figure(
    truth: np.ndarray,
    mask: np.ndarray,
    completions: Mapping[str, np.ndarray],
    *,
    path: str | Path | None = None,
    panel_width: float = 3.0,
):
    """Figure with the truth, the observed entries (missing ones in red) and each completion.

    ``completions`` maps a method's name to its completed matrix; each panel's title gives its
    PSNR over all entries and over the missing ones (R = max − min of the truth). Grey levels
    are shared (the truth's range; completions are clipped to it for display only). Saved to
    ``path`` if given (format from the suffix); returns the matplotlib ``Figure`` (drawn with
    the Agg canvas; pyplot and its global state are not used).
    """
    try:
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError("figures need matplotlib: pip install 'algoreg[plot]'") from None
    truth = np.asarray(truth, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != truth.shape:
        raise ConfigError(f"mask shape {mask.shape} differs from truth shape {truth.shape}")
    lo, hi = float(truth.min()), float(truth.max())
    panels = [("truth", truth), (f"observed ({mask.mean():.0%})", np.where(mask, truth, np.nan))]
    for name, X in completions.items():
        X = np.asarray(X, dtype=np.float64)
        if X.shape != truth.shape:
            raise ConfigError(f"completion {name!r} has shape {X.shape}, truth {truth.shape}")
        title = f"{name}\nPSNR {psnr(truth, X):.1f} dB"
        if not mask.all():
            title += f" (missing {psnr(truth, X, mask=~mask):.1f})"
        panels.append((title, X))
    m, n = truth.shape
    height = panel_width * m / n + 0.8
    fig = Figure(figsize=(panel_width * len(panels), height), layout="constrained")
    FigureCanvasAgg(fig)
    cmap = colormaps["gray"].with_extremes(bad="tab:red")
    for ax, (title, X) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        ax.imshow(X, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
