//! Quota decisions per second: one process, and four processes sharing one file.
//!
//! Every measured view is a worst-case write: a new code with a new request key, so each one
//! is charged and updates the subject's counter, adds an unlock and appends a ledger row, in one
//! `BEGIN IMMEDIATE` transaction (`view`), or a hundred of them in one (`view_many`). Run with
//! `cargo bench -p codelookup-benches --bench quota`.
//!
//! The multi-process number spawns this bench binary itself as workers (an environment variable
//! tells it to act as one); the workers open the file, wait at a barrier, run their share of the
//! views, and the time from the barrier to the last worker's finish is reported through
//! criterion's `iter_custom`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use codelookup::quota::{Plan, Plans, Quota, SqliteOptions, SqliteStore, Synchronous, SystemClock, ViewRequest, Window};
use criterion::{Criterion, Throughput};

const WORKER_ENV: &str = "CODELOOKUP_QUOTA_BENCH_WORKER";
const SUBJECTS: u64 = 1_000;
const PROCESSES: u64 = 4;
const BATCH: u64 = 100;

fn plans() -> Plans {
    Plans::new([Plan::new("metered", Some(1_000_000_000), Window::Lifetime)], "metered").expect("valid plans")
}

fn open(path: &Path, synchronous: Synchronous) -> Quota {
    let opts = SqliteOptions { busy_timeout: Duration::from_secs(60), synchronous };
    Quota::with_store(SqliteStore::open_with(path, &opts).expect("open quota file"), plans(), Arc::new(SystemClock))
}

/// One charged view; `prefix` keeps keys unique across processes and batches.
fn view(q: &Quota, prefix: &str, i: u64) {
    let subject = format!("subject-{}", i % SUBJECTS);
    let code = format!("{prefix}-{i}");
    let d = q.view(&subject, &code, Some(&code)).expect("view");
    assert!(d.charged);
}

fn one_process(c: &mut Criterion, dir: &Path) {
    let mut group = c.benchmark_group("quota");
    group.throughput(Throughput::Elements(1));
    for (name, sync) in [("view/1 process/synchronous=NORMAL", Synchronous::Normal), ("view/1 process/synchronous=FULL", Synchronous::Full)]
    {
        let q = open(&dir.join(format!("one-{sync:?}.db")), sync);
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                view(&q, "one", i);
            })
        });
    }
    group.finish();
}

/// Batches of [`BATCH`] worst-case views (every one new, charged, with a new key) in one
/// `view_many` transaction, reported per decision.
fn one_process_batches(c: &mut Criterion, dir: &Path) {
    let mut group = c.benchmark_group("quota");
    group.throughput(Throughput::Elements(BATCH));
    let q = open(&dir.join("batches.db"), Synchronous::Normal);
    let mut i = 0;
    group.bench_function("view_many/100 per batch/1 process/synchronous=NORMAL", |b| {
        b.iter(|| {
            let batch: Vec<(String, String)> = (0..BATCH)
                .map(|_| {
                    i += 1;
                    (format!("subject-{}", i % SUBJECTS), format!("many-{i}"))
                })
                .collect();
            let requests: Vec<ViewRequest<'_>> = batch.iter().map(|(s, c)| ViewRequest::new(s, c, Some(c))).collect();
            let decisions = q.view_many(&requests).expect("view_many");
            assert!(decisions.iter().all(|d| d.charged));
        })
    });
    group.finish();
}

fn four_processes(c: &mut Criterion, dir: &Path) {
    let db = dir.join("shared.db");
    drop(open(&db, Synchronous::Normal)); // create the file before the workers race to
    let exe = std::env::current_exe().expect("current exe");
    let batch = AtomicU64::new(0);
    let mut group = c.benchmark_group("quota");
    group.throughput(Throughput::Elements(1)).sample_size(10).measurement_time(Duration::from_secs(15));
    group.bench_function("view/4 processes/synchronous=NORMAL", |b| {
        b.iter_custom(|iters| {
            let batch = batch.fetch_add(1, Ordering::Relaxed);
            let mut workers: Vec<_> = (0..PROCESSES)
                .map(|w| {
                    let n = iters / PROCESSES + u64::from(w < iters % PROCESSES);
                    let mut child = Command::new(&exe)
                        .env(WORKER_ENV, format!("{}|b{batch}w{w}|{n}", db.display()))
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("spawn worker");
                    let stdin = child.stdin.take().expect("stdin");
                    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
                    (child, stdin, stdout)
                })
                .collect();
            let mut line = String::new();
            for (_, _, out) in &mut workers {
                line.clear();
                out.read_line(&mut line).expect("ready");
                assert_eq!(line.trim(), "ready");
            }
            let start = Instant::now();
            for (_, stdin, _) in &mut workers {
                stdin.write_all(b"go\n").and_then(|()| stdin.flush()).expect("go");
            }
            for (_, _, out) in &mut workers {
                line.clear();
                out.read_line(&mut line).expect("done");
                assert_eq!(line.trim(), "done");
            }
            let elapsed = start.elapsed();
            for (mut child, _, _) in workers {
                assert!(child.wait().expect("wait").success());
            }
            elapsed
        })
    });
    group.finish();
}

/// A worker process: `path|key prefix|views`.
fn worker(spec: &str) {
    let mut parts = spec.split('|');
    let (Some(path), Some(prefix), Some(n)) = (parts.next(), parts.next(), parts.next()) else { panic!("bad worker spec {spec:?}") };
    let n: u64 = n.parse().expect("views");
    let q = open(Path::new(path), Synchronous::Normal);
    let mut out = std::io::stdout();
    writeln!(out, "ready").and_then(|()| out.flush()).expect("ready");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).expect("go");
    for i in 0..n {
        view(&q, prefix, i);
    }
    writeln!(out, "done").and_then(|()| out.flush()).expect("done");
}

fn main() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        worker(&spec);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = Criterion::default().configure_from_args();
    one_process(&mut c, dir.path());
    one_process_batches(&mut c, dir.path());
    four_processes(&mut c, dir.path());
    c.final_summary();
}
