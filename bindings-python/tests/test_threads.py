"""Objects are safe to share between threads, and long calls release the GIL."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import codelookup


def test_shared_book_many_threads(book, sample_codes):
    def work(offset):
        out = []
        for c in sample_codes[offset::8][:500]:
            rec = book.lookup(c)
            assert rec.code == c
            assert book.is_valid(c)
            out.append(book.title(c) == rec.title)
        out.append(len(book.lookup_many(sample_codes[offset::8])) == len(sample_codes[offset::8]))
        out.append(bool(book.search("diabetes", limit=5)))
        return all(out)

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))


def test_lookup_many_releases_the_gil(book, sample_codes):
    """While one thread runs a big batch, another thread keeps running Python code."""
    codes = sample_codes * 100  # 1,000,000
    book = codelookup.open(book.path)  # a fresh Book: no record built yet
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    time.sleep(0.01)
    start = time.perf_counter()
    book.lookup_many(codes)
    end = time.perf_counter()
    done.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # The ticker got to run during the batch (it could not if the GIL were held throughout).
    assert len(during) >= 3, f"{len(during)} ticks in {end - start:.3f} s"


def test_search_from_threads(book):
    queries = ["diabetes", "hypertenson", "chf", "fracture of femur", "e11", "0dt", "j11"]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda q: book.search(q, limit=10), queries * 10))
    for q, hits in zip(queries * 10, results):
        assert hits == book.search(q, limit=10), q


def test_shared_quota_many_threads(tmp_path):
    q = codelookup.Quota(tmp_path / "q.db", [codelookup.Plan("metered", 50)])

    def work(i):
        return [q.view(f"s{i % 4}", f"C{j}").allowed for j in range(40)]

    with ThreadPoolExecutor(8) as pool:
        results = [x for r in pool.map(work, range(8)) for x in r]
    assert len(results) == 320
    for s in range(4):
        assert q.usage(f"s{s}").used == 40  # 2 threads x 40 codes each, same codes: 40 unlocks
