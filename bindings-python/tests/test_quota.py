"""The quota API, and the concurrency scenario of core/tests/quota_concurrency.rs from several
Python processes and threads sharing one quota file."""

import datetime
import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import codelookup


def test_default_plans_guest_flow(tmp_path):
    with codelookup.Quota(tmp_path / "views.db") as q:
        assert [p.name for p in q.plans] == ["guest", "registered", "unlimited"]
        assert q.default_plan == "guest" and q.free_reviews
        d = q.view("guest:1f3a", "E11.9", request_key="req-1")
        assert isinstance(d, codelookup.Decision)
        assert (d.allowed, d.charged, d.replayed, d.used, d.limit, d.remaining) == (True, True, False, 1, 1, 0)
        assert d.raise_if_denied() is d
        assert not q.view("guest:1f3a", "E11.9").charged  # free re-view
        denied = q.view("guest:1f3a", "I10")
        assert not denied.allowed
        assert denied.reason == "0 code page views remaining. Register to get 5 more views."
        with pytest.raises(codelookup.QuotaExceeded) as info:
            denied.raise_if_denied()
        assert (info.value.remaining, info.value.limit, info.value.kind) == (0, 1, "QUOTA_EXCEEDED")
        # The retry of req-1 replays the first decision.
        again = q.view("guest:1f3a", "E11.9", request_key="req-1")
        assert again.replayed and again.charged and again.used == 1
        u = q.set_plan("guest:1f3a", "registered")
        assert isinstance(u, codelookup.Usage)
        assert (u.plan, u.used, u.limit, u.remaining) == ("registered", 1, 6, 5)
        assert q.view("guest:1f3a", "I10").allowed
        assert q.grant("guest:1f3a", 5).limit == 11
        assert q.remaining("guest:1f3a") == 9
        assert q.reset("guest:1f3a").used == 0
        ledger = q.ledger("guest:1f3a")
        assert [e.code for e in ledger] == ["E11.9", "E11.9", "I10", "I10"]
        assert all(isinstance(e, codelookup.LedgerEntry) and isinstance(e.at, datetime.datetime) for e in ledger)
        assert ledger[0].at.tzinfo is not None
        assert [e.seq for e in ledger] == [1, 2, 3, 4]
    assert q.closed
    with pytest.raises(codelookup.StorageError, match="closed"):
        q.view("x", "E11.9")


def test_custom_plans_and_windows(tmp_path):
    plans = [
        codelookup.Plan("free", 2, "day:America/New_York", hint="Come back tomorrow."),
        {"name": "paid", "limit": None},
    ]
    q = codelookup.Quota(tmp_path / "q.db", plans, free_reviews=False)
    assert q.default_plan == "free" and not q.free_reviews
    assert q.plans[0] == plans[0] and q.plans[1].limit is None and q.plans[1].window == "lifetime"
    assert q.view("u", "A00").allowed and q.view("u", "A00").allowed  # re-views are charged
    d = q.view("u", "A00")
    assert not d.allowed and "Come back tomorrow." in d.reason
    assert isinstance(d.reset_at, datetime.datetime) and d.reset_at.tzinfo is not None
    assert q.set_plan("u", "paid").remaining is None
    with pytest.raises(codelookup.InvalidArgument, match="unknown plan"):
        q.set_plan("u", "gold")
    with pytest.raises(codelookup.InvalidArgument):
        codelookup.Quota(":memory:", plans, default_plan="gold")
    with pytest.raises(codelookup.InvalidArgument):
        q.view("", "A00")


def test_request_key_reused_for_another_code(tmp_path):
    q = codelookup.Quota(":memory:", [codelookup.Plan("p", 10)])
    q.view("s", "A00", request_key="k")
    with pytest.raises(codelookup.InvalidArgument):
        q.view("s", "B00", request_key="k")


