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
