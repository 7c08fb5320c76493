"""The Python examples of bindings-python/README.md run as they are written."""

import os
import re
from pathlib import Path

import pytest

import codelookup

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example(block, monkeypatch):
    if "import pandas" in block:
        pytest.importorskip("pandas")
    test_book = os.environ.get("CODELOOKUP_TEST_BOOK")
    if test_book:
        real_open = codelookup.open
        monkeypatch.setattr(codelookup, "open", lambda path=None: real_open(path or test_book))
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})
