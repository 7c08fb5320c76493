"""Runs the cross-language cases of tests/cases/*.json against the Python API, with the same
semantics as the Rust suite (core/tests/shared_cases.rs, core/tests/search_cases.rs)."""

import datetime

import pytest

import codelookup

from conftest import load_cases

LOOKUP = load_cases("lookup.json")
SEARCH = load_cases("search.json")
VALIDITY = load_cases("validity.json")
BILLING = load_cases("billing.json")

# The stable error kinds of the case files and the exception classes they map to.
ERRORS = {
    "NOT_FOUND": codelookup.NotFound,
    "INVALID_CODE": codelookup.InvalidCode,
    "UNKNOWN_SYSTEM": codelookup.UnknownSystem,
    "INVALID_ARGUMENT": codelookup.InvalidArgument,
    "NOT_VALID_ON_DATE": codelookup.NotValidOnDate,
    "BOOK_ERROR": codelookup.BookError,
    "QUOTA_EXCEEDED": codelookup.QuotaExceeded,
    "STORAGE_ERROR": codelookup.StorageError,
    "IO_ERROR": codelookup.FileError,
}


def codes_of(items):
    """Codes of a list of CodeRef dicts or plain code strings."""
    return [i if isinstance(i, str) else i["code"] for i in items]


@pytest.mark.parametrize("case", LOOKUP["cases"], ids=[c["name"] for c in LOOKUP["cases"]])
def test_lookup_case(book, case):
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as info:
            book.lookup(case["input"], case.get("system"))
        assert info.value.kind == case["error"], str(info.value)
        for s in case.get("suggestions_include", []):
            assert s in info.value.suggestions
        return
    rec = book.lookup(case["input"], case.get("system"))
    d = rec.to_dict()
    for field, want in case["expect"].items():
        assert d[field] == want, field
    if "parents" in case:
        assert [p.code for p in rec.parents] == case["parents"]
    for key, field in [("billable_descendants_include", "billable_descendants"), ("children_include", "children")]:
        for want in case.get(key, []):
            assert want in codes_of(d[field]), f"{want} not in {field}"
    for note in case.get("notes_include", []):
        assert note in d["notes"], f"note {note} missing"
    if "seventh_character" in case:
        assert d["seventh_character"] == case["seventh_character"]
    if "pcs_axes" in case:
        assert [a.label for a in rec.pcs_axes] == case["pcs_axes"]
    for field, want in case.get("hcpcs", {}).items():
        got = d["hcpcs"][field]
        # The JSON cases write dates as ISO strings; the API gives datetime.date.
        assert (got.isoformat() if hasattr(got, "isoformat") else got) == want, f"hcpcs.{field}"


def test_case_file_is_substantial():
    assert len(LOOKUP["cases"]) >= 20


def test_validity_cases(book):
    v = LOOKUP["valid"]
    for c in v["valid"]:
        assert book.is_valid(c), c
    for c in v["invalid"]:
        assert not book.is_valid(c), c
    for c in v["billable"]:
        assert book.is_billable(c), c
    for c in v["not_billable"]:
        assert not book.is_billable(c), c


def test_batch_cases(book):
    b = LOOKUP["batch"]
    got = [r.code if r is not None else None for r in book.lookup_many(b["input"])]
    assert got == b["codes"]


def test_title_agrees_with_lookup(book):
    for case in LOOKUP["cases"]:
        if "error" in case:
            continue
        assert book.title(case["input"], case.get("system")) == book.lookup(case["input"], case.get("system")).title


# --- search.json: the relevance set (same semantics as core/tests/search_cases.rs) -------------

SEARCH_CASES = (SEARCH or {}).get("cases", [])


def search_kwargs(options):
    """Book.search keyword arguments for a case's `options` (SearchOptions field names)."""
    kwargs = dict(options)
    if kwargs.get("range") is not None:
        kwargs["range"] = tuple(kwargs["range"])
    if kwargs.get("date") is not None:
        kwargs["date"] = datetime.date.fromisoformat(kwargs["date"])
    return kwargs


def first_accepted(book, case, depth):
    """The 1-based rank of the first accepted hit among the first `depth` hits, or None."""
    kwargs = search_kwargs(case.get("options", {}))
    kwargs["limit"] = depth
    hits = book.search(case["query"], **kwargs)
    accept = case.get("accept", [])
    prefixes = case.get("accept_prefix", [])
    for i, h in enumerate(hits):
        if h.code in accept or any(h.code.startswith(p) for p in prefixes):
            return i + 1
    return None


