"""The house chart style in one namespace for the chart modules (``from uso_lib.viz import
theme as st``), gathered from the modules that do each job:

- :mod:`uso_lib.viz.style`: colours, font sizes, the rcParams (``style``, ``styled``);
- :mod:`uso_lib.viz.layout`: figure geometry from measured text (``new_chart``, ``wrap``,
  ``text_width``, ``spread``) and the :class:`Chart` figure;
- :mod:`uso_lib.viz.artists`: light artists on matplotlib's public API (the legend, value and
  year axes, bars, row labels).
"""

from uso_lib.viz.artists import (
    FinnishFormatter,
    LightAxis,
    LightLegend,
    YearFormatter,
    axis_ticks,
    bar_rows,
    bars,
    category_axis,
    label,
    legend,
    legend_labels,
    row_labels,
    value_axis,
    value_label,
    year_axis,
)
from uso_lib.viz.layout import (
    Chart,
    Frame,
    legend_layout,
    line_height,
    new_chart,
    source_text,
    spread,
    text_width,
    wrap,
)
from uso_lib.viz.style import (
    BASE_SIZE,
    CATEGORY_COLOURS,
    DPI,
    GRID,
    HIGHLIGHT,
    LABEL_SIZE,
    MEN,
    MUTED,
    NEGATIVE,
    NO_DATA,
    PALETTE,
    PEER,
    PEER_LINE,
    POSITIVE,
    RC,
    SHADE,
    SOURCE_SIZE,
    SUBTITLE_SIZE,
    TEXT,
    TITLE_SIZE,
    WIDTH,
    WOMEN,
    apply_style,
    style,
    styled,
)

__all__ = [
    "BASE_SIZE", "CATEGORY_COLOURS", "DPI", "GRID", "HIGHLIGHT", "LABEL_SIZE", "MEN", "MUTED",
    "NEGATIVE", "NO_DATA", "PALETTE", "PEER", "PEER_LINE", "POSITIVE", "RC", "SHADE",
    "SOURCE_SIZE", "SUBTITLE_SIZE", "TEXT", "TITLE_SIZE", "WIDTH", "WOMEN", "Chart",
    "FinnishFormatter", "Frame", "LightAxis", "LightLegend", "YearFormatter", "apply_style",
    "axis_ticks", "bar_rows", "bars", "category_axis", "label", "legend", "legend_labels",
    "legend_layout", "line_height", "new_chart", "row_labels", "source_text", "spread",
    "style", "styled", "text_width", "value_axis", "value_label", "wrap", "year_axis",
]
