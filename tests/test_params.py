"""The network parameter file: the real params/network.yaml, and every way a hand-edited
copy can go wrong (each must name the file, the field and, where it helps, the line)."""

from __future__ import annotations

import pytest

from uso_lib import params
from uso_lib.errors import ParamsError, UsoError

ROOT_NETWORK = params.DEFAULT_PATH

INDICATORS_MD_MEMBERS = [
    "Juva", "Eurajoki", "Imatra", "Tornio", "Viitasaari", "Kannus", "Kuhmoinen", "Heinola",
    "Kuhmo", "Orivesi", "Jämsä", "Ylöjärvi", "Kokkola", "Rautalampi", "Keuruu", "Muurame",
    "Siuntio", "Mänttä-Vilppula",
]


def _write(tmp_path, text: str):
    p = tmp_path / "network.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _error(tmp_path, text: str) -> ParamsError:
    with pytest.raises(ParamsError) as info:
        params.load_network(_write(tmp_path, text))
    return info.value


# -- the repository's network file -------------------------------------------------------
def test_repository_network_has_the_18_members_of_uso7():
    net = params.load_network(ROOT_NETWORK)
    assert net.name == "USO 7"
    assert net.period == "2023-2024" and net.years == (2023, 2024)
    assert [m.kunta.name_fi for m in net.members] == INDICATORS_MD_MEMBERS
    # codes of the 2023 division: Juva 178, Kuhmo 290, Kuhmoinen 291, Mänttä-Vilppula 508
    codes = net.codes()
    assert codes[0] == "178" and "290" in codes and "291" in codes and codes[-1] == "508"
    assert net.member("Kuhmo").kunta.code == "290"
    assert net.member("Helsinki") is None


def test_default_path_is_used_when_none_given():
    assert params.load_network().codes() == params.load_network(ROOT_NETWORK).codes()
    assert params.load_network("").name == "USO 7"


def test_member_peers_and_notes_by_name_or_code(tmp_path):
    net = params.load_network(_write(tmp_path, """
name: Testiverkosto
period: "2023 - 2024"
members:
  - kunta: "178"
    verrokit: [Rantasalmi, 740, KU213]
    notes: Vertailukunnat sovittu.
  - kunta: jamsa
    verrokit:
"""))
    juva, jamsa = net.members
    assert juva.kunta.name_fi == "Juva"
    assert [p.name_fi for p in juva.verrokit] == ["Rantasalmi", "Savonlinna", "Kangasniemi"]
    assert juva.notes == "Vertailukunnat sovittu."
    assert jamsa.kunta.code == "182" and jamsa.verrokit == [] and jamsa.notes == ""
    assert net.period == "2023-2024"


# -- errors -----------------------------------------------------------------------------
def test_empty_file(tmp_path):
    err = _error(tmp_path, "# only a comment\n")
    assert "empty" in str(err) and "network.yaml" in str(err)


def test_missing_file(tmp_path):
    with pytest.raises(ParamsError, match="does not exist"):
        params.load_network(tmp_path / "nope.yaml")


def test_yaml_syntax_error_has_line_number(tmp_path):
    err = _error(tmp_path, "name: USO 7\nperiod: 2023-2024\nmembers:\n  - kunta: [Juva\n"
                           "  - kunta: Imatra\n")
    assert "YAML syntax error" in str(err)
    assert err.line is not None and err.line >= 4
    assert f"line {err.line}" in str(err)


def test_missing_required_field_names_field(tmp_path):
    err = _error(tmp_path, "name: USO 7\nmembers:\n  - kunta: Juva\n")
    assert err.field == "period" and "required field 'period' is missing" in str(err)


def test_missing_kunta_of_a_member(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "  - verrokit: [Imatra]\n")
    assert err.field == "members[1].kunta"
    assert err.line == 5


