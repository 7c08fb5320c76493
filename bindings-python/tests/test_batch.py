"""lookup_many: any iterable, same order, None for unknown or missing codes."""

import math

import pytest

import codelookup


def test_any_iterable(book):
    codes = ["E11.9", "nope!", "0dtj4zz", "E11.99"]
    want = ["E11.9", None, "0DTJ4ZZ", None]
    for arg in [codes, tuple(codes), iter(codes), (c for c in codes), dict.fromkeys(codes)]:
        got = [r.code if r else None for r in book.lookup_many(arg)]
        assert got == want


def test_missing_values_give_none(book):
    got = book.lookup_many([None, math.nan, "E11.9", float("nan")])
    assert got[0] is None and got[1] is None and got[3] is None
    assert got[2].code == "E11.9"


def test_system_filter(book):
    assert [r.system for r in book.lookup_many(["B20", "B20"], system="icd10pcs")] == ["icd10pcs", "icd10pcs"]
    with pytest.raises(codelookup.UnknownSystem):
        book.lookup_many(["B20"], system="snomed")


def test_repeated_codes_share_one_object(book):
    a, b, c, d = book.lookup_many(["E11.9", "e119", "E11.9", " E11.9 "])
    assert a is c and a == b == d
    assert a is book.lookup("E11.9")


def test_empty(book):
    assert book.lookup_many([]) == []


def test_one_million_codes(book, sample_codes):
    n = 1_000_000
    codes = (sample_codes * (n // len(sample_codes) + 1))[:n]
    codes[7] = "E11.99"  # unknown
    codes[11] = "not a code"
    recs = book.lookup_many(codes)
    assert len(recs) == n
    assert recs[7] is None and recs[11] is None
    for i in [0, 1, 12_345, 999_999]:
        assert recs[i] is not None and recs[i].code == codes[i]


def test_pandas_series(book):
    pd = pytest.importorskip("pandas")
    claims = pd.DataFrame({"claim": [1, 2, 3, 4], "code": ["E11.9", "i10", None, "E11.99"]})
    recs = book.lookup_many(claims["code"])
    claims["description"] = [r.title if r else None for r in recs]
    assert claims["description"].tolist()[:2] == [book.title("E11.9"), book.title("I10")]
    assert claims["description"].isna().tolist() == [False, False, True, True]
    # String dtype with pandas.NA, and a categorical column.
    assert book.lookup_many(pd.Series(["E11.9", None], dtype="string"))[1] is None
    assert book.lookup_many(pd.Series(["E11.9", "I10", "E11.9"], dtype="category"))[2].code == "E11.9"


def test_numpy_array(book):
    np = pytest.importorskip("numpy")
    recs = book.lookup_many(np.array(["E11.9", "I10"], dtype=object))
    assert [r.code for r in recs] == ["E11.9", "I10"]
    recs = book.lookup_many(np.array(["E11.9", "I10"]))
    assert [r.code for r in recs] == ["E11.9", "I10"]
