"""Figures of the user guide, drawn with matplotlib while the docs build.

Every picture takes its numbers from fastconv itself
(:func:`fastconv.resolve_padding` and :func:`fastconv.conv_output_shape`), so
the pictures show what the installed library does, and each drawing checks
that the number of output cells it drew equals the library's answer.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

import fastconv

INPUT = "#cfe3f7"
PAD = "#e6e6e6"
OUTPUT = "#fde3c8"
WINDOW_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _cell(ax, x, y, face, text, hatch=None):
    ax.add_patch(Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, facecolor=face, edgecolor="#555555",
                           linewidth=0.8, hatch=hatch))
    ax.text(x, y, text, ha="center", va="center", fontsize=7)


def draw_axis(ax, n, k, stride=1, dilation=1, padding="valid", title=None, windows=None,
              xlim=None):
    """Draw one spatial axis: padded input above, output below, some windows.

    `xlim` (shared by the panels of one figure) keeps input cell ``x0`` at the
    same place in every panel.

    Returns the number of output cells drawn.
    """
    (lo, hi), = fastconv.resolve_padding(padding, (n,), k, stride, dilation)
    out, = fastconv.conv_output_shape((n,), k, stride, padding, dilation)
    reach = dilation * (k - 1)
    y_in, y_out = 1.6, 0.0
    for p in range(-lo, n + hi):
        if 0 <= p < n:
            _cell(ax, p, y_in, INPUT, f"x{p}")
        else:
            _cell(ax, p, y_in, PAD, "0", hatch="///")
    centres = [j * stride - lo + reach / 2 for j in range(out)]
    for j, c in enumerate(centres):
        _cell(ax, c, y_out, OUTPUT, f"y{j}")
    if windows is None:
        windows = sorted({0, out - 1})
    for i, j in enumerate(windows):
        color = WINDOW_COLORS[i % len(WINDOW_COLORS)]
        taps = [j * stride - lo + t * dilation for t in range(k)]
        for tap in taps:
            ax.plot([centres[j], tap], [y_out + 0.45, y_in - 0.45], color=color, linewidth=1.2)
        ax.add_patch(Rectangle((taps[0] - 0.5, y_in - 0.55), taps[-1] - taps[0] + 1, 1.1,
                               fill=False, edgecolor=color, linewidth=1.6))
    formula = (f"out = floor(({n} + {lo} + {hi} - {dilation}*({k}-1) - 1) / {stride}) + 1"
               f" = {out}")
    ax.set_title(f"{title or padding}:  p_lo={lo}, p_hi={hi};   {formula}",
                 fontsize=8.5, loc="left")
    ax.set_xlim(xlim if xlim is not None else (-max(lo, 1) - 0.8, n + max(hi, 1) - 0.2))
    ax.set_ylim(-0.7, 2.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if len(centres) != out:  # pragma: no cover - a drawing bug
        raise AssertionError("drew a different number of outputs than the formula gives")
    return out


def padding_figure(n=8, k=4):
    """valid / same / full / causal padding of one axis, stride 1."""
    names = ("valid", "same", "full", "causal")
    fig, axes = plt.subplots(len(names), 1, figsize=(7.0, 8.4))
    xlim = (-(k - 1) - 0.8, n + (k - 1) - 0.2)  # room for 'full' padding
    for ax, name in zip(axes, names):
        draw_axis(ax, n, k, padding=name, xlim=xlim)
    fig.suptitle(f"n = {n} inputs, k = {k} taps (stride 1, dilation 1)\ngrey cells: zero "
                 "padding; coloured boxes: the windows of the first and the last output",
                 fontsize=8.5)
    fig.tight_layout()
    return fig


def stride_dilation_figure(n=9, k=3):
    """Stride 2, dilation 2 and both, 'valid' padding."""
    cases = ((2, 1, "stride 2"), (1, 2, "dilation 2"), (2, 2, "stride 2 and dilation 2"))
    fig, axes = plt.subplots(len(cases), 1, figsize=(7.0, 5.6))
    for ax, (s, d, label) in zip(axes, cases):
        out, = fastconv.conv_output_shape((n,), k, s, "valid", d)
        draw_axis(ax, n, k, stride=s, dilation=d, padding="valid", title=label,
                  windows=list(range(min(out, 2))), xlim=(-0.8, n - 0.2))
    fig.suptitle(f"n = {n} inputs, k = {k} taps, padding 'valid'\ncoloured boxes: the "
                 "windows of the first two outputs", fontsize=8.5)
    fig.tight_layout()
    return fig


def same_stride_figure(n=10, k=3):
    """CNN 'same' with stride 2: output ceil(n/s), the odd pad at the end."""
    fig, ax = plt.subplots(1, 1, figsize=(7.0, 2.0))
    draw_axis(ax, n, k, stride=2, padding="same", title="same, stride 2")
    fig.tight_layout()
    return fig


def dask_halo_figure(shape=(12, 16), chunks=((5, 4, 3), (6, 6, 4)), ksize=(5, 3)):
    """fastconv.dask: chunks, one block's halo, and the padded true edges.

    The halo of each axis is the reach of the weights (``k // 2`` before a
    block, ``k - 1 - k // 2`` after it, for origin 0), the rule
    :mod:`fastconv.dask.ndimage` applies; the drawing checks that the lazy
    result keeps the drawn chunks.
    """
    import dask.array as da
    import numpy as np
    from fastconv.dask import ndimage as dnd

    x = da.zeros(shape, chunks=chunks)
    out = dnd.correlate(x, np.ones(ksize), mode="reflect")
    if out.chunks != x.chunks:  # pragma: no cover - a drawing bug
        raise AssertionError("the drawn chunks are not the result's")
    before = [k // 2 for k in ksize]
    after = [k - 1 - k // 2 for k in ksize]
    fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.9))
    rows, cols = shape
    starts = [np.concatenate([[0], np.cumsum(c)]) for c in chunks]
    for ax, (bi, bj), title in ((axes[0], (1, 1), "an inner block"),
                                (axes[1], (0, 2), "a block at the array's edge")):
        # padded border (the boundary mode, applied once at the true edges)
        ax.add_patch(Rectangle((-before[1] - 0.5, -before[0] - 0.5),
                               cols + before[1] + after[1], rows + before[0] + after[0],
                               facecolor=PAD, edgecolor="none", hatch="///"))
        ax.add_patch(Rectangle((-0.5, -0.5), cols, rows, facecolor="white",
                               edgecolor="none"))
        for i in range(rows):
            for j in range(cols):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False,
                                       edgecolor="#cccccc", linewidth=0.4))
        r0, r1 = starts[0][bi], starts[0][bi + 1]
        c0, c1 = starts[1][bj], starts[1][bj + 1]
        ax.add_patch(Rectangle((c0 - before[1] - 0.5, r0 - before[0] - 0.5),
                               c1 - c0 + before[1] + after[1], r1 - r0 + before[0] + after[0],
                               facecolor=OUTPUT, edgecolor="#d62728", linewidth=1.5))
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, facecolor=INPUT,
                               edgecolor="#1f77b4", linewidth=1.5))
        for s in starts[0]:
            ax.plot([-0.5, cols - 0.5], [s - 0.5, s - 0.5], color="black", linewidth=1.4)
        for s in starts[1]:
            ax.plot([s - 0.5, s - 0.5], [-0.5, rows - 0.5], color="black", linewidth=1.4)
        ax.set_xlim(-before[1] - 1.5, cols + after[1] + 0.5)
        ax.set_ylim(rows + after[0] + 0.5, -before[0] - 1.5)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{title}: block {r1 - r0}x{c1 - c0} + halo", fontsize=8.5)
    fig.suptitle(f"{shape[0]}x{shape[1]} array in chunks {chunks}, weights {ksize[0]}x"
                 f"{ksize[1]}: halo {before[0]}+{after[0]} rows, {before[1]}+{after[1]} "
                 "columns\nblue: the block; red: the block with its halo (read from the "
                 "neighbours); hatched: the boundary mode's padding at the true edges",
                 fontsize=8.5)
    fig.tight_layout()
    return fig