def test_wrong_type_of_members(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers: Juva\n")
    assert err.field == "members" and "Expected a list" in str(err) and err.line == 3


def test_wrong_type_of_verrokit_item(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "    verrokit: [{a: 1}]\n")
    assert err.field == "members[0].verrokit[0]" and err.line == 5
    assert "Expected a municipality name or code, found a mapping" in str(err)


def test_bad_period(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: kaksi vuotta\nmembers:\n  - kunta: Juva\n")
    assert err.field == "period" and "2023-2024" in str(err) and err.line == 2
    err = _error(tmp_path, "name: X\nperiod: 2024-2023\nmembers:\n  - kunta: Juva\n")
    assert "before it starts" in str(err)


def test_unknown_field_is_rejected(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "    verokit: [Imatra]\n")
    assert err.field == "members[0].verokit" and "Unknown field" in str(err)


def test_no_members(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers: []\n")
    assert err.field == "members" and "no members" in str(err)


def test_unknown_municipality_suggests(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "  - kunta: Jamssa\n")
    assert err.field == "members[1].kunta" and err.line == 5
    assert "Jämsä" in str(err)


def test_unknown_peer_suggests(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "    verrokit:\n      - Imatra\n      - Rantasalm\n")
    assert err.field == "members[0].verrokit[1]" and err.line == 7
    assert "Rantasalmi" in str(err)


def test_merged_municipality_as_peer_says_into_what(tmp_path):
    # Pertunmaa merged into Mäntyharju on 1.1.2025, but the 2023 division still has it;
    # Jalasjärvi (164) merged into Kurikka in 2016
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "    verrokit: [Jalasjärvi]\n")
    assert "Kurikka" in str(err) and err.field == "members[0].verrokit[0]"


def test_peer_equal_to_member(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "    verrokit: [Imatra, '178']\n")
    assert "own comparison municipality" in str(err) and err.field == "members[0].verrokit[1]"


def test_duplicate_peer(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "    verrokit: [Imatra, KU153]\n")
    assert "Imatra is listed twice" in str(err)


def test_duplicate_member(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"
                           "  - kunta: '178'\n")
    assert "Juva is listed twice" in str(err) and err.field == "members[1].kunta"


def test_top_level_not_a_mapping(tmp_path):
    err = _error(tmp_path, "- Juva\n- Imatra\n")
    assert "Expected a mapping" in str(err)


def test_params_error_is_a_uso_error(tmp_path):
    # the CLI prints UsoError messages without a traceback
    assert isinstance(_error(tmp_path, ""), UsoError)


# -- the fee tier -----------------------------------------------------------------------
@pytest.mark.parametrize("population,fee", [
    (0, 9_000), (5_887, 9_000), (8_999, 9_000),
    (9_000, 12_000), (9_001, 12_000), (44_999, 12_000), (45_000, 12_000),
    (45_001, 16_000), (658_457, 16_000),
])
def test_fee_tier_boundaries(population, fee):
    assert params.fee_tier(population) == fee


def test_fee_tier_labels_and_missing_population():
    assert params.fee_tier_label(8_999) == "alle 9 000 asukasta"
    assert params.fee_tier_label(45_000) == "9 000–45 000 asukasta"
    assert params.fee_tier_label(45_001) == "yli 45 000 asukasta"
    with pytest.raises(ValueError, match="missing"):
        params.fee_tier(float("nan"))
    with pytest.raises(ValueError, match="negative"):
        params.fee_tier(-1)


# -- YAML as written (#16) -------------------------------------------------------------------
def test_unquoted_code_with_a_leading_zero_is_text_not_octal(tmp_path):
    # YAML 1.1 reads 020 as the octal number 16: 016 Asikkala instead of 020 Akaa
    net = params.load_network(_write(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n"
                                               "  - kunta: 020\n    verrokit: [046, 178]\n"))
    [akaa] = net.members
    assert (akaa.kunta.code, akaa.kunta.name_fi) == ("020", "Akaa")
    assert [(p.code, p.name_fi) for p in akaa.verrokit] == [("046", "Enonkoski"),
                                                            ("178", "Juva")]


def test_other_yaml_number_forms_stay_text():
    raw, _ = params.load_yaml("a: 020\nb: 0x14\nc: 1:30\nd: 178\ne: 1.5e3\nf: 91\n")
    assert raw == {"a": "020", "b": "0x14", "c": "1:30", "d": 178, "e": "1.5e3", "f": 91}


def test_hexadecimal_code_is_no_municipality(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: 0x14\n")
    assert err.field == "members[0].kunta" and "Unknown municipality: '0x14'" in str(err)


BILLION_LAUGHS = "name: X\nperiod: 2023-2024\n" + "".join(
    f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9 if p else ['"lol"'] * 9) + "]\n"
    for p, k in zip([None, *"abcdefgh"], "abcdefghi", strict=True)) + "members:\n  - kunta: *i\n"


def test_alias_bomb_is_refused_with_a_clear_message(tmp_path):
    # 9^9 = 387 million values if expanded; counted without expanding anything
    err = _error(tmp_path, BILLION_LAUGHS)
    assert "alias bomb" in str(err) and "more than 100 000 values" in str(err)
    assert err.line is not None and "network.yaml" in str(err)


def test_aliases_within_bounds_are_fine(tmp_path):
    net = params.load_network(_write(tmp_path, "name: X\nperiod: 2023-2024\nmembers:\n"
                                               "  - kunta: Juva\n    verrokit: &v [Imatra]\n"
                                               "  - kunta: Kuhmo\n    verrokit: *v\n"))
    assert [[p.name_fi for p in m.verrokit] for m in net.members] == [["Imatra"], ["Imatra"]]


def test_alias_that_contains_itself_is_refused(tmp_path):
    err = _error(tmp_path, "name: X\nperiod: 2023-2024\nmembers: &m\n  - kunta: Juva\n"
                           "    verrokit: *m\n")
    assert "refers to the list or mapping it is in" in str(err) and err.line == 3


# -- planning a file of many broken entries: one pass (#16) ----------------------------------
def _many_bad_members(n: int) -> str:
    lines = ["name: X", "period: 2023-2024", "members:", "  - kunta: Juva",
             "    verrokit: [Imatra]"]
    for i in range(n):  # alternately an unknown name and a duplicate with a bad peer list
        lines += ([f"  - kunta: Atlantis{i}"] if i % 2 else
                  ["  - kunta: Juva", "    verrokit: [Nokia, Juva]"])
    return "\n".join(lines + ["  - kunta: Kuhmo", ""])


@pytest.mark.timeout(60)  # re-validating the file after each bad entry grew cubically
def test_2000_bad_members_are_planned_in_one_pass(tmp_path):
    from uso_lib.factory import plan_network

    path = _write(tmp_path, _many_bad_members(2000))
    plan = plan_network(path)
    assert [m.kunta.name_fi for m in plan.network.members] == ["Juva", "Kuhmo"]
    assert len(plan.problems) == 2000
    first, second = plan.problems[:2]
    assert (first.index, first.kunta.code) == (1, "178")
    assert "line 6 field 'members[1].kunta': Juva is listed twice (also members[0])" in str(
        first.error)
    assert (second.index, second.query, second.kunta) == (2, "Atlantis1", None)
    assert "line 8 field 'members[2].kunta': Unknown municipality: 'Atlantis1'" in str(
        second.error)
    assert plan.problems[-1].index == 2000
    # the notebooks get the entries that validated, written out from the validated data; the
    # consultants' file is not edited
    assert params.parse_network(plan.text).codes() == ["178", "290"]
    assert "Atlantis" not in plan.text and path.read_text(encoding="utf-8").count("Atlantis")


def test_check_members_keeps_the_first_problem_of_each_entry(tmp_path):
    net, bad = params.check_members(
        "name: X\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n    verokit: [Imatra]\n"
        "  - kunta: Juva\n    verrokit: [Kuhmo, Kuhmo]\n  - kunta: Juva\n", source="n.yaml")
    # entry 0 has an unknown field, so entry 2's Juva is the first valid one; entry 1 fails on
    # its doubled peer before that
    assert [(b.index, b.error.field) for b in bad] == [(0, "members[0].verokit"),
                                                        (1, "members[1].verrokit[1]")]
    assert bad[0].kunta.code == "178" and bad[0].lines == (3, 4)
    assert net.codes() == ["178"]


def test_dump_network_reads_back_as_the_same_network():
    text = ("name: USO-verkosto\nperiod: 2023 - 2024\nmembers:\n  - kunta: '020'\n"
            "    verrokit: [Kemi, 046]\n    notes: |\n      Kaksi riviä:\n      \"lainaus\"\n"
            "  - kunta: Juva\n")
    net = params.parse_network(text, source="n.yaml")
    dumped = params.dump_network(net)
    again = params.parse_network(dumped, source="dumped.yaml")
    assert again == net and again.codes() == ["020", "178"]
    assert [p.code for p in again.members[0].verrokit] == ["240", "046"]  # Kemi, Enonkoski
    assert again.members[0].notes == 'Kaksi riviä:\n"lainaus"' and again.period == "2023-2024"
    assert "'020'" in dumped  # a code stays quoted text in the file the notebooks read
