"""Regional time series 2015 and 2019 from Statistics Finland's Alueaikasarjat workbook.

``statfin/Alueaikasarjat1-1001.xlsx`` holds one sheet per year ("2015", "2019"), one row per
municipality of the 1.1.2020 division (310, by Finnish name only) and ~300 columns. The first
~180 columns are Statistics Finland's *Alueaikasarjat* (Kuntien avainluvut, 2020 division,
updated 2020-11-05: the "Info" sheet); the workbook's author appended columns from other StatFin
tables. The author's "Koonti" sheet names the table and unit of every column, which is how we
know that

- the TOL letter columns A-S are the **enterprise stock** (yrityskanta) of table 11yq, *not*
  jobs; jobs exist only in total, by sector and for seven named industries;
- the emissions are **thousand tonnes CO2-eq., outside emissions trading** (table 121z),
  which the Info sheet does not say;
- one column has no header anywhere (after "S Muu palvelutoiminta"): it is not used.

Only what the report uses is kept. Honkajoki (099) merged into Kankaanpää (214) in 2021:
counts are summed into 214 (the source text says so; moves and commutes between the two count
as intermunicipal), means and medians cannot be and stay missing for 214 (see ``_to2023``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from uso_lib.errors import DataError
from uso_lib.snapshot import _to2023, rows

WORKBOOK = "statfin/Alueaikasarjat1-1001.xlsx"
RAW_FILES = [WORKBOOK]
SHEETS = ("2015", "2019")
FROM_DIVISION = 2020

# source text, table id, vintage per family of columns (the Koonti sheet names the table)
_AAS = ("Tilastokeskus, Alueaikasarjat (Kuntien avainluvut, aluejako 1.1.2020)",
        "Alueaikasarjat", "2020-11-05")
# appended columns: the workbook's commit (2021-12-16) is the latest possible retrieval date


def _statfin(table: str, what: str) -> tuple[str, str, str]:
    return (f"Tilastokeskus, StatFin {table} ({what}; Alueaikasarjat-työkirjan kautta)",
            table, "2021-12-16")


_11A1 = _statfin("11a1", "kuntien välinen muutto")
_11YQ = _statfin("11yq", "yrityskanta toimialoittain TOL 2008")
_121Z = _statfin("121z", "kasvihuonekaasupäästöt, päästökaupan ulkopuoliset")
_118W = _statfin("118w", "asuntokuntien tulot")
_12HH = _statfin("12hh", "asuntoväestö tulokymmenyksittäin")
_127Y = _statfin("127y", "pienituloisuus")
_11CJ = _statfin("11cj", "rikoksiin syylliseksi epäillyt")


@dataclass(frozen=True)
class Column:
    indicator: str
    category: str
    headers: tuple[str, ...]  # summed when several (e.g. men + women)
    kind: str  # "count" (summable), "flow" (summable, with a caveat) or "mean"
    source: tuple[str, str, str]
    years: tuple[int, ...] = (2015, 2019)  # a year another builder covers is left to it


def _c(ind: str, cat: str, headers: str | tuple[str, ...], kind: str,
       source: tuple[str, str, str], years: tuple[int, ...] = (2015, 2019)) -> Column:
    return Column(ind, cat, (headers,) if isinstance(headers, str) else headers, kind, source,
                  years)


def _ages() -> list[tuple[str, str]]:
    out = [(f"{a}-{a + 4}", f"{a}-{a + 4} -vuotiaat") for a in range(0, 95, 5)]
    return out + [("95-", "Yli 94-vuotiaat")]


SEX = {"m": "miehet", "n": "naiset"}

TOL_SECTIONS = {  # 11yq columns: TOL 2008 letter -> header in the workbook
    "A": "A Maatalous, metsätalous ja kalatalous (01-03)",
    "B": "B Kaivostoiminta ja louhinta (05-09)",
    "C": "C Teollisuus (10-33)",
    "D": "D Sähkö-, kaasu- ja lämpöhuolto, jäähdytysliiketoiminta (35)",
    "E": "E Vesihuolto, viemäri- ja jätevesihuolto, jätehuolto ja muu ympäristön puhtaanapito "
         "(36-39)",
    "F": "F Rakentaminen (41-43)",
    "G": "G Tukku- ja vähittäiskauppa; moottoriajoneuvojen ja moottoripyörien korjaus (45-47)",
    "H": "H Kuljetus ja varastointi (49-53)",
    "I": "I Majoitus- ja ravitsemistoiminta (55-56)",
    "J": "J Informaatio ja viestintä (58-63)",
    "K": "K Rahoitus- ja vakuutustoiminta (64-66)",
    "L": "L Kiinteistöalan toiminta (68)",
    "M": "M Ammatillinen, tieteellinen ja tekninen toiminta (69-75)",
    "N": "N Hallinto- ja tukipalvelutoiminta (77-82)",
    "P": "P Koulutus (85)",
    "Q": "Q Terveys- ja sosiaalipalvelut (86-88)",
    "R": "R Taiteet, viihde ja virkistys (90-93)",
    "S": "S Muu palvelutoiminta (94-96)",
}

DECILES = ["I (pienituloisin 10 %)", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX",
           "X (suurituloisin 10 %)"]

CRIME_GROUPS = {
    "omaisuus": "A Omaisuusrikokset",
    "henki_terveys": "B Henkeen ja terveyteen kohdistuneet rikokset",
    "seksuaali": "C Seksuaalirikokset",
    "viranomaiset_jarjestys": "D Rikokset oikeudenkäyttöä, viranomaisia ja yleistä järjestystä "
                              "vastaan",
    "rattijuopumus": "Rattijuopumukset yhteensä",
    "huumausaine": "Huumausainerikokset yhteensä",
}

# helper columns for derived figures (summed before the ratio is taken)
_LOW_INCOME = "_pienituloiset"
_HH_POP = "_asuntovaesto"


def columns() -> list[Column]:
    """Every workbook column the snapshot keeps, as (indicator, category, headers, kind)."""
    cols: list[Column] = []
    for code, head in _ages():
        for sx, word in SEX.items():
            cols.append(_c("vaesto_ikaryhmittain", f"{sx}:{code}", f"{head}, {word}", "count",
                           _AAS))
    mig = "Kuntien välinen"
    cols += [
        _c("muutto_ikaryhmittain", "tulo", f"{mig} tulomuutto", "flow", _AAS),
        _c("muutto_ikaryhmittain", "lahto", f"{mig} lähtömuutto", "flow", _AAS),
        _c("muutto_ikaryhmittain", "tulo:0-19", f"{mig} tulomuutto, alle 20-vuotiaat", "flow",
           _AAS),
        # sic: the workbook's header lacks a space
        _c("muutto_ikaryhmittain", "tulo:20-39", "Kuntien välinentulomuutto,  20-39 -vuotiaat",
           "flow", _AAS),
        _c("muutto_ikaryhmittain", "tulo:40-59", f"{mig} tulomuutto, 40-59 -vuotiaat", "flow",
           _AAS),
        _c("muutto_ikaryhmittain", "tulo:60-", f"{mig} tulomuutto, 60+ -vuotiaat", "flow", _AAS),
        _c("muutto_ikaryhmittain", "lahto:0-19", f"{mig} lähtömuutto, alle 20-vuotiaat", "flow",
           _AAS),
        _c("muutto_ikaryhmittain", "lahto:20-39", f"{mig} lähtömuutto,  20-39 -vuotiaat", "flow",
           _AAS),
        _c("muutto_ikaryhmittain", "lahto:40-59", f"{mig} lähtömuutto, 40-59 -vuotiaat", "flow",
           _AAS),
        _c("muutto_ikaryhmittain", "lahto:60-", f"{mig} lähtömuutto, 60+ -vuotiaat", "flow",
           _AAS),
    ]
    for sx, word in SEX.items():
        cols.append(_c("muutto_ikaryhmittain", f"tulo:{sx}", f"{mig} tulomuutto, {word}", "flow",
                       _11A1))
        cols.append(_c("muutto_ikaryhmittain", f"lahto:{sx}", f"{mig} lähtömuutto, {word}",
                       "flow", _11A1))
    cols += [
        _c("yrittajat", "", "Yrittäjät", "count", _AAS),
        _c("yrittajat", "m", "Yrittäjät, miehet", "count", _AAS),
        _c("yrittajat", "n", "Yrittäjät, naiset", "count", _AAS),
    ]
    cols += [_c("yrityskanta_toimialoittain", k, h, "count", _11YQ)
             for k, h in TOL_SECTIONS.items()]
    jobs = "tyopaikat_toimialoittain"
    cols += [
        _c(jobs, "", "Alueella olevien työpaikkojen lukumäärä", "count", _AAS),
        _c(jobs, "C", ("Teollisuuden työpaikat, miehet", "Teollisuuden työpaikat, naiset"),
           "count", _AAS),
        _c(jobs, "F", ("Rakentamisen työpaikat, miehet", "Rakentamisen työpaikat, naiset"),
           "count", _AAS),
        _c(jobs, "G", ("Kaupan työpaikat, miehet", "Kaupan työpaikat, naiset"), "count", _AAS),
        _c(jobs, "I", "Majoitus- ja ravitsemistoiminnan työpaikat", "count", _AAS),
        _c(jobs, "P", ("Koulutuksen työpaikat, miehet", "Koulutuksen työpaikat, naiset"),
           "count", _AAS),
        _c(jobs, "Q", ("Terveys- ja sosiaalipalvelujen työpaikat, miehet",
                       "Terveys- ja sosiaalipalvelujen työpaikat, naiset"), "count", _AAS),
        _c(jobs, "info", "Informaatiosektorin työpaikat", "count", _AAS),
    ]
    # commuting 1987-2016 comes from the commuting builder (one source per series-year)
    cols += [
        _c("tulopendelointi", "", "Sisäänpendelöinti", "flow", _AAS, (2019,)),
        _c("lahtopendelointi", "", "Ulospendelöinti", "flow", _AAS, (2019,)),
        _c("asuinkunnassa_tyossakayvat", "", "Asuinkunnassa työssäkäyvät", "flow", _AAS, (2019,)),
        _c("omassa_seutukunnassa_tyossakayvat", "", "Omassa seutukunnassa työssäkäyvät", "count",
           _AAS),
    ]
    cols += [
        _c("kotitalouksien_tulot_mediaani", "", "Käytettävissä oleva rahatulo, mediaani", "mean",
           _118W),
        _c("kotitalouksien_tulot_keskiarvo", "", "8. KÄYTETTÄVISSÄ OLEVA RAHATULO, keskiarvo",
           "mean", _118W),
        _c("asuntovaesto_tulokymmenyksittain", "", "Asuntoväestö, henkilöä", "count", _118W),
    ]
    cols += [_c("asuntovaesto_tulokymmenyksittain", str(i), h, "count", _12HH)
             for i, h in enumerate(DECILES, start=1)]
    cols += [
        _c(_LOW_INCOME, "", "Pienituloisten henkilöiden lukumäärä asuntoväestössä", "count",
           _127Y),
        _c(_HH_POP, "", "Asuntoväestö, henkilöä", "count", _118W),
    ]
    ghg = "kasvihuonekaasupaastot"
    cols += [
        _c(ghg, "", "Päästöt yhteensä pl. LULUCF-sektori", "count", _121Z),
        _c(ghg, "energia_pl_liikenne", "1(-1A3) Energiasektori pl. kotimaan liikenne", "count",
           _121Z),
        _c(ghg, "liikenne", "1A3 Kotimaan liikenne", "count", _121Z),
        _c(ghg, "teollisuus", "2 Teollisuusprosessit ja tuotteiden käyttö", "count", _121Z),
        _c(ghg, "maatalous", "3 Maatalous", "count", _121Z),
        _c(ghg, "jatteet", "5 Jätteiden käsittely", "count", _121Z),
    ]
    cols += [_c("rikoksista_epaillyt", k, (f"{h}, miehet", f"{h}, naiset"), "count", _11CJ)
             for k, h in CRIME_GROUPS.items()]
    return cols


def read_sheet(raw: Path, sheet: str) -> pd.DataFrame:
    """One year's sheet, checked: the year cell, 310 municipality names, no duplicate header."""
    path = raw / WORKBOOK
    df = pd.read_excel(path, sheet_name=sheet, engine="calamine")
    where = f"{WORKBOOK} sheet {sheet!r}"
    if df.shape[1] < 3 or not df.iloc[:, 1].map(lambda v: isinstance(v, str)).all():
        raise DataError(f"{where}: expected municipality names in column B")
    year_cell = df.iloc[0, 0]
    if pd.isna(year_cell) or int(year_cell) != int(sheet):
        raise DataError(f"{where}: cell A2 should hold the year {sheet}, found {year_cell!r}")
    df = df.rename(columns={df.columns[1]: "nimi"}).drop(columns=df.columns[0])
    df["nimi"] = df["nimi"].astype(str).str.strip()
    if len(df) != 310:
        raise DataError(f"{where}: expected 310 municipalities of the 2020 division, "
                        f"found {len(df)}")
    return df


