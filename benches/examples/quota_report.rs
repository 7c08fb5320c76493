//! Where a quota decision's time goes: the bench's worst-case views (every one new, charged,
//! with a new request key, over 1,000 subjects) after a prefill, reported as wall time, CPU time
//! (`getrusage`, which the machine's load affects less than the wall clock), the latency
//! distribution of single calls, page faults and context switches, with the load average.
//!
//! ```text
//! cargo run --release -p codelookup-benches --example quota_report -- \
//!     [--db PATH] [--prefill 40000] [--views 30000] [--batch 1] [--threads 1] [--full]
//! ```
//!
//! `--batch N` (N > 1) decides N views per `view_many` call; `--threads T` runs T threads on one
//! `Quota`, each with its share of the views. The file is created afresh unless `--keep` is
//! given. One line of `key=value` fields is printed, so that runs can be compared with `grep`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use codelookup::quota::{Plan, Plans, Quota, SqliteOptions, SqliteStore, Synchronous, SystemClock, ViewRequest, Window};

const SUBJECTS: u64 = 1_000;

/// The command line.
struct Args {
    db: PathBuf,
    prefill: u64,
    views: u64,
    batch: u64,
    threads: u64,
    sync: Synchronous,
    keep: bool,
}

fn args() -> Args {
    let mut a = Args {
        db: std::env::temp_dir().join(format!("quota-report-{}.db", std::process::id())),
        prefill: 40_000,
        views: 30_000,
        batch: 1,
        threads: 1,
        sync: Synchronous::Normal,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => a.db = value().into(),
            "--prefill" => a.prefill = value().parse().expect("--prefill N"),
            "--views" => a.views = value().parse().expect("--views N"),
            "--batch" => a.batch = value().parse::<u64>().expect("--batch N").max(1),
            "--threads" => a.threads = value().parse::<u64>().expect("--threads N").max(1),
            "--full" => a.sync = Synchronous::Full,
            "--keep" => a.keep = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn open(a: &Args) -> Quota {
    let plans = Plans::new([Plan::new("metered", Some(1_000_000_000), Window::Lifetime)], "metered").expect("plans");
    let opts = SqliteOptions { busy_timeout: Duration::from_secs(60), synchronous: a.sync };
    Quota::with_store(SqliteStore::open_with(&a.db, &opts).expect("open"), plans, Arc::new(SystemClock))
}

/// CPU time and counters of `getrusage`.
#[derive(Clone, Copy, Default)]
struct Usage {
    user_us: f64,
    sys_us: f64,
    minflt: f64,
    majflt: f64,
    nvcsw: f64,
    nivcsw: f64,
}

fn usage(who: libc::c_int) -> Usage {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let r = unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut r);
        r
    };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    Usage {
        user_us: us(r.ru_utime),
        sys_us: us(r.ru_stime),
        minflt: r.ru_minflt as f64,
        majflt: r.ru_majflt as f64,
        nvcsw: r.ru_nvcsw as f64,
        nivcsw: r.ru_nivcsw as f64,
    }
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, o: Usage) -> Usage {
        Usage {
            user_us: self.user_us - o.user_us,
            sys_us: self.sys_us - o.sys_us,
            minflt: self.minflt - o.minflt,
            majflt: self.majflt - o.majflt,
            nvcsw: self.nvcsw - o.nvcsw,
            nivcsw: self.nivcsw - o.nivcsw,
        }
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().next().unwrap_or("?").to_owned()
}

/// Runs views `from..to` with key prefix `prefix`, in calls of `batch`; returns each call's
/// latency in nanoseconds.
fn run(q: &Quota, prefix: &str, from: u64, to: u64, batch: u64) -> Vec<u64> {
    let mut lat = Vec::with_capacity(((to - from) / batch + 1) as usize);
    let mut i = from;
    while i < to {
        let n = batch.min(to - i);
        let rows: Vec<(String, String)> = (i..i + n).map(|j| (format!("subject-{}", j % SUBJECTS), format!("{prefix}-{j}"))).collect();
        let t = Instant::now();
        if n == 1 {
            let (s, c) = &rows[0];
            assert!(q.view(s, c, Some(c)).expect("view").charged);
        } else {
            let reqs: Vec<ViewRequest<'_>> = rows.iter().map(|(s, c)| ViewRequest::new(s, c, Some(c))).collect();
            assert!(q.view_many(&reqs).expect("view_many").iter().all(|d| d.charged));
        }
        lat.push(t.elapsed().as_nanos() as u64);
        i += n;
    }
    lat
}

fn main() {
    let a = args();
    if !a.keep {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", a.db.display()));
        }
    }
    let q = Arc::new(open(&a));
    let tag = format!("r{}", std::process::id());
    run(&q, &format!("{tag}-pre"), 0, a.prefill, 100);
    let load0 = loadavg();
    let (self0, thread0) = (usage(libc::RUSAGE_SELF), usage(libc::RUSAGE_THREAD));
    let start = Instant::now();
    let mut lat = if a.threads == 1 {
        run(&q, &tag, 0, a.views, a.batch)
    } else {
        let per = a.views / a.threads;
        let handles: Vec<_> = (0..a.threads)
            .map(|t| {
                let (q, tag) = (q.clone(), format!("{tag}-t{t}"));
                std::thread::spawn(move || run(&q, &tag, t * per, (t + 1) * per, a.batch))
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("thread")).collect()
    };
    let wall = start.elapsed().as_secs_f64() * 1e6;
    let (proc, thread) = (usage(libc::RUSAGE_SELF) - self0, usage(libc::RUSAGE_THREAD) - thread0);
    let load1 = loadavg();
    let views = (a.views / a.threads * a.threads) as f64;
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize] as f64 / 1e3;
    let slow: Vec<u64> = lat.iter().copied().filter(|&l| l >= 1_000_000).collect();
    let slow_share = slow.iter().sum::<u64>() as f64 / 1e3 / wall * a.threads as f64;
    let file_mb = std::fs::metadata(&a.db).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
    println!(
        "views={views} batch={} threads={} rate={:.0}/s wall_us={:.1} thread_cpu_us={:.1} (user {:.1} sys {:.1}) \
         proc_cpu_us={:.1} p50={:.1} p90={:.1} p99={:.1} p999={:.1} max={:.1} calls_over_1ms={} their_share={:.1}% \
         minflt={:.2} majflt={:.3} vcsw={:.3} ivcsw={:.3} (per view) file_mb={file_mb:.1} load={load0}->{load1}",
        a.batch,
        a.threads,
        views / wall * 1e6,
        wall / views,
        (thread.user_us + thread.sys_us) / views,
        thread.user_us / views,
        thread.sys_us / views,
        (proc.user_us + proc.sys_us) / views,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999),
        pct(1.0),
        slow.len(),
        slow_share * 100.0,
        proc.minflt / views,
        proc.majflt / views,
        proc.nvcsw / views,
        proc.nivcsw / views,
    );
    drop(q);
    if !a.keep {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", a.db.display()));
        }
    }
}
