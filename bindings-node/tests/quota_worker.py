"""A Python worker process of the Node quota concurrency test (quota.test.mjs): the same
scenario as quota_worker.mjs, through the Python binding, on the same file.

Usage: python quota_worker.py ID DB N. Writes one JSON line per returned decision to
`<db>.python-<id>.log`.
"""

import json
import random
import sys

import codelookup

PLANS = [
    {"name": "guest", "limit": 1},
    {"name": "registered", "limit": 6},
    {"name": "metered", "limit": 25},
    {"name": "unlimited", "limit": None},
]
SUBJECTS = [f"subject-{i}" for i in range(12)]
CODES = 40


def main() -> None:
    wid, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(wid) + 1)
    quota = codelookup.Quota(db, PLANS, default_plan="guest", busy_timeout=60)
    seen, firsts = [], []
    for i in range(n):
        roll = rng.randrange(10)
        if roll == 0 and firsts:
            key, first = firsts[rng.randrange(len(firsts))]
            d = quota.view(first.subject, first.code, key)
            assert d.replayed and (d.allowed, d.charged, d.used) == (first.allowed, first.charged, first.used), key
            seen.append({"key": key, "subject": d.subject, "code": d.code, "allowed": d.allowed, "charged": d.charged, "replayed": True})
            continue
        subject = SUBJECTS[rng.randrange(len(SUBJECTS))]
        code = f"C{rng.randrange(CODES):02d}"
        key = None if roll == 1 else f"python{wid}-{i}"
        d = quota.view(subject, code, key)
        assert not d.replayed, "a fresh key was replayed"
        seen.append({"key": key, "subject": subject, "code": code, "allowed": d.allowed, "charged": d.charged, "replayed": False})
        if key:
            firsts.append((key, d))
    quota.close()
    with open(f"{db}.python-{wid}.log", "w", encoding="utf-8") as f:
        f.write("".join(json.dumps(s) + "\n" for s in seen))


if __name__ == "__main__":
    main()