def _wide(raw: Path) -> tuple[pd.DataFrame, list[Column]]:
    cols = columns()
    frames = []
    for sheet in SHEETS:
        df = read_sheet(raw, sheet)
        missing = sorted({h for c in cols for h in c.headers} - set(df.columns))
        if missing:
            raise DataError(f"{WORKBOOK} sheet {sheet!r}: columns not found: {missing}")
        codes = _to2023.names_to_codes(df["nimi"], FROM_DIVISION,
                                       where=f"{WORKBOOK} sheet {sheet!r}")
        data = {"kunta": df["nimi"].map(codes), "year": int(sheet)}
        for c in cols:
            vals = df[list(c.headers)].apply(pd.to_numeric, errors="coerce")
            # a sum of parts is missing if any part is (never read a gap as zero)
            data[_key(c)] = vals.sum(axis=1).where(vals.notna().all(axis=1))
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True), cols


def _key(c: Column) -> str:
    return f"{c.indicator}|{c.category}"


def build(raw: Path) -> pd.DataFrame:
    wide, cols = _wide(raw)
    mapped = _to2023.to_2023(wide, from_division=FROM_DIVISION, where=WORKBOOK,
                             values={_key(c): c.kind != "mean" for c in cols},
                             empty_part_means_included=True)
    # derived: low-income rate from the summed counts; enterprise total from its sections
    low, pop = f"{_LOW_INCOME}|", f"{_HH_POP}|"
    mapped["pienituloisuusaste|"] = mapped[low] / mapped[pop] * 100
    mapped["pienituloisuusaste|@how"] = mapped[f"{low}@how"]
    sections = [f"yrityskanta_toimialoittain|{k}" for k in TOL_SECTIONS]
    total = "yrityskanta_toimialoittain|"
    mapped[total] = mapped[sections].sum(axis=1).where(mapped[sections].notna().all(axis=1))
    mapped[f"{total}@how"] = mapped[f"{sections[0]}@how"]

    by_years = {ys: mapped[mapped["year"].isin(ys)] for ys in {c.years for c in cols}}
    out = [_rows(by_years[c.years], _key(c), c.kind, *c.source)
           for c in cols if not c.indicator.startswith("_")]
    out.append(_rows(mapped, "pienituloisuusaste|", "count", *_127Y, derived=(
        "laskettu: pienituloiset (127y) / asuntoväestö (118w) × 100")))
    out.append(_rows(mapped, total, "count", *_11YQ, derived=(
        "yhteensä = toimialojen A-S summa (O ja tuntematon toimiala eivät aineistossa)")))
    return pd.concat(out, ignore_index=True)


def _rows(mapped: pd.DataFrame, key: str, kind: str, source: str, table: str, vintage: str,
          derived: str | None = None) -> pd.DataFrame:
    indicator, category = key.split("|")
    frame = mapped[["kunta", "year", key]].rename(columns={key: "value"})
    frame = frame.assign(category=category)
    out = rows(indicator, frame, category="category", source=source, table=table,
               vintage=vintage)
    base = source if derived is None else f"{source}; {derived}"
    notes = [_to2023.note(h, m, k, flow=kind == "flow") for h, m, k in zip(
        mapped[f"{key}@how"], mapped["merged"], mapped["kunta"], strict=True)]
    out["source"] = [f"{base}; {n}" if n else base for n in notes]
    return out
