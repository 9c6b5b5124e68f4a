"""Figures to PNG bytes / data URIs for embedding in the report HTML.

Saving closes the figure by default: a report batch draws thousands of charts, and a figure
someone forgot to close holds its artists (and, under pyplot, its window manager) forever.
"""

from __future__ import annotations

import base64
import io
import sys

from matplotlib.figure import Figure


def close(fig: Figure) -> None:
    """Free a figure's artists; also drop it from pyplot if it was made there.

    Detaches the axes and texts instead of ``fig.clear()``, which rebuilds empty axes' ticks
    and costs as much as drawing a small chart."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    for ax in list(fig.axes):
        fig.delaxes(ax)
    del fig.texts[:]
    del fig.legends[:]


def to_png_bytes(fig: Figure, *, dpi: float | None = None, close: bool = True) -> bytes:
    """PNG at the figure's own size (7 in wide at 100 dpi -> 700 px), without a timestamp or
    software tag so the same chart gives the same bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, facecolor="white",
                metadata={"Software": None})
    if close:
        _close(fig)
    return buf.getvalue()


def to_data_uri(fig: Figure, *, dpi: float | None = None, close: bool = True) -> str:
    """``data:image/png;base64,...`` for an ``<img src=...>`` in a self-contained HTML file."""
    data = to_png_bytes(fig, dpi=dpi, close=close)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


_close = close
