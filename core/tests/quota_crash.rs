//! Crash safety: worker processes viewing codes are killed with SIGKILL at random moments
//! (seeded), round after round, on one quota file; the first round's workers even create the
//! file together. Each worker appends to its own log, before each call, the request key it is
//! about to use (`try`), and after each call that returned a charged decision, the key
//! (`charged`). A restarted worker first retries the last keys its predecessor tried, which
//! may or may not have been committed.
//!
//! Afterwards the file opens, every key logged as charged is in the ledger, charged, exactly
//! once; the ledger holds no key that was never tried; every subject's ledger replays to the
//! serial decisions; and the counters equal the ledger's charged rows of the current window.

use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use codelookup::quota::{LedgerEntry, Plan, Plans, Quota, SqliteOptions, SqliteStore, SystemClock, Window};

const WORKER_ENV: &str = "CODELOOKUP_QUOTA_CRASH_WORKER";
const DB_ENV: &str = "CODELOOKUP_QUOTA_CRASH_DB";
const ROUNDS: u64 = 12;
const WORKERS: u64 = 3;
const MAX_VIEWS: u64 = 20_000;
const SUBJECTS: u64 = 8;
const CODES: u64 = 5_000;
const RETRY_LAST: usize = 4;

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
            Plan::new("metered", Some(1_000), Window::Lifetime),
            Plan::unlimited("unlimited"),
        ],
        "guest",
    )
    .expect("valid plans")
}

fn subject_plan(i: u64) -> (String, &'static str) {
    let kinds = ["metered", "unlimited", "registered", "guest"];
    (format!("subject-{i}"), kinds[i as usize % kinds.len()])
}

fn open(path: &Path) -> Quota {
    let opts = SqliteOptions { busy_timeout: Duration::from_secs(30), ..Default::default() };
    let store = SqliteStore::open_with(path, &opts).expect("open quota file");
    Quota::with_store(store, plans(), Arc::new(SystemClock))
}

/// The (subject, code) a key stands for, so a retry needs only the key.
fn target(key_seed: u64) -> (String, String) {
    let mut rng = Rng::new(key_seed);
    let (subject, _) = subject_plan(rng.below(SUBJECTS));
    (subject, format!("C{:02}", rng.below(CODES)))
}

fn parse_key(key: &str) -> u64 {
    // "r{round}-w{worker}-{i}" -> a seed unique to the key.
    let nums: Vec<u64> = key.split('-').map(|p| p.trim_start_matches(['r', 'w']).parse().expect("key number")).collect();
    nums[0] * 1_000_000_000 + nums[1] * 1_000_000 + nums[2]
}

/// Complete log lines (a kill may cut the last one).
fn log_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete.lines().filter_map(|l| l.split_once(' '))
}

/// The worker: does nothing unless started by `sigkill_at_random_moments_loses_nothing`.
#[test]
fn worker_process() {
    let (Ok(spec), Ok(db)) = (std::env::var(WORKER_ENV), std::env::var(DB_ENV)) else { return };
    let (round, id) = spec.split_once(':').expect("round:id");
    let (round, id): (u64, u64) = (round.parse().expect("round"), id.parse().expect("id"));
    let log_path = format!("{db}.w{id}.log");
    let earlier = fs::read_to_string(&log_path).unwrap_or_default();
    let mut log = OpenOptions::new().create(true).append(true).open(&log_path).expect("log");
    let q = open(Path::new(&db));
    for i in 0..SUBJECTS {
        let (subject, plan) = subject_plan(i);
        q.set_plan(&subject, plan).expect("set_plan");
    }
    let tried: Vec<&str> = log_lines(&earlier).filter(|(kind, _)| *kind == "try").map(|(_, k)| k).collect();
    let retries = tried.iter().rev().take(RETRY_LAST).map(|k| k.to_string());
    let fresh = (0..MAX_VIEWS).map(|i| format!("r{round}-w{id}-{i}"));
    for key in retries.chain(fresh) {
        log.write_all(format!("try {key}\n").as_bytes()).expect("log try");
        let (subject, code) = target(parse_key(&key));
        let d = q.view(&subject, &code, Some(&key)).expect("view");
        if d.charged {
            log.write_all(format!("charged {key}\n").as_bytes()).expect("log charged");
        }
    }
}

