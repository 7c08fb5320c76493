"""Dates of service (lookup(on=...), valid_on), NCCI claim checks (check_claim, ptp_edits, mue)
and the ICD-9 / ICD-10 crosswalk: argument types, the result classes, errors."""

import datetime
import pickle

import pytest

import codelookup

SPLIT = datetime.date(2021, 10, 1)  # M54.5 was split into M54.50, M54.51, M54.59 on this day


# --- lookup(on=...) and valid_on ---------------------------------------------------------------


def test_lookup_on_a_date(book):
    rec = book.lookup("M54.5", on=datetime.date(2021, 9, 30))
    assert rec == book.lookup("M54.5") and rec.code == "M54.5"
    assert book.lookup("m545", "icd10cm", on=datetime.date(2021, 9, 30)) == rec


def test_lookup_on_an_iso_string(book):
    assert book.lookup("M54.5", on="2021-09-30") == book.lookup("M54.5")
    assert book.lookup("M54.50", on=" 2021-10-01 ").code == "M54.50"  # as read from a CSV cell
    with pytest.raises(codelookup.NotValidOnDate):
        book.lookup("M54.5", on="2021-10-01")


def test_lookup_on_a_datetime_counts_by_its_date(book):
    assert book.lookup("M54.5", on=datetime.datetime(2021, 9, 30, 23, 59)).code == "M54.5"


def test_not_valid_on_date_carries_the_details(book):
    with pytest.raises(codelookup.NotValidOnDate) as info:
        book.lookup("M54.5", on=SPLIT)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, codelookup.CodeLookupError)
    assert e.kind == "NOT_VALID_ON_DATE" and e.code == "M54.5"
    assert e.date == SPLIT and isinstance(e.date, datetime.date)
    assert e.replaced_by == ["M54.50", "M54.51", "M54.59"]
    assert "M54.5" in str(e)
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is codelookup.NotValidOnDate and again.replaced_by == e.replaced_by and again.date == SPLIT


def test_the_record_cache_does_not_answer_dated_lookups(book):
    fresh = codelookup.open(book.path)
    # Cached first, then asked for a day it is not valid: still refused.
    assert fresh.lookup("M54.5").code == "M54.5"
    with pytest.raises(codelookup.NotValidOnDate):
        fresh.lookup("M54.5", on=SPLIT)
    # Refused first, then looked up without a date: found (and the refusal cached nothing).
    with pytest.raises(codelookup.NotValidOnDate):
        fresh.lookup("R05", on=SPLIT)
    assert fresh.lookup("R05").code == "R05"
    with pytest.raises(codelookup.NotValidOnDate):
        fresh.lookup("R05", on=SPLIT)
    # A header: found without a date, never valid on a claim.
    assert fresh.lookup("E11").kind == "header"
    with pytest.raises(codelookup.NotValidOnDate):
        fresh.lookup("E11", on="2024-01-01")


def test_valid_on(book):
    v = book.valid_on("M54.5", SPLIT)
    assert isinstance(v, codelookup.Validity)
    assert (v.code, v.system, v.date, v.valid, v.status) == ("M54.5", "icd10cm", SPLIT, False, "no_longer_valid")
    assert v.valid_from == datetime.date(2015, 10, 1) and v.valid_until == datetime.date(2021, 9, 30)
    assert v.replaced_by == ["M54.50", "M54.51", "M54.59"]
    assert isinstance(v.message, str) and "M54.5" in v.message
    assert book.valid_on("M54.5", "2021-09-30").valid is True
    assert book.valid_on("M54.50", date="2021-09-30", system="icd10cm").status == "not_yet_valid"
    assert book.valid_on("E11", "2024-01-01").status == "not_billable"
    assert book.valid_on("A4397", "2022-01-01", "hcpcs").status == "no_longer_valid"