def test_relevance_set_is_well_formed():
    assert len(SEARCH_CASES) >= 80
    per = {}
    for c in SEARCH_CASES:
        assert c["k"] in (1, 5, 10), c
        assert c.get("accept") or c.get("accept_prefix"), c
        per[c["category"]] = per.get(c["category"], 0) + 1
    for cat in ["exact_code", "code_prefix", "words", "autocomplete", "typo", "synonym", "abbreviation"]:
        assert per.get(cat, 0) >= 10, (cat, per)


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[f"{c['category']}:{c['query']}" for c in SEARCH_CASES])
def test_search_case(book, case):
    rank = first_accepted(book, case, 10)
    assert rank is not None and rank <= case["k"], f"{case['query']!r} (k={case['k']}): accepted code at rank {rank}"


# --- validity.json: dates of service (same semantics as date_of_service_cases in Rust) ---------


def plain(value):
    """A value as the JSON case files write it: dates as ISO strings."""
    return value.isoformat() if isinstance(value, datetime.date) else value


VALIDITY_CASES = VALIDITY["cases"]


def test_validity_case_file_is_substantial():
    assert len(VALIDITY_CASES) >= 15


@pytest.mark.parametrize("case", VALIDITY_CASES, ids=[c["name"] for c in VALIDITY_CASES])
def test_date_of_service_case(book, case):
    system = case.get("system")
    on = datetime.date.fromisoformat(case["date"])
    if "lookup_error" in case:
        with pytest.raises(ERRORS[case["lookup_error"]]) as info:
            book.lookup(case["input"], system, on=on)
        assert info.value.kind == case["lookup_error"], str(info.value)
    elif "error" not in case:
        rec = book.lookup(case["input"], system, on=on)
        assert isinstance(rec, codelookup.CodeRecord)
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as info:
            book.valid_on(case["input"], on, system)
        assert info.value.kind == case["error"], str(info.value)
        return
    v = book.valid_on(case["input"], on, system)
    d = v.to_dict()
    for field, want in case["expect"].items():
        assert plain(d[field]) == want, field
        assert plain(getattr(v, field)) == want, field
    if "replaced_by" in case:
        assert v.replaced_by == case["replaced_by"]
    assert v.message and v.code in v.message, v.message
    # The ISO spelling of the date gives the same answer.
    assert book.valid_on(case["input"], case["date"], system) == v


# --- billing.json: claims and crosswalks (same semantics as billing_cases in Rust) -------------

CLAIM_CASES = BILLING["claims"]
CROSSWALK_CASES = BILLING["crosswalks"]


@pytest.mark.parametrize("case", CLAIM_CASES, ids=[c["name"] for c in CLAIM_CASES])
def test_claim_case(book, case):
    on = datetime.date.fromisoformat(case["date"]) if "date" in case else None
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as info:
            book.check_claim(case["lines"], date=on)
        assert info.value.kind == case["error"], str(info.value)
        return
    check = book.check_claim(case["lines"], date=on)
    assert check.date_of_service == on
    ptp = [[e.column1, e.column2, e.modifier_indicator, e.bypassed, e.bypass_modifier] for e in check.ptp]
    assert ptp == case["ptp"]
    if "mue" in case:
        assert [[m.code, m.units, m.mue_value, m.exceeds] for m in check.mue] == case["mue"]
    assert check.denied_lines == case["denied_lines"]
    assert check.clean is case["clean"]


@pytest.mark.parametrize("case", CROSSWALK_CASES, ids=[c["name"] for c in CROSSWALK_CASES])
def test_crosswalk_case(book, case):
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as info:
            book.crosswalk(case["input"], case["direction"])
        assert info.value.kind == case["error"], str(info.value)
        return
    maps = book.crosswalk(case["input"], case["direction"])
    if "targets" in case:
        assert [m.target for m in maps] == case["targets"]
    if "approximate" in case:
        assert all(m.approximate is case["approximate"] for m in maps)
    if "scenario_2" in case:
        got = [[m.choice_list, m.target] for m in maps if m.combination and m.scenario == 2]
        assert got == case["scenario_2"]