def test_view_many_is_views_one_after_another(tmp_path):
    batched = codelookup.Quota(tmp_path / "a.db", PLANS)
    serial = codelookup.Quota(tmp_path / "b.db", PLANS)
    rng = random.Random(4)
    requests = []
    for i in range(200):
        if requests and rng.randrange(6) == 0:
            requests.append(rng.choice(requests))  # a retry, maybe of a key of this batch
            continue
        subject, code = rng.choice(SUBJECTS)[0], f"C{rng.randrange(8)}"
        requests.append((subject, code, f"k{i}") if rng.randrange(2) else (subject, code))
    for q in (batched, serial):
        for subject, plan in SUBJECTS:
            q.set_plan(subject, plan)
    got = batched.view_many(requests)
    want = [serial.view(*r) for r in requests]
    assert all(isinstance(d, codelookup.Decision) for d in got)
    assert [d.to_dict() for d in got] == [d.to_dict() for d in want]
    assert any(d.replayed for d in got) and any(not d.allowed for d in got)
    for subject, _ in SUBJECTS:
        assert [e.to_dict() | {"at": None} for e in batched.ledger(subject)] == [
            e.to_dict() | {"at": None} for e in serial.ledger(subject)
        ]
    assert batched.view_many([]) == []
    assert batched.view_many(iter([("x", "A00", None)]))[0].charged


def test_view_many_is_all_or_nothing():
    q = codelookup.Quota(":memory:", [codelookup.Plan("p", 10)])
    q.view("s", "A00", request_key="k")
    with pytest.raises(codelookup.InvalidArgument, match=r"requests\[2\]: .*already used"):
        q.view_many([("s", "B00"), ("t", "B00", "k2"), ("s", "C00", "k")])
    assert q.usage("s").used == 1 and q.usage("t").used == 0 and len(q.ledger("s")) == 1
    with pytest.raises(codelookup.InvalidArgument, match=r"requests\[1\]: the code is empty"):
        q.view_many([("s", "B00"), ("s", "")])
    for bad, named in [
        ([("s", "B00"), ["s", "C00"]], r"requests\[1\] must be a tuple .* not list"),
        ([("s",)], r"requests\[0\] must be a tuple"),
        ([("s", "B00", "k", "extra")], r"requests\[0\]"),
        ([("s", 7)], r"requests\[0\] .* not tuple \('s', 7\)"),
        ([{"subject": "s", "code": "B00"}], r"requests\[0\] .* not dict"),
    ]:
        with pytest.raises(TypeError, match=named):
            q.view_many(bad)
    with pytest.raises(TypeError, match="not a str"):
        q.view_many("s")
    assert q.usage("s").used == 1


def test_view_code(book):
    q = codelookup.Quota(":memory:")
    rec, d = book.view_code(q, "guest:1", "e119")
    assert rec.code == "E11.9" and d.code == "E11.9" and d.charged
    assert not book.view_code(q, "guest:1", "E11.9")[1].charged  # another spelling, same unlock
    with pytest.raises(codelookup.QuotaExceeded) as info:
        book.view_code(q, "guest:1", "I10")
    assert info.value.remaining == 0 and info.value.limit == 1 and "Register" in info.value.reason
    with pytest.raises(codelookup.NotFound):
        book.view_code(q, "guest:2", "E11.99")
    assert q.usage("guest:2").used == 0  # an unknown code costs no view
    with pytest.raises(TypeError):
        book.view_code("not a quota", "guest:1", "E11.9")


# --- The concurrency scenario ----------------------------------------------------------------

PLANS = [
    {"name": "guest", "limit": 1},
    {"name": "registered", "limit": 6},
    {"name": "metered", "limit": 25},
    {"name": "unlimited", "limit": None},
]
LIMITS = {p["name"]: p["limit"] for p in PLANS}
SUBJECTS = [(f"subject-{i}", PLANS[i % 4]["name"]) for i in range(12)]
CODES = 40
PROCESSES = 4
VIEWS_PER_PROCESS = 600
THREADS = 4
VIEWS_PER_THREAD = 300


def open_quota(path):
    return codelookup.Quota(path, PLANS, busy_timeout=60)


