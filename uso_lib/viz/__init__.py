"""The house chart style for uso reports: matplotlib Figures, Finnish throughout.

Every chart function returns a matplotlib Figure (a :class:`uso_lib.viz.layout.Chart`, which a
notebook displays as PNG) and requires a ``source`` text, printed under the chart as
"Lähde: ...". Numbers use :mod:`uso_lib.fmt` (decimal comma, U+00A0 thousands separator); the
municipality is drawn in one strong colour, comparison municipalities in grey, group averages
as reference lines; missing values are gaps or "ei tietoa", never 0. A chart with no value at
all raises :class:`uso_lib.errors.NoData` (show the text note instead); a malformed frame
raises :class:`uso_lib.errors.DataError` naming the column and row. Embed with
:func:`to_data_uri` (closes the figure).

Input shapes (tidy, as the store gives them; column names can be overridden by arguments):

- :func:`ranking_bars`: one row per municipality: ``name``, ``value`` [, ``kunta``,
  ``highlight``] (``compare.ranking`` output as is).
- :func:`time_series`, :func:`indexed_series`: long ``year``, ``value``, ``name`` (one series per
  name: the municipality, "Vrt. kunnat ka.", "USO-verkosto ka.", "Koko maa"...) or wide
  (index year, one column per series), or ``{label: Series}``.
- :func:`projection`: ``history`` and ``forecast`` as Series/frames (``year``, ``value``);
  ``forecast`` may be ``{label: ...}`` for several projection rounds.
- :func:`population_pyramid`: ``age`` (or the store's ``category``: "0-4", "95-", "95+", single
  years, or "m:0-4"/"n:0-4"), ``sex`` (miehet/naiset, 1/2, m/n; omit for a one-sided age
  profile), ``value``; total rows (category "") are ignored.
- :func:`service_need_change`: ``group``/``category`` ("0-6", "7-15", "16-18", "75+", "85+"),
  ``change_pct``/``value`` [, ``start``, ``end`` counts].
- :func:`jobs_by_industry`: ``category`` (TOL letter, "C Teollisuus (10-33)"; "" = the total,
  used as the denominator), ``value`` [, ``name`` for a comparison series such as "Koko maa"].
- :func:`category_bars`: ``category``, ``value`` [, ``name``]: any breakdown in its own order.
- :func:`commuting`: ``category`` or ``indicator`` (in / out / own in Finnish or English, or
  the store ids tulopendelointi / lahtopendelointi / asuinkunnassa_tyossakayvat), ``value``
  [, ``year``].
- :func:`emissions_by_sector`: ``year``, ``category`` (sector; "" = the published total),
  ``value``.
"""

from uso_lib.viz.export import close, to_data_uri, to_png_bytes
from uso_lib.viz.population import population_pyramid, service_need_change
from uso_lib.viz.ranking import ranking_bars
from uso_lib.viz.series import index_frame, indexed_series, projection, time_series
from uso_lib.viz.structure import (
    category_bars,
    commuting,
    emissions_by_sector,
    jobs_by_industry,
)
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
    "apply_style", "category_bars", "close", "commuting", "emissions_by_sector", "index_frame",
    "indexed_series", "jobs_by_industry", "population_pyramid", "projection", "ranking_bars",
    "service_need_change", "source_text", "style", "time_series", "to_data_uri",
    "to_png_bytes",
]
