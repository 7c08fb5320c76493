//! Search explorer: `cargo run --release -p codelookup --example search_report -- [--book FILE] QUERY...`
//! prints the open time, resident memory and index size, then the top ten hits of each query.

use std::time::Instant;

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
    let opts = SearchOptions { limit: 10, ..Default::default() };
    for q in &args {
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
