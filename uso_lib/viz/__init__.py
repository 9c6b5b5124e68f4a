"""The house chart style for uso reports: matplotlib Figures, Finnish throughout.

Every chart function returns a :class:`matplotlib.figure.Figure` (a :class:`~uso_lib.viz.theme.
Chart`, which a notebook displays as PNG) and requires a ``source`` text, printed under the
chart as "Lähde: ...". Numbers use :mod:`uso_lib.fmt` (decimal comma, U+00A0 thousands
separator); the municipality is drawn in one strong colour, comparison municipalities in grey,
group averages as reference lines; missing values are shown as gaps or "ei tietoa", never 0.
Embed with :func:`to_data_uri` (closes the figure).

Input shapes (tidy, as the store gives them; column names can be overridden by arguments):

- :func:`ranking_bars`: one row per municipality: ``name``, ``value`` [, ``kunta``, ``highlight``].
- :func:`time_series`, :func:`indexed_series`: long ``year``, ``value``, ``name`` (one series per
  name: the municipality, "Vrt. kunnat ka.", "USO-verkosto ka.", "Koko maa"...) or wide
  (index year, one column per series), or ``{label: Series}``.
- :func:`projection`: ``history`` and ``forecast`` as Series/frames (``year``, ``value``);
  ``forecast`` may be ``{label: frame}`` for several projection rounds.
- :func:`population_pyramid`: ``age`` (label "0-4", "95+" or single years 0..100), ``sex``
  (miehet/naiset, 1/2, male/female; omit for a one-sided age profile), ``value``.
- :func:`service_need_change`: ``group`` ("0-6", "7-15", "16-18", "75+", "85+"),
  ``change_pct`` [, ``start``, ``end`` counts].
- :func:`jobs_by_industry`: ``category`` (TOL letter or "C Teollisuus (10-33)"), ``value``
  [, ``name`` for a comparison series such as "Koko maa"].
- :func:`commuting`: ``category`` (in / out / own, Finnish or English words), ``value``
  [, ``year``].
- :func:`emissions_by_sector`: ``year``, ``category`` (sector), ``value``.
"""

from uso_lib.viz.export import close, to_data_uri, to_png_bytes
from uso_lib.viz.population import population_pyramid, service_need_change
from uso_lib.viz.ranking import ranking_bars
from uso_lib.viz.series import index_frame, indexed_series, projection, time_series
from uso_lib.viz.structure import commuting, emissions_by_sector, jobs_by_industry
from uso_lib.viz.theme import (
    HIGHLIGHT,
    NO_DATA,
    PALETTE,
    PEER,
    RC,
    Chart,
    FinnishFormatter,
    apply_style,
    source_text,
    style,
)

__all__ = [
    "HIGHLIGHT", "NO_DATA", "PALETTE", "PEER", "RC", "Chart", "FinnishFormatter",
    "apply_style", "close", "commuting", "emissions_by_sector", "index_frame", "indexed_series",
    "jobs_by_industry", "population_pyramid", "projection", "ranking_bars",
    "service_need_change", "source_text", "style", "time_series", "to_data_uri",
    "to_png_bytes",
]
