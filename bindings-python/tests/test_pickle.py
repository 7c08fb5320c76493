"""Pickling: records and hits round-trip, a Book pickles as "open it again", a Quota refuses."""

import pickle

import pytest

import codelookup


@pytest.mark.parametrize("code", ["E11.9", "S72.001A", "0DTJ4ZZ", "J1100", "LT", "E11"])
def test_records_round_trip(book, code):
    rec = book.lookup(code)
    again = pickle.loads(pickle.dumps(rec))
    assert again == rec and type(again) is codelookup.CodeRecord
    assert again.to_dict() == rec.to_dict()
    for part in rec.parents + rec.notes + rec.pcs_axes:
        assert pickle.loads(pickle.dumps(part)) == part


def test_hits_round_trip(book):
    hits = book.search("diabetes", limit=3)
    assert pickle.loads(pickle.dumps(hits)) == hits


def test_book_reopens(book):
    again = pickle.loads(pickle.dumps(book))
    assert isinstance(again, codelookup.Book)
    assert again.path == book.path
    assert again.lookup("E11.9") == book.lookup("E11.9")


def test_plan_round_trips():
    p = codelookup.Plan("pro", 100, "day:America/New_York", hint="Upgrade.")
    assert pickle.loads(pickle.dumps(p)) == p


def test_quota_refuses_clearly():
    q = codelookup.Quota(":memory:")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(q)
    with pytest.raises(TypeError, match="to_dict"):
        pickle.dumps(q.view("s", "E11.9"))
    assert pickle.loads(pickle.dumps(q.view("s", "E11.9").to_dict()))["code"] == "E11.9"
