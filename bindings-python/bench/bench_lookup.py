"""Python lookup benchmark: codelookup against simple-icd-10-cm and a plain dict (the floor).

All three answer the same questions on the same codes in one run: is this a code (validity),
and what is its title (description). The codes are ICD-10-CM codes that both libraries know
(simple-icd-10-cm covers ICD-10-CM only), drawn with a fixed seed: 10,000 distinct codes, then
a stream of calls that repeats them like the lines of a claims file.

    pip install simple-icd-10-cm          # into the environment where codelookup is installed
    python bindings-python/bench/bench_lookup.py [--book PATH] [--calls N] [--batch N]

Every measurement is repeated (interleaved) and the best repetition is reported, which is the
least disturbed by other work on the machine. `cold` rows use a freshly opened Book, so every
distinct code is met for the first time.
"""

import argparse
import gc
import platform
import random
import time

import codelookup

try:
    import simple_icd_10_cm as sicd
except ImportError:  # pragma: no cover - reported in the output
    sicd = None


def best(fn, repeat):
    """The fastest of `repeat` runs of fn(), in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--book", help="a book file (default: the embedded book)")
    ap.add_argument("--distinct", type=int, default=10_000, help="distinct codes (default 10,000)")
    ap.add_argument("--calls", type=int, default=200_000, help="single calls per measurement (default 200,000)")
    ap.add_argument("--batch", type=int, default=1_000_000, help="codes per batch (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions, best kept (default 5)")
    args = ap.parse_args()

    book = codelookup.open(args.book)
    rng = random.Random(20250101)
    candidates = [c for s, c in book.codes() if s == "icd10cm" and book.is_billable(c, "icd10cm")]
    if sicd is not None:
        candidates = [c for c in candidates if sicd.is_valid_item(c)]
    distinct = rng.sample(candidates, min(args.distinct, len(candidates)))
    titles = {c: book.title(c, "icd10cm") for c in distinct}  # the dict floor: the same data
    calls = [rng.choice(distinct) for _ in range(args.calls)]
    batch = [rng.choice(distinct) for _ in range(args.batch)]
    n = len(calls)

    # Warm every path once (and the codelookup caches, for the warm rows).
    for c in distinct:
        book.lookup(c)
        book.title(c)
        if sicd is not None:
            sicd.get_description(c)

    single = {}  # name -> ns per call

    def measure(name, fn, count=n):
        single[name] = min(single.get(name, float("inf")), best(fn, 1) / count * 1e9)

    d = titles
    bk = book
    for _ in range(args.repeat):
        measure("validity: dict `code in d`", lambda: [c in d for c in calls])
        measure("validity: codelookup `book.is_valid(code)`", lambda: [bk.is_valid(c) for c in calls])
        measure("title: dict `d.get(code)`", lambda: [d.get(c) for c in calls])
        measure("title: codelookup `book.title(code)`", lambda: [bk.title(c) for c in calls])
        measure("title: codelookup `book.lookup(code).title`", lambda: [bk.lookup(c).title for c in calls])
        measure("record: codelookup `book.lookup(code)`", lambda: [bk.lookup(c) for c in calls])
        if sicd is not None:
            few = calls[: n // 10]
            measure("validity: simple-icd-10-cm `is_valid_item(code)`", lambda: [sicd.is_valid_item(c) for c in few], len(few))
            measure("title: simple-icd-10-cm `get_description(code)`", lambda: [sicd.get_description(c) for c in few], len(few))

    # Cold: a fresh Book each time, every distinct code met once.
    cold = {}
    for _ in range(args.repeat):
        fresh = codelookup.open(args.book)
        cold["title, cold: `book.title(code)`"] = min(cold.get("title, cold: `book.title(code)`", 1e18), best(lambda: [fresh.title(c) for c in distinct], 1) / len(distinct) * 1e9)
        fresh = codelookup.open(args.book)
        cold["record, cold: `book.lookup(code)`"] = min(cold.get("record, cold: `book.lookup(code)`", 1e18), best(lambda: [fresh.lookup(c) for c in distinct], 1) / len(distinct) * 1e9)

    # Batch: codes per second over one list.
    batch_rates = {}

    def rate(name, fn, count=len(batch)):
        batch_rates[name] = max(batch_rates.get(name, 0.0), count / best(fn, 1))

    for _ in range(max(2, args.repeat // 2)):
        rate("dict: `[d.get(c) for c in codes]`", lambda: [d.get(c) for c in batch])
        rate("codelookup: `book.lookup_many(codes)` (records)", lambda: bk.lookup_many(batch))
        rate("codelookup: `book.lookup_many(codes)`, fresh Book (cold)", lambda: codelookup.open(args.book).lookup_many(batch))
        rate("codelookup: `[book.title(c) for c in codes]`", lambda: [bk.title(c) for c in batch])
        if sicd is not None:
            few = batch[:100_000]
            rate("simple-icd-10-cm: `[get_description(c) for c in codes]`", lambda: [sicd.get_description(c) for c in few], len(few))

    floor_valid = single["validity: dict `code in d`"]
    floor_title = single["title: dict `d.get(code)`"]
    print(f"Python {platform.python_version()} on {platform.machine()}, codelookup {codelookup.__version__}, "
          f"simple-icd-10-cm {'installed' if sicd else 'NOT installed'}; {len(distinct):,} distinct ICD-10-CM codes, "
          f"{n:,} calls per single-call row, {len(batch):,} codes per batch, best of {args.repeat}.")
    print()
    print("| single call | ns/call | × dict |")
    print("| --- | ---: | ---: |")
    for name, ns in single.items():
        floor = floor_valid if name.startswith("validity") else floor_title
        print(f"| {name} | {ns:,.0f} | {ns / floor:.1f} |")
    for name, ns in cold.items():
        print(f"| {name} | {ns:,.0f} | {ns / floor_title:.1f} |")
    print()
    print("| batch | codes/s | × dict loop |")
    print("| --- | ---: | ---: |")
    floor_rate = batch_rates["dict: `[d.get(c) for c in codes]`"]
    for name, r in batch_rates.items():
        print(f"| {name} | {r:,.0f} | {r / floor_rate:.2f} |")


if __name__ == "__main__":
    main()
