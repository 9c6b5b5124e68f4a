"""Figures to PNG bytes and data URIs: the one PNG pipeline of charts and maps.

A figure is rasterised once by its Agg canvas, optionally reduced to a small palette, and
written by Pillow with a "Source" text chunk and without a timestamp or software tag, so the
same chart gives the same bytes and a picture saved from a report still says where its figures
come from.

Saving closes the figure by default: a report batch draws thousands of charts, and a figure
someone forgot to close holds its artists (and, under pyplot, its window manager) forever.
"""

from __future__ import annotations

import base64
import io
import math
import sys
import threading

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure

# zlib level 3: quicker to encode than the default 6 for slightly larger files
# (benchmarks/README.md has the figures)
COMPRESS_LEVEL = 3


_local = threading.local()


def _renderer(width: int, height: int, dpi: float) -> RendererAgg:
    """A cleared Agg renderer at least ``height`` pixels tall, one per thread, width and dpi.

    Matplotlib keeps the measurements of a text per renderer, and a canvas makes a renderer
    per figure, so every chart would measure its tick labels, names and "lp" afresh. Drawing
    every chart of a size class on one renderer lets the charts of a report share those
    measurements. The figure is drawn at the renderer's bottom edge (Agg counts rows from
    the top, so a taller renderer moves the picture down by whole pixels: the same pixels)."""
    cache: dict = _local.__dict__.setdefault("renderers", {})
    key = (width, round(dpi, 6))
    renderer = cache.get(key)
    if renderer is None or renderer.height < height:
        # room for the tallest chart seen so far, in steps, so it is not remade for each
        renderer = RendererAgg(width, max(height, 256 * math.ceil(height / 256)), dpi)
        cache[key] = renderer
        if len(cache) > 8:  # a few sizes (charts, maps) per run; drop the oldest
            del cache[next(iter(cache))]
    renderer.clear()
    return renderer


def _draw(fig: Figure):
    """The figure's RGBA pixels as a Pillow image, drawn on a shared renderer."""
    from PIL import Image

    width, height = fig.canvas.get_width_height(physical=True)
    renderer = _renderer(width, height, fig.dpi)
    draw_layers = getattr(fig, "draw_layers", None)  # a base drawn once (viz.layers)
    if draw_layers is not None:
        draw_layers(renderer)
    else:
        fig.draw(renderer)
    full = Image.frombuffer("RGBA", (renderer.width, renderer.height), renderer.buffer_rgba(),
                            "raw", "RGBA", 0, 1)
    return full.crop((0, renderer.height - height, width, renderer.height))


def close(fig: Figure) -> None:
    """Free a figure's artists; also drop it from pyplot if it was made there.

    A house chart's emptied skeleton is kept for the next chart (:func:`layout.release`);
    other figures lose their axes and texts (``fig.clear()`` would rebuild empty axes' ticks,
    which costs as much as drawing a small chart). A closed figure is not to be used again."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    recycle = getattr(fig, "recycle", None)  # a house chart (viz.layout.Chart)
    if recycle is not None and recycle():
        return
    for ax in list(fig.axes):
        fig.delaxes(ax)
    del fig.texts[:]
    del fig.legends[:]


def to_png_bytes(fig: Figure, *, dpi: float | None = None, close: bool = True,
                 colours: int | None = None, caption_below: bool = False,
                 source: str | None = None) -> bytes:
    """PNG at the figure's own size (7 in wide at 100 dpi -> 700 px) or at ``dpi``.

    ``colours``: reduce the picture to a palette of that many colours. The house style uses a
    handful of flat colours, so the palette image looks the same at about a quarter of the
    size and is cheaper to encode: a report embeds some fifty charts and must stay a small
    self-contained file.

    ``caption_below``: the page prints the chart's source as the caption under the image, so
    a house chart's own source line is left out of the pixels (and the blank band it had is
    cropped). The PNG keeps the source as metadata either way: ``source`` when given (a map's
    credit), else a house chart's own source line."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    try:
        if dpi:
            fig.set_dpi(dpi)
        crop = 0
        hide_source = getattr(fig, "hide_source", None)  # a house chart (viz.layout.Chart)
        if hide_source is not None:
            source = source or fig.source
            if caption_below:
                crop = hide_source()
        if source:
            info.add_itxt("Source", source)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        img = _draw(fig)
        if crop:
            img = img.crop((0, 0, img.width, img.height - crop))
        if fig.get_facecolor()[3] < 1:  # see-through background: put it on white paper
            img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img)
        img = img.convert("RGB")
        if colours:
            img = _palette(img, colours)
    finally:
        if close:
            _close(fig)
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, compress_level=COMPRESS_LEVEL)
    return buf.getvalue()


def _palette(img, colours: int):
    from PIL import Image

    pal = img.quantize(colors=colours, method=Image.Quantize.FASTOCTREE)
    # the octree averages white with the lightest anti-aliased pixels (254, 254, 254): snap
    # near-white entries back to the page's white, so no faint box frames a chart
    rgb = pal.getpalette() or []
    for k in range(0, len(rgb), 3):
        if min(rgb[k:k + 3]) >= 250:
            rgb[k:k + 3] = [255, 255, 255]
    pal.putpalette(rgb)
    return pal


def to_data_uri(fig: Figure, *, dpi: float | None = None, close: bool = True,
                colours: int | None = None, caption_below: bool = False,
                source: str | None = None) -> str:
    """``data:image/png;base64,...`` for an ``<img src=...>`` in a self-contained HTML file
    (the arguments of :func:`to_png_bytes`)."""
    data = to_png_bytes(fig, dpi=dpi, close=close, colours=colours,
                        caption_below=caption_below, source=source)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


_close = close