def run_views(q, worker, n):
    """n views: mostly new request keys, some keyless, some retries of an earlier key (which must
    replay the first decision exactly). Returns what was seen, as dicts."""
    rng = random.Random(worker)
    seen, firsts = [], []
    for i in range(n):
        roll = rng.randrange(10)
        if roll == 0 and firsts:
            key, first = rng.choice(firsts)
            d = q.view(first["subject"], first["code"], request_key=key)
            assert d.replayed
            got = d.to_dict()
            assert {**got, "replayed": False} == first, f"retry of {key} changed its decision"
            seen.append({"key": key, "subject": d.subject, "code": d.code, "allowed": d.allowed, "charged": d.charged, "replayed": True})
            continue
        subject = rng.choice(SUBJECTS)[0]
        code = f"C{rng.randrange(CODES):02}"
        key = None if roll == 1 else f"w{worker}-{i}"
        d = q.view(subject, code, request_key=key)
        assert not d.replayed
        seen.append({"key": key, "subject": subject, "code": code, "allowed": d.allowed, "charged": d.charged, "replayed": False})
        if key:
            firsts.append((key, d.to_dict()))
    return seen


def check_subject(q, subject, plan):
    """Replays the subject's ledger in commit order: each row must be what a serial run decides."""
    limit = LIMITS[plan]
    ledger = q.ledger(subject)
    used, unlocked = {}, set()
    for e in ledger:
        assert (e.plan, e.limit) == (plan, limit), e
        u = used.get(e.epoch, 0)
        if (e.epoch, e.code) in unlocked:
            expected = (True, False)
        elif limit is None or u < limit:
            expected = (True, True)
        else:
            expected = (False, False)
        assert (e.allowed, e.charged) == expected, f"{subject}: {e!r} is not what a serial run decides"
        if e.charged:
            u += 1
            unlocked.add((e.epoch, e.code))
        used[e.epoch] = u
        assert e.used == u, e
        assert limit is None or e.used <= limit, f"{subject} went past its limit"
    usage = q.usage(subject)
    assert usage.used == sum(1 for e in ledger if e.charged and e.epoch == usage.epoch)
    assert limit is None or usage.used <= limit
    return ledger


def check_all(q, seen):
    by_key, rows, charged_rows = {}, 0, 0
    for subject, plan in SUBJECTS:
        for e in check_subject(q, subject, plan):
            rows += 1
            charged_rows += e.charged
            if e.request_key is not None:
                assert e.request_key not in by_key, f"key {e.request_key} twice in the ledger"
                by_key[e.request_key] = e
    fresh = [s for s in seen if not s["replayed"]]
    assert rows == len(fresh), "ledger rows != fresh decisions returned"
    assert charged_rows == sum(s["charged"] for s in fresh)
    for s in seen:
        if s["key"] is not None:
            e = by_key[s["key"]]
            assert (e.code, e.allowed, e.charged) == (s["code"], s["allowed"], s["charged"]), s["key"]
    assert any(s["replayed"] for s in seen), "no retries"
    assert any(s["allowed"] and not s["charged"] for s in fresh), "no free re-views"
    assert any(not s["allowed"] for s in fresh), "no denials"


def setup(path):
    q = open_quota(path)
    for subject, plan in SUBJECTS:
        q.set_plan(subject, plan)
    return q


WORKER = """
import json, sys
sys.path.insert(0, {tests!r})
import test_quota
q = test_quota.open_quota({db!r})
seen = test_quota.run_views(q, {worker}, {n})
with open({log!r}, "w") as f:
    json.dump(seen, f)
"""


def test_processes_share_one_file(tmp_path):
    db = str(tmp_path / "quota.db")
    q = setup(db)
    tests = str(Path(__file__).parent)
    procs = []
    for w in range(PROCESSES):
        log = f"{db}.worker-{w}.json"
        code = WORKER.format(tests=tests, db=db, worker=w, n=VIEWS_PER_PROCESS, log=log)
        procs.append((subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE), log))
    seen = []
    for p, log in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
        with open(log) as f:
            seen.extend(json.load(f))
    assert len(seen) == PROCESSES * VIEWS_PER_PROCESS
    check_all(q, seen)


def test_threads_share_one_quota(tmp_path):
    q = setup(str(tmp_path / "quota.db"))
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda w: run_views(q, 100 + w, VIEWS_PER_THREAD), range(THREADS)))
    seen = [s for r in results for s in r]
    assert len(seen) == THREADS * VIEWS_PER_THREAD
    check_all(q, seen)
