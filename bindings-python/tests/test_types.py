"""Records and hits are real Python objects: attributes, repr, equality, to_dict, dates."""

import datetime
from pathlib import Path

import pytest

import codelookup


def test_record_attributes(book):
    rec = book.lookup("e119")
    assert isinstance(rec, codelookup.CodeRecord)
    assert rec.code == "E11.9" and rec.system == "icd10cm" and rec.kind == "code"
    assert rec.billable is True
    assert isinstance(rec.parents, list) and all(isinstance(p, codelookup.CodeRef) for p in rec.parents)
    assert [p.kind for p in rec.parents] == ["chapter", "section", "header"]
    assert all(isinstance(n, codelookup.Note) for n in rec.notes)
    assert isinstance(rec.also_in, list) and isinstance(rec.billable_descendants, list)
    assert rec.seventh_character is None and rec.hcpcs is None and rec.pcs_axes == []


def test_repr_shows_the_main_fields(book):
    rec = book.lookup("E11.9")
    assert repr(rec) == "CodeRecord(code='E11.9', system='icd10cm', title='Type 2 diabetes mellitus without complications')"
    assert repr(rec.parents[-1]).startswith("CodeRef(code='E11'")
    assert repr(book) == "codelookup.open()" or repr(book).startswith("codelookup.open('")


def test_equality_and_immutability(book):
    a, b = book.lookup("E11.9"), book.lookup(" e11.9 ")
    assert a == b and a != book.lookup("I10") and a != "E11.9"
    with pytest.raises(AttributeError):
        a.code = "X"
    # Lists handed out are copies: changing them changes nothing in the record.
    a.parents.clear()
    assert len(a.parents) == 3


def test_seventh_character_and_pcs_axes(book):
    s = book.lookup("s72.001a").seventh_character
    assert isinstance(s, codelookup.SeventhCharacter)
    assert (s.character, s.meaning, s.source) == ("A", "initial encounter for closed fracture", "S72")
    axes = book.lookup("0DTJ4ZZ").pcs_axes
    assert [a.position for a in axes] == [1, 2, 3, 4, 5, 6, 7]
    assert all(isinstance(a, codelookup.PcsAxis) for a in axes)


def test_dates_are_datetime_date(book):
    rec = book.lookup("J1100", "hcpcs")
    info = rec.hcpcs
    assert isinstance(info, codelookup.HcpcsInfo)
    assert info.added == datetime.date(1982, 1, 1)
    assert info.terminated is None
    assert isinstance(info.pricing_indicators, list)
    assert rec.to_dict()["hcpcs"]["added"] == datetime.date(1982, 1, 1)


def test_to_dict_is_plain_data(book):
    d = book.lookup("S72.001A").to_dict()
    assert d["code"] == "S72.001A"
    assert isinstance(d["parents"], list) and isinstance(d["parents"][0], dict)
    assert d["seventh_character"] == {"character": "A", "meaning": "initial encounter for closed fracture", "source": "S72"}

    def plain(v):
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return v is None or isinstance(v, (str, int, bool, datetime.date))

    assert plain(d)


def test_lookup_all_gives_each_system(book):
    recs = book.lookup_all("B20")
    assert [r.system for r in recs] == ["icd10cm", "icd10pcs"]
    assert recs[0].also_in == ["icd10pcs"] and recs[1].also_in == ["icd10cm"]


def test_book_properties(book):
    assert set(book.systems) >= {"icd10cm", "icd10pcs", "hcpcs"}
    assert isinstance(book.metadata, dict) and book.metadata
    codes = book.codes()
    assert ("icd10cm", "E11.9") in codes[:100_000] or ("icd10cm", "E11.9") in codes


def test_search_hits(book):
    hits = book.search("type 2 diabetes without compl", limit=5)
    assert hits and all(isinstance(h, codelookup.Hit) for h in hits)
    assert "E11.9" in [h.code for h in hits]
    h = hits[0]
    assert isinstance(h.score, int) and h.matched in {"code", "title", "short_title", "inclusion_term", "abbreviation"}
    assert all(isinstance(s, tuple) and len(s) == 2 for s in h.spans)
    for start, end in h.spans:
        assert h.matched_text[start:end]
    assert h == book.search("type 2 diabetes without compl", limit=5)[0]
    assert h.to_dict()["code"] == h.code
    assert repr(h).startswith("Hit(code=")


def test_search_options(book):
    hits = book.search("e116", systems=["icd10cm"], billable=True, limit=3)
    assert all(h.system == "icd10cm" and h.billable for h in hits)
    assert len(hits) <= 3
    page2 = book.search("diabetes", limit=5, offset=5)
    page1 = book.search("diabetes", limit=10)
    assert [h.code for h in page2] == [h.code for h in page1[5:10]]
    assert book.search("diabetes", systems="hcpcs", limit=5) == book.search("diabetes", systems=["hcpcs"], limit=5)


def test_package_is_typed():
    pkg = Path(codelookup.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_codelookup.pyi").exists()


def test_every_public_name_has_a_docstring():
    for name in codelookup.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(codelookup, name)
        assert obj.__doc__ and obj.__doc__.strip(), name
        if isinstance(obj, type):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                assert getattr(member, "__doc__", None), f"{name}.{attr}"


def test_spelling_decides_like_the_core(book):
    """The caches are keyed by the exact spelling, so each spelling gets the core's own answer."""
    for spelling in ["J1100", "j1100", "J11.00", "j11.00", "J1100"]:
        assert book.lookup(spelling) == book.lookup_all(spelling)[0]
        assert book.title(spelling) == book.lookup(spelling).title
        assert book.lookup_many([spelling])[0] == book.lookup(spelling)
