//! Many writers on one quota file: 8 processes x 2,000 views, and 8 threads sharing one
//! `Quota`, over a few subjects on mixed plans, with re-views and retried request keys.
//! Afterwards every subject's ledger replays, row by row in commit order, to exactly the
//! decisions that were returned; counters equal the ledger; no subject went past its limit.
//!
//! The worker processes are this test binary itself, re-run with `--exact worker_process` and
//! an environment variable that tells it to work.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use codelookup::quota::{Decision, LedgerEntry, Plan, Plans, Quota, SqliteOptions, SqliteStore, SystemClock, Window};

const WORKER_ENV: &str = "CODELOOKUP_QUOTA_CONCURRENCY_WORKER";
const DB_ENV: &str = "CODELOOKUP_QUOTA_CONCURRENCY_DB";
const PROCESSES: u64 = 8;
const VIEWS_PER_PROCESS: u64 = 2_000;
const THREADS: u64 = 8;
const VIEWS_PER_THREAD: u64 = 500;
const CODES: u64 = 40;

/// A tiny seeded generator (xorshift64*), so runs are repeatable without a crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn plans() -> Plans {
    Plans::new(
        [
            Plan::new("guest", Some(1), Window::Lifetime),
            Plan::new("registered", Some(6), Window::Lifetime),
            Plan::new("metered", Some(25), Window::Lifetime),
            Plan::unlimited("unlimited"),
        ],
        "guest",
    )
    .expect("valid plans")
}

/// Twelve subjects, three on each plan.
fn subjects() -> Vec<(String, &'static str)> {
    let kinds = ["guest", "registered", "metered", "unlimited"];
    (0..12).map(|i| (format!("subject-{i}"), kinds[i % kinds.len()])).collect()
}

fn plan_limit(plan: &str) -> Option<u64> {
    plans().get(plan).expect("known plan").limit
}

fn open(path: &Path) -> Quota {
    let opts = SqliteOptions { busy_timeout: Duration::from_secs(60), ..Default::default() };
    let store = SqliteStore::open_with(path, &opts).expect("open quota file");
    Quota::with_store(store, plans(), Arc::new(SystemClock))
}

/// One returned decision, as a worker saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    key: Option<String>,
    subject: String,
    code: String,
    allowed: bool,
    charged: bool,
    replayed: bool,
}

impl Seen {
    fn line(&self) -> String {
        let key = self.key.as_deref().unwrap_or("-");
        format!("{key}\t{}\t{}\t{}\t{}\t{}\n", self.subject, self.code, self.allowed as u8, self.charged as u8, self.replayed as u8)
    }
    fn parse(line: &str) -> Seen {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "bad log line {line:?}");
        Seen {
            key: (f[0] != "-").then(|| f[0].to_owned()),
            subject: f[1].to_owned(),
            code: f[2].to_owned(),
            allowed: f[3] == "1",
            charged: f[4] == "1",
            replayed: f[5] == "1",
        }
    }
}

/// `n` views by worker `id`: mostly new keys, some keyless views, some retries of an earlier
/// key (which must replay the first decision exactly).
fn run_views(q: &Quota, id: u64, n: u64) -> Vec<Seen> {
    let subjects = subjects();
    let mut rng = Rng::new(id + 1);
    let mut seen = Vec::with_capacity(n as usize);
    let mut firsts: Vec<(String, Decision)> = Vec::new();
    for i in 0..n {
        let roll = rng.below(10);
        if roll == 0 && !firsts.is_empty() {
            let (key, first) = &firsts[rng.below(firsts.len() as u64) as usize];
            let d = q.view(&first.subject, &first.code, Some(key)).expect("retry");
            assert_eq!(d, Decision { replayed: true, ..first.clone() }, "retry of {key} changed its decision");
            seen.push(Seen {
                key: Some(key.clone()),
                subject: d.subject,
                code: d.code,
                allowed: d.allowed,
                charged: d.charged,
                replayed: true,
            });
            continue;
        }
        let (subject, _) = &subjects[rng.below(subjects.len() as u64) as usize];
        let code = format!("C{:02}", rng.below(CODES));
        let key = (roll != 1).then(|| format!("w{id}-{i}"));
        let d = q.view(subject, &code, key.as_deref()).expect("view");
        assert!(!d.replayed, "a fresh key was replayed");
        seen.push(Seen { key: key.clone(), subject: subject.clone(), code, allowed: d.allowed, charged: d.charged, replayed: false });
        if let Some(key) = key {
            firsts.push((key, d));
        }
    }
    seen
}

