//! Search explorer: `cargo run --release -p codelookup --example search_report -- [--book FILE] QUERY...`
//! prints the open time, resident memory and index size, then the top ten hits of each query.
//!
//! `--cases [REPS] [--cold]` instead times every query of `tests/cases/search.json` (limit 10,
//! each call timed on its own, in `REPS` passes over every query after a warm-up pass, 30 by
//! default; `--cold`: with the CPU caches mostly flushed before each call, as in the
//! benchmark's cold rows, where FTS5 runs between two calls) and prints p50/p90/p99/max, the
//! mean over queries of each query's median and fastest call (steadier on a loaded machine,
//! for A/B runs) and the ten slowest queries (`SLOWEST=N` in the environment: the `N`
//! slowest). `REPEAT=N` runs each query of the command line `N` times more before timing it
//! (to profile a few queries under `perf record`).

use std::time::{Duration, Instant};

use codelookup::search::SearchOptions;
use codelookup::Book;

/// Resident set size of this process in MiB (Linux; 0 elsewhere).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// The queries (with their options) of the relevance set.
fn cases() -> Vec<(String, SearchOptions)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/search.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    all["cases"]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .map(|c| {
                    let options: SearchOptions = c.get("options").and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
                    (c["query"].as_str().unwrap_or_default().to_string(), SearchOptions { limit: 10, ..options })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn time_cases(book: &Book, reps: usize, cold: bool) -> Result<(), codelookup::Error> {
    let reps = reps.max(1);
    let cases = cases();
    // With `--cold`, 4 MiB are read between two calls, as another engine's query would (the
    // benchmark runs FTS5 between two calls), so that each search starts with the core's
    // caches holding little of the index.
    let trash: Vec<u64> = if cold { vec![1; 1 << 19] } else { Vec::new() };
    let mut sink = 0u64;
    // Passes over every query (not one query many times in a row), as in the benchmark: an
    // untimed warm-up pass, then `reps` timed ones.
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); cases.len()];
    for pass in 0..=reps {
        for ((q, opts), t) in cases.iter().zip(&mut times) {
            sink = sink.wrapping_add(trash.iter().step_by(8).sum::<u64>());
            let start = Instant::now();
            std::hint::black_box(book.search(std::hint::black_box(q), opts)?);
            if pass > 0 {
                t.push(start.elapsed());
            }
        }
    }
    let mut all: Vec<Duration> = Vec::new();
    let mut per: Vec<(Duration, &str)> = Vec::new();
    let (mut medians, mut minimums) = (Vec::new(), Vec::new());
    for ((q, _), mut t) in cases.iter().zip(times) {
        t.sort();
        medians.push(t[t.len() / 2].as_secs_f64());
        minimums.push(t[0].as_secs_f64());
        per.push((t[t.len() / 2], q));
        all.extend(t);
    }
    all.sort();
    let p = |x: f64| all.get(((all.len().max(1) - 1) as f64 * x) as usize).map_or(0.0, |d| d.as_secs_f64() * 1e6);
    println!("{} queries x {reps}: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs", cases.len(), p(0.5), p(0.9), p(0.99), p(1.0));
    std::hint::black_box(sink);
    // Robust to a loaded machine (a descheduled call moves a median little, a minimum not at
    // all): for A/B runs.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64 * 1e6;
    println!("mean of the per-query medians {:.1} µs, of the minimums {:.1} µs", mean(&medians), mean(&minimums));
    per.sort_by_key(|p| std::cmp::Reverse(p.0));
    println!("slowest (median of {reps}):");
    for (d, q) in per.iter().take(std::env::var("SLOWEST").ok().and_then(|v| v.parse().ok()).unwrap_or(10)) {
        println!("  {:>8.1} µs  {q:?}", d.as_secs_f64() * 1e6);
    }
    Ok(())
}

/// Queries dumped besides the relevance set: broad prefixes, typos, odd input.
const DUMP_EXTRA: &[&str] = &[
    "a",
    "h",
    "hy",
    "hyp",
    "pain",
    "fracture",
    "diabetes",
    "type 2",
    "heart fail",
    "heart ",
    "knee replacement",
    "cad",
    "mi",
    "chronic kidney disease stage 3",
    "hypertensive heart and chronic kidney disease",
    "essential hypertension",
    "pneumonia due",
    "asthma exacerbation",
    "diabetis",
    "hypertenson",
    "fractur femor",
    "osteoarth kn",
    "covid 19",
    "covid-19",
    "crohn's",
    "ménière",
    "left",
    "unspecified",
    "of the",
    "e11",
    "0dt",
    "j11",
    "z",
    "xyzzyq",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "a b c d e f g h i j k l m n o p",
    "---",
    "  ",
    "é😀 abc",
    "pnuemonia viral",
    "mellitus",
    "injection",
    "sepsis",
];

/// Prints every hit of the relevance set and of [`DUMP_EXTRA`] (see the module comment).
fn dump(book: &Book) -> Result<(), codelookup::Error> {
    let mut runs: Vec<(String, SearchOptions)> = cases();
    runs.extend(DUMP_EXTRA.iter().map(|q| (q.to_string(), SearchOptions { limit: 10, ..Default::default() })));
    for (q, opts) in runs {
        for (limit, offset) in [(10, 0), (1, 0), (50, 0), (10, 10), (20, 95)] {
            let o = SearchOptions { limit, offset, ..opts.clone() };
            println!("# {q:?} limit {limit} offset {offset}");
            for h in book.search(&q, &o)? {
                println!("{} {} {:?} {:?} {:?} {:?}", h.score, h.code, h.system, h.matched, h.matched_text, h.spans);
            }
        }
    }
    Ok(())
}

fn main() -> Result<(), codelookup::Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let book_path = match args.iter().position(|a| a == "--book") {
        Some(i) if i + 1 < args.len() => {
            let p = args.remove(i + 1);
            args.remove(i);
            Some(p)
        }
        _ => None,
    };
    let before = rss_mib();
    let t = Instant::now();
    let book = match &book_path {
        Some(p) => Book::open(p)?,
        None => Book::open_default()?,
    };
    let open = t.elapsed();
    let stats = book.search_index_stats();
    println!(
        "open {:.0} ms; RSS {before:.1} -> {:.1} MiB; search index: {} terms, {} texts, {} abbreviations, {:.1} MiB",
        open.as_secs_f64() * 1e3,
        rss_mib(),
        stats.terms,
        stats.texts,
        stats.abbreviations,
        stats.heap_bytes as f64 / 1048576.0
    );
    if args.first().is_some_and(|a| a == "--dump") {
        return dump(&book);
    }
    if args.first().is_some_and(|a| a == "--cases") {
        let cold = args.iter().any(|a| a == "--cold");
        let reps = args.iter().skip(1).find_map(|r| r.parse().ok()).unwrap_or(30);
        return time_cases(&book, reps, cold);
    }
    let opts = SearchOptions { limit: 10, ..Default::default() };
    // `REPEAT=N`: each query is first run N times more (to profile a few queries).
    let repeat: usize = std::env::var("REPEAT").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    for q in &args {
        for _ in 0..repeat {
            std::hint::black_box(book.search(q, &opts)?);
        }
        let t = Instant::now();
        let hits = book.search(q, &opts)?;
        println!("\n{q:?} ({:.1} µs)", t.elapsed().as_secs_f64() * 1e6);
        for h in hits {
            println!(
                "  {:4} {:8} {:>9} {:?} {:?} {:?} | {}",
                h.score,
                h.code,
                h.system.as_str(),
                h.matched,
                h.matched_text,
                h.spans,
                h.title
            );
        }
    }
    Ok(())
}