fn spawn(exe: &Path, db: &Path, round: u64, id: u64) -> Child {
    Command::new(exe)
        .args(["--exact", "worker_process", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, format!("{round}:{id}"))
        .env(DB_ENV, db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker")
}

#[test]
fn sigkill_at_random_moments_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("quota.db");
    let exe = std::env::current_exe().expect("current exe");
    let mut rng = Rng::new(2024);
    for round in 0..ROUNDS {
        let mut children: Vec<Child> = (0..WORKERS).map(|id| spawn(&exe, &db, round, id)).collect();
        // Kill each worker at its own random moment: some while opening or migrating the
        // file, most in the middle of views.
        for child in &mut children {
            std::thread::sleep(Duration::from_millis(rng.below(120)));
            child.kill().expect("SIGKILL");
        }
        for mut child in children {
            let status = child.wait().expect("wait");
            // Killed (no exit code), or finished all its views: never an assertion failure.
            assert!(status.code().is_none() || status.success(), "worker failed: {status}");
        }
    }

    let q = open(&db);
    let mut tried = HashSet::new();
    let mut logged_charged = HashSet::new();
    for id in 0..WORKERS {
        let text = fs::read_to_string(format!("{}.w{id}.log", db.display())).unwrap_or_default();
        for (kind, key) in log_lines(&text) {
            match kind {
                "try" => tried.insert(key.to_owned()),
                "charged" => logged_charged.insert(key.to_owned()),
                other => panic!("bad log line kind {other}"),
            };
        }
    }
    assert!(logged_charged.len() > 20, "the workers hardly ran: {} charged", logged_charged.len());

    let mut by_key: HashMap<String, LedgerEntry> = HashMap::new();
    let mut charged_rows = 0;
    for i in 0..SUBJECTS {
        let (subject, plan) = subject_plan(i);
        let limit = plans().get(plan).expect("plan").limit;
        let ledger = q.ledger(&subject).expect("ledger");
        // Serial replay of the ledger in commit order.
        let mut used = 0;
        let mut unlocked = HashSet::new();
        for e in &ledger {
            assert_eq!(e.epoch, 0);
            let expected = if unlocked.contains(&e.code) {
                (true, false)
            } else if limit.is_none_or(|l| used < l) {
                (true, true)
            } else {
                (false, false)
            };
            assert_eq!((e.allowed, e.charged), expected, "{subject}: {e:?}");
            if e.charged {
                used += 1;
                unlocked.insert(e.code.clone());
            }
            assert_eq!(e.used, used, "{subject}: {e:?}");
            let key = e.request_key.clone().expect("every worker view has a key");
            assert_eq!(target(parse_key(&key)), (subject.clone(), e.code.clone()), "{key}");
            assert!(by_key.insert(key.clone(), e.clone()).is_none(), "{key} twice in the ledger");
        }
        let usage = q.usage(&subject).expect("usage");
        assert_eq!(usage.used, used, "{subject}: counter differs from the ledger");
        assert!(limit.is_none_or(|l| usage.used <= l), "{subject} went past its limit");
        charged_rows += used;
    }
    for key in &logged_charged {
        let e = by_key.get(key).unwrap_or_else(|| panic!("charged key {key} was lost"));
        assert!(e.charged, "{key} logged as charged but not charged in the ledger");
    }
    for key in by_key.keys() {
        assert!(tried.contains(key), "{key} in the ledger but never tried");
    }
    assert!(charged_rows >= logged_charged.len() as u64);
    // Some tried keys were cut off by a kill before they committed.
    let uncommitted = tried.iter().filter(|k| !by_key.contains_key(*k)).count();
    eprintln!(
        "{} keys tried, {} in the ledger ({} charged, {} logged as charged), {uncommitted} cut off by a kill",
        tried.len(),
        by_key.len(),
        charged_rows,
        logged_charged.len()
    );
}
