"""Errors: one CodeLookupError root, a subclass per kind, attributes, TypeError for bad types."""

import pickle

import pytest

import codelookup


def test_hierarchy():
    for cls in [
        codelookup.NotFound,
        codelookup.InvalidCode,
        codelookup.UnknownSystem,
        codelookup.InvalidArgument,
        codelookup.NotValidOnDate,
        codelookup.BookError,
        codelookup.QuotaExceeded,
        codelookup.StorageError,
        codelookup.FileError,
    ]:
        assert issubclass(cls, codelookup.CodeLookupError), cls
        assert cls.__module__ == "codelookup"
        assert cls.__doc__
    assert issubclass(codelookup.CodeLookupError, Exception)
    assert issubclass(codelookup.NotFound, LookupError)
    for cls in [codelookup.InvalidCode, codelookup.UnknownSystem, codelookup.InvalidArgument]:
        assert issubclass(cls, ValueError)
    assert issubclass(codelookup.FileError, OSError)


def test_not_found_carries_suggestions(book):
    with pytest.raises(codelookup.NotFound) as info:
        book.lookup("W21.89A")
    e = info.value
    assert e.kind == "NOT_FOUND" and e.code == "W21.89A"
    assert "W21.89XA" in e.suggestions
    assert "W21.89A" in str(e) and "W21.89XA" in str(e)


def test_invalid_code(book):
    with pytest.raises(codelookup.InvalidCode) as info:
        book.lookup("E11..9")
    assert info.value.kind == "INVALID_CODE"
    assert info.value.input == "E11..9" and "dot" in info.value.reason
    with pytest.raises(ValueError):
        book.lookup("💉")


def test_unknown_system(book):
    with pytest.raises(codelookup.UnknownSystem) as info:
        book.lookup("E11.9", "snomed")
    assert info.value.system == "snomed" and "snomed" in str(info.value)
    with pytest.raises(codelookup.UnknownSystem):
        book.is_valid("E11.9", system="icd-11")
    with pytest.raises(codelookup.UnknownSystem):
        book.search("diabetes", systems=["icd10cm", "nope"])


def test_invalid_argument(book):
    with pytest.raises(codelookup.InvalidArgument):
        book.search("diabetes", limit=100_000)
    with pytest.raises(codelookup.InvalidArgument):
        book.search("diabetes", limit=-1)
    with pytest.raises(codelookup.InvalidArgument):
        codelookup.Plan("daily", 3, window="fortnight")


@pytest.mark.parametrize(
    "call",
    [
        lambda book: book.search("diabetes", offset=-5),
        lambda book: book.search("diabetes", chapter=400),
        lambda book: book.search("diabetes", chapter=-1),
        lambda book: codelookup.Plan("daily", -1),
        lambda book: codelookup.Quota(":memory:").grant("s", -1),
    ],
    ids=["offset", "chapter too big", "chapter negative", "plan limit", "grant"],
)
def test_negative_or_out_of_range_numbers_are_invalid_arguments(book, call):
    """As in Node: the core's INVALID_ARGUMENT, not pyo3's OverflowError."""
    with pytest.raises(codelookup.InvalidArgument) as info:
        call(book)
    assert info.value.kind == "INVALID_ARGUMENT"


def test_floats_are_type_errors_not_truncated(book):
    with pytest.raises(TypeError):
        book.search("diabetes", limit=1.5)
    q = codelookup.Quota(":memory:")
    with pytest.raises(TypeError):
        q.grant("s", 2.5)
    assert q.usage("s").granted == 0


def test_book_error(tmp_path):
    with pytest.raises(codelookup.BookError):
        codelookup.open(tmp_path / "missing.book")
    bad = tmp_path / "bad.book"
    bad.write_bytes(b"not a code book")
    with pytest.raises(codelookup.BookError) as info:
        codelookup.open(str(bad))
    assert info.value.kind == "BOOK_ERROR"


def test_wrong_argument_types_raise_type_error(book):
    for call in [
        lambda: book.lookup(119),
        lambda: book.lookup(None),
        lambda: book.lookup(b"E11.9"),
        lambda: book.lookup("E11.9", system=3),
        lambda: book.is_valid(["E11.9"]),
        lambda: book.title(1.5),
        lambda: book.search(42),
        lambda: book.search("x", limit="10"),
        lambda: book.search("x", systems=[1]),
        lambda: book.lookup_many("E11.9"),
        lambda: book.lookup_many(["E11.9", 119]),
        lambda: book.lookup_many(5),
        lambda: codelookup.open(5),
        lambda: codelookup.Quota(":memory:", plans="guest"),
        lambda: codelookup.Quota(":memory:", plans=[1]),
    ]:
        with pytest.raises(TypeError):
            call()


def test_is_valid_never_raises_for_bad_codes(book):
    for c in ["", "   ", "E11..9", "💉", "x" * 10_000, "\ud800"]:
        assert book.is_valid(c) is False
        assert book.title(c) is None


def test_exceptions_pickle_with_their_attributes(book):
    try:
        book.lookup("W21.89A")
    except codelookup.NotFound as e:
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is codelookup.NotFound
        assert again.suggestions == e.suggestions and str(again) == str(e)


def test_errors_raised_by_the_binding_itself_have_a_kind(book):
    """Argument checks done in the binding raise through the core error, with `kind` set."""
    with pytest.raises(codelookup.InvalidArgument) as info:
        book.search("diabetes", limit=-1)
    assert info.value.kind == "INVALID_ARGUMENT" and "limit" in str(info.value)
    with pytest.raises(codelookup.InvalidArgument) as info:
        codelookup.Quota(":memory:", busy_timeout=-1)
    assert info.value.kind == "INVALID_ARGUMENT"
    q = codelookup.Quota(":memory:")
    q.close()
    with pytest.raises(codelookup.StorageError) as storage:
        q.usage("s")
    assert storage.value.kind == "STORAGE_ERROR" and "closed" in str(storage.value)
    with pytest.raises(codelookup.InvalidArgument) as info:
        book.valid_on("E11.9", "2024-02-30")
    assert info.value.kind == "INVALID_ARGUMENT"