@pytest.mark.parametrize("bad", [20211001, 2021.5, b"2021-10-01", ["2021-10-01"], (2021, 10, 1), True, datetime.time(1, 2)])
def test_bad_date_types_raise_type_error(book, bad):
    with pytest.raises(TypeError, match="on must be a datetime.date"):
        book.lookup("M54.5", on=bad)
    with pytest.raises(TypeError, match="date must be a datetime.date"):
        book.valid_on("M54.5", bad)
    with pytest.raises(TypeError, match="date must be a datetime.date"):
        book.check_claim(["99213"], date=bad)


@pytest.mark.parametrize("bad", ["", "2021-13-01", "2021-02-30", "2021-1-1", "10/01/2021", "20211001", "2021-10-01T00:00", "soon"])
def test_malformed_date_strings_raise_invalid_argument(book, bad):
    for call in [
        lambda: book.lookup("M54.5", on=bad),
        lambda: book.valid_on("M54.5", bad),
        lambda: book.check_claim(["99213"], date=bad),
    ]:
        with pytest.raises(codelookup.InvalidArgument) as info:
            call()
        assert info.value.kind == "INVALID_ARGUMENT" and "YYYY-MM-DD" in str(info.value)


def test_valid_on_needs_a_date(book):
    with pytest.raises(TypeError):
        book.valid_on("M54.5")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        book.valid_on("M54.5", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        book.lookup("M54.5", None, SPLIT)  # type: ignore[misc]  # `on` is keyword-only


def test_valid_on_errors_like_lookup(book):
    with pytest.raises(codelookup.NotFound):
        book.valid_on("E11.99", SPLIT)
    with pytest.raises(codelookup.InvalidCode):
        book.valid_on("not a code", SPLIT)
    with pytest.raises(codelookup.UnknownSystem):
        book.valid_on("M54.5", SPLIT, "icd9")


def test_validity_to_dict_repr_pickle(book):
    v = book.valid_on("M54.5", SPLIT)
    d = v.to_dict()
    assert list(d) == ["code", "system", "date", "valid", "status", "valid_from", "valid_until", "replaced_by", "message"]
    assert d["status"] == "no_longer_valid" and d["date"] == SPLIT and d["replaced_by"] == v.replaced_by
    assert repr(v) == "Validity(code='M54.5', date=datetime.date(2021, 10, 1), valid=False, status='no_longer_valid')"
    again = pickle.loads(pickle.dumps(v))
    assert again == v and type(again) is codelookup.Validity and again.to_dict() == d
    assert v == book.valid_on("m545", "2021-10-01") and v != book.valid_on("M54.5", "2021-09-30")
    with pytest.raises(AttributeError):
        v.valid = True  # type: ignore[misc]


# --- check_claim -------------------------------------------------------------------------------


def test_check_claim_with_strings(book):
    check = book.check_claim(["99213", "20610"])
    assert isinstance(check, codelookup.ClaimCheck)
    assert check.date_of_service is None and check.edits_dated is False
    assert check.denied_lines == [0] and check.clean is False
    [edit] = check.ptp
    assert isinstance(edit, codelookup.PtpEdit)
    assert (edit.column1, edit.column2, edit.column1_line, edit.column2_line) == ("20610", "99213", 1, 0)
    assert edit.modifier_indicator == 1 and edit.bypassed is False and edit.bypass_modifier is None
    assert edit.effective is None and edit.deleted is None and edit.rationale
    assert all(isinstance(m, codelookup.MueResult) for m in check.mue)


def test_check_claim_with_tuples(book):
    strings = book.check_claim(["99213-25", "20610", "36415x3"])
    tuples = book.check_claim([("99213", 1, ["25"]), ("20610", 1), ("36415", 3, [])])
    assert tuples == strings
    assert tuples.ptp[0].bypassed and tuples.ptp[0].bypass_modifier == "25"
    assert tuples.denied_lines == [2]  # 36415: 3 units over an MUE of 2
    # Lists as lines, a tuple of modifiers, one modifier as a str, any iterable of lines.
    assert book.check_claim([["99213", 1, ("25",)], ["20610", 1]]).clean
    assert book.check_claim([("99213", 1, "25"), ("20610", 1)]).clean
    assert book.check_claim(line for line in ["99213-25", "20610"]).clean
    assert book.check_claim((("j1100", 120),)).clean
    assert book.check_claim([]).clean


def test_check_claim_mue(book):
    [r] = book.check_claim([("36415", 2), "36415"]).mue  # a date of service MUE: units added up
    assert (r.code, r.lines, r.units, r.mue_value, r.adjudication_indicator, r.exceeds) == ("36415", [0, 1], 3, 2, 3, True)


def test_check_claim_date(book):
    day = datetime.date(2026, 5, 1)
    assert book.check_claim(["99213"], date=day).date_of_service == day
    assert book.check_claim(["99213"], date="2026-05-01").date_of_service == day
    assert book.check_claim(["99213"], date=None).date_of_service is None
    with pytest.raises(TypeError):
        book.check_claim(["99213"], day)  # type: ignore[misc]  # `date` is keyword-only


@pytest.mark.parametrize(
    "line, index",
    [
        (99213, 0),
        (None, 0),
        (b"99213", 0),
        (("99213",), 0),
        (("99213", 1, ["25"], "extra"), 0),
        (("99213", "1"), 1),
        (("99213", 1.0), 1),
        (("99213", True), 1),
        ((99213, 1), 1),
        (("99213", 1, [25]), 1),
        (("99213", 1, {"25"}), 1),
        ({"code": "99213"}, 1),
    ],
)
def test_bad_line_items_raise_type_error_naming_the_line(book, line, index):
    lines = [line] if index == 0 else ["20610", line]
    with pytest.raises(TypeError, match=f"line {index}"):
        book.check_claim(lines)


def test_bad_lines_argument(book):
    with pytest.raises(TypeError, match="not one str"):
        book.check_claim("99213")
    with pytest.raises(TypeError):
        book.check_claim(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        book.check_claim(None)  # type: ignore[arg-type]


def test_bad_line_values_raise_core_errors(book):
    with pytest.raises(codelookup.InvalidCode):
        book.check_claim(["E11.9"])
    with pytest.raises(codelookup.InvalidCode):
        book.check_claim([("E11.9", 1)])
    for line in ["99213x0", "99213-5", ("99213", 0), ("99213", -1), ("99213", 2**40), ("99213", 1, ["2"])]:
        with pytest.raises(codelookup.InvalidArgument) as info:
            book.check_claim([line])
        assert info.value.kind == "INVALID_ARGUMENT"


def test_claim_check_to_dict_repr_pickle(book):
    check = book.check_claim(["99213", "20610", "36415x3"], date="2026-05-01")
    d = check.to_dict()
    assert list(d) == ["date_of_service", "edits_dated", "ptp", "mue", "denied_lines", "clean"]
    assert d["date_of_service"] == datetime.date(2026, 5, 1) and d["clean"] is False
    assert d["ptp"][0] == {
        "column1": "20610",
        "column2": "99213",
        "column1_line": 1,
        "column2_line": 0,
        "modifier_indicator": 1,
        "rationale": check.ptp[0].rationale,
        "effective": None,
        "deleted": None,
        "bypassed": False,
        "bypass_modifier": None,
    }
    assert [m["code"] for m in d["mue"]] == ["99213", "20610", "36415"] and d["mue"][2]["lines"] == [2]
    assert repr(check) == "ClaimCheck(clean=False, denied_lines=[0, 2], date_of_service=datetime.date(2026, 5, 1))"
    assert repr(check.ptp[0]) == "PtpEdit(column1='20610', column2='99213', modifier_indicator=1, bypassed=False)"
    assert repr(check.mue[2]) == "MueResult(code='36415', units=3, mue_value=2, exceeds=True)"
    again = pickle.loads(pickle.dumps(check))
    assert again == check and type(again) is codelookup.ClaimCheck and again.to_dict() == d
    assert pickle.loads(pickle.dumps(check.ptp)) == check.ptp
    assert pickle.loads(pickle.dumps(check.mue)) == check.mue


# --- ptp_edits and mue -------------------------------------------------------------------------


def test_ptp_edits(book):
    [edit] = book.ptp_edits(["99214", "99213"])
    assert (edit.column1, edit.column2, edit.column1_line, edit.column2_line) == ("99213", "99214", 1, 0)
    assert edit.rationale == "Misuse of Column Two code with Column One code"
    assert edit.bypassed is False and edit.bypass_modifier is None
    assert book.ptp_edits(c for c in ("99214", "99213")) == [edit]
    assert all(e.column1_line != e.column2_line for e in book.ptp_edits(["99213", "99213"]))
    assert book.ptp_edits([]) == []
    assert book.ptp_edits(["J1100"]) == []


def test_ptp_edits_errors(book):
    with pytest.raises(TypeError, match="not one str"):
        book.ptp_edits("99213")
    with pytest.raises(TypeError, match="item 1"):
        book.ptp_edits(["99213", 99214])  # type: ignore[list-item]
    with pytest.raises(codelookup.InvalidCode):
        book.ptp_edits(["99213", "E11.9"])


def test_mue(book):
    m = book.mue("36415")
    assert isinstance(m, codelookup.Mue)
    assert (m.code, m.mue_value, m.adjudication_indicator) == ("36415", 2, 3) and m.rationale
    assert book.mue("j1100").code == "J1100"
    assert book.mue("99999") is None
    assert repr(m) == "Mue(code='36415', mue_value=2, adjudication_indicator=3)"
    assert m.to_dict() == {"code": "36415", "mue_value": 2, "adjudication_indicator": 3, "rationale": m.rationale}
    assert pickle.loads(pickle.dumps(m)) == m
    with pytest.raises(codelookup.InvalidCode):
        book.mue("E11.9")
    with pytest.raises(TypeError):
        book.mue(36415)  # type: ignore[arg-type]


# --- crosswalk ---------------------------------------------------------------------------------


def test_crosswalk(book):
    [m] = book.crosswalk("250.00", "icd9_to_icd10")
    assert isinstance(m, codelookup.Mapping)
    assert (m.source, m.target, m.approximate, m.no_map, m.combination, m.scenario, m.choice_list) == (
        "250.00",
        "E11.9",
        True,
        False,
        False,
        0,
        0,
    )
    assert book.crosswalk("250.00", "9to10") == [m] and book.crosswalk("25000", "ICD9") == [m]
    assert [x.target for x in book.crosswalk("e119", "icd10_to_icd9")] == ["250.00"]
    assert repr(m) == "Mapping(source='250.00', target='E11.9', approximate=True)"
    assert m.to_dict() == {
        "source": "250.00",
        "target": "E11.9",
        "approximate": True,
        "no_map": False,
        "combination": False,
        "scenario": 0,
        "choice_list": 0,
    }
    maps = book.crosswalk("A18.01", "10to9")
    assert pickle.loads(pickle.dumps(maps)) == maps


def test_crosswalk_errors(book):
    with pytest.raises(codelookup.InvalidArgument) as info:
        book.crosswalk("250.00", "sideways")
    assert info.value.kind == "INVALID_ARGUMENT" and "sideways" in str(info.value)
    with pytest.raises(codelookup.NotFound) as nf:
        book.crosswalk("E11", "icd10_to_icd9")
    assert nf.value.kind == "NOT_FOUND" and isinstance(nf.value.suggestions, list)
    with pytest.raises(codelookup.InvalidCode):
        book.crosswalk("hello", "icd9_to_icd10")
    for call in [lambda: book.crosswalk("250.00", 9), lambda: book.crosswalk(None, "icd9"), lambda: book.crosswalk("250.00")]:
        with pytest.raises(TypeError):
            call()  # type: ignore[call-arg, arg-type]


# --- the classes -------------------------------------------------------------------------------


def test_new_classes_are_exported():
    for name in ["Validity", "ClaimCheck", "PtpEdit", "MueResult", "Mue", "Mapping"]:
        cls = getattr(codelookup, name)
        assert name in codelookup.__all__ and cls.__module__ == "codelookup" and cls.__doc__