/// Replays one subject's ledger in commit order against the rules: each row's decision must
/// be the one a serial execution gives, and the counters must match.
fn check_subject(q: &Quota, subject: &str, plan: &str) -> Vec<LedgerEntry> {
    let limit = plan_limit(plan);
    let ledger = q.ledger(subject).expect("ledger");
    let mut used: HashMap<u64, u64> = HashMap::new();
    let mut unlocked: HashSet<(u64, String)> = HashSet::new();
    for e in &ledger {
        assert_eq!((e.plan.as_str(), e.limit), (plan, limit), "{subject}: {e:?}");
        let u = used.entry(e.epoch).or_default();
        let expected = if unlocked.contains(&(e.epoch, e.code.clone())) {
            (true, false)
        } else if limit.is_none() || *u < limit.unwrap_or(0) {
            (true, true)
        } else {
            (false, false)
        };
        assert_eq!((e.allowed, e.charged), expected, "{subject}: row {e:?} is not what a serial run decides");
        if e.charged {
            *u += 1;
            unlocked.insert((e.epoch, e.code.clone()));
        }
        assert_eq!(e.used, *u, "{subject}: row {e:?} has the wrong count");
        if let Some(l) = limit {
            assert!(e.used <= l, "{subject} went past its limit: {e:?}");
        }
    }
    let usage = q.usage(subject).expect("usage");
    let charged = ledger.iter().filter(|e| e.charged && e.epoch == usage.epoch).count() as u64;
    assert_eq!(usage.used, charged, "{subject}: counter differs from the ledger");
    assert_eq!(usage.used, used.get(&usage.epoch).copied().unwrap_or(0));
    if let Some(l) = limit {
        assert!(usage.used <= l, "{subject} went past its limit");
    }
    ledger
}

/// Checks every subject, and that the ledger holds exactly the fresh decisions the workers saw.
fn check_all(q: &Quota, seen: &[Seen]) {
    let mut by_key: HashMap<String, LedgerEntry> = HashMap::new();
    let mut rows = 0;
    let mut charged_rows = 0;
    for (subject, plan) in subjects() {
        for e in check_subject(q, &subject, plan) {
            rows += 1;
            charged_rows += e.charged as usize;
            if let Some(k) = e.request_key.clone() {
                assert!(by_key.insert(k.clone(), e).is_none(), "key {k} twice in the ledger");
            }
        }
    }
    let fresh: Vec<&Seen> = seen.iter().filter(|s| !s.replayed).collect();
    assert_eq!(rows, fresh.len(), "ledger rows != fresh decisions returned");
    assert_eq!(charged_rows, fresh.iter().filter(|s| s.charged).count(), "charged rows != charged decisions returned");
    for s in seen {
        if let Some(k) = &s.key {
            let e = by_key.get(k).unwrap_or_else(|| panic!("returned key {k} missing from the ledger"));
            assert_eq!((e.code.as_str(), e.allowed, e.charged), (s.code.as_str(), s.allowed, s.charged), "key {k}");
        }
    }
    // The run must have exercised every path.
    assert!(seen.iter().any(|s| s.replayed), "no retries");
    assert!(fresh.iter().any(|s| s.allowed && !s.charged), "no free re-views");
    assert!(fresh.iter().any(|s| !s.allowed), "no denials");
}

fn setup(path: &Path) -> Quota {
    let q = open(path);
    for (subject, plan) in subjects() {
        q.set_plan(&subject, plan).expect("set_plan");
    }
    q
}

/// The worker: does nothing unless started by `eight_processes_share_one_file`.
#[test]
fn worker_process() {
    let (Ok(id), Ok(db)) = (std::env::var(WORKER_ENV), std::env::var(DB_ENV)) else { return };
    let id: u64 = id.parse().expect("worker id");
    let q = open(Path::new(&db));
    let seen = run_views(&q, id, VIEWS_PER_PROCESS);
    let mut log = fs::File::create(format!("{db}.worker-{id}.log")).expect("log");
    let text: String = seen.iter().map(Seen::line).collect();
    log.write_all(text.as_bytes()).expect("write log");
}

#[test]
fn eight_processes_share_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("quota.db");
    let q = setup(&db);
    let exe = std::env::current_exe().expect("current exe");
    let children: Vec<_> = (0..PROCESSES)
        .map(|id| {
            Command::new(&exe)
                .args(["--exact", "worker_process", "--nocapture", "--test-threads=1"])
                .env(WORKER_ENV, id.to_string())
                .env(DB_ENV, &db)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn worker")
        })
        .collect();
    for (id, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait worker");
        assert!(out.status.success(), "worker {id} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut seen = Vec::new();
    for id in 0..PROCESSES {
        let text = fs::read_to_string(format!("{}.worker-{id}.log", db.display())).expect("worker log");
        seen.extend(text.lines().map(Seen::parse));
    }
    assert_eq!(seen.len() as u64, PROCESSES * VIEWS_PER_PROCESS);
    check_all(&q, &seen);
}

#[test]
fn eight_threads_share_one_quota() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = Arc::new(setup(&dir.path().join("quota.db")));
    let handles: Vec<_> = (0..THREADS)
        .map(|id| {
            let q = Arc::clone(&q);
            std::thread::spawn(move || run_views(&q, 100 + id, VIEWS_PER_THREAD))
        })
        .collect();
    let seen: Vec<Seen> = handles.into_iter().flat_map(|h| h.join().expect("thread")).collect();
    assert_eq!(seen.len() as u64, THREADS * VIEWS_PER_THREAD);
    check_all(&q, &seen);
}
