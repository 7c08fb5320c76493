"""Shared fixtures: the book under test and the cross-language case files.

The book is the embedded one, or the book file named by CODELOOKUP_TEST_BOOK (for testing a
freshly built book without rebuilding the wheel).
"""

import json
import os
from pathlib import Path

import pytest

import codelookup

CASES = Path(__file__).resolve().parents[2] / "tests" / "cases"


def load_cases(name):
    """The parsed case file tests/cases/NAME (a missing one fails the suite)."""
    return json.loads((CASES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def book():
    return codelookup.open(os.environ.get("CODELOOKUP_TEST_BOOK"))


@pytest.fixture(scope="session")
def sample_codes(book):
    """10,000 real codes of the book, spread over every system, in a fixed order."""
    codes = [code for _, code in book.codes()]
    step = max(1, len(codes) // 10_000)
    return codes[::step][:10_000]
