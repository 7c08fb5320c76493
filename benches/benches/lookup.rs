//! Lookup benchmarks on the embedded default book: open time, resident memory after open,
//! full-record lookup, `is_valid`, and batch throughput. Besides criterion's timings, it prints
//! per-call latency percentiles (p50/p99) over every code of the book in a fixed shuffled order.

use std::hint::black_box;
use std::time::{Duration, Instant};

use codelookup::{Book, System};
use codelookup_benches::rss_mib;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Every code of the book, shuffled with a fixed seed (xorshift), in mixed spellings, as
/// slices of one buffer in that order: a caller's input is in cache (it was just read or
/// parsed), so the timings should not include a cache miss on a separate heap string per code.
/// Also gives each code's system, in the same order.
fn sample(book: &Book) -> (String, Vec<System>) {
    let mut codes: Vec<(System, String)> = book.codes().collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..codes.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        codes.swap(i, (x % (i as u64 + 1)) as usize);
    }
    for (i, (_, c)) in codes.iter_mut().enumerate() {
        if i % 2 == 0 {
            *c = c.replace('.', "").to_lowercase();
        }
    }
    let systems = codes.iter().map(|(s, _)| *s).collect();
    (codes.into_iter().map(|(_, c)| c).collect::<Vec<_>>().join("\n"), systems)
}

fn percentiles(name: &str, mut times: Vec<Duration>) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize].as_nanos();
    println!("{name}: n={} p50={} ns p90={} ns p99={} ns max={} ns", times.len(), p(0.5), p(0.9), p(0.99), p(1.0));
}

fn bench(c: &mut Criterion) {
    let before = rss_mib();
    let t = Instant::now();
    let book = Book::open_default().expect("default book");
    let open = t.elapsed();
    let after = rss_mib();
    let size = std::fs::metadata(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/book/default.book.zst")).map(|m| m.len()).unwrap_or(0);
    println!(
        "open_default: {:.0} ms; RSS {before:.1} MiB before, {after:.1} MiB after; embedded book {:.1} MiB compressed",
        open.as_secs_f64() * 1e3,
        size as f64 / 1048576.0
    );

    let (buffer, systems) = sample(&book);
    let codes: Vec<&str> = buffer.split('\n').collect();
    // Per-call percentiles over every code (each call timed on its own).
    // Separate passes, so is_valid does not find the code's index path warm from its lookup.
    let mut t_lookup = Vec::with_capacity(codes.len());
    for code in &codes {
        let t = Instant::now();
        black_box(book.lookup(black_box(code), None).ok());
        t_lookup.push(t.elapsed());
    }
    let mut t_valid = Vec::with_capacity(codes.len());
    for code in &codes {
        let t = Instant::now();
        black_box(book.is_valid(black_box(code), None));
        t_valid.push(t.elapsed());
    }
    // What timing a call costs by itself (two clock reads), included in every figure above.
    let t_clock: Vec<Duration> = (0..100_000).map(|_| Instant::now().elapsed()).collect();
    for system in System::ALL {
        let of = |t: &[Duration]| t.iter().zip(&systems).filter(|(_, s)| **s == system).map(|(t, _)| *t).collect::<Vec<_>>();
        percentiles(&format!("lookup (full record, {system} codes)"), of(&t_lookup));
    }
    percentiles("lookup (full record, every code)", t_lookup);
    percentiles("is_valid (every code)", t_valid);
    percentiles("empty timed call (clock overhead)", t_clock);

    let mut g = c.benchmark_group("lookup");
    g.bench_function("lookup E11.9", |b| b.iter(|| book.lookup(black_box("E11.9"), None)));
    g.bench_function("lookup s72001a", |b| b.iter(|| book.lookup(black_box("s72001a"), None)));
    g.bench_function("lookup 0DTJ4ZZ", |b| b.iter(|| book.lookup(black_box("0DTJ4ZZ"), None)));
    g.bench_function("is_valid e119", |b| b.iter(|| book.is_valid(black_box("e119"), None)));
    g.bench_function("is_valid unknown", |b| b.iter(|| book.is_valid(black_box("E11.99"), None)));
    let batch: Vec<&str> = codes.iter().take(10_000).copied().collect();
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("lookup_many 10k", |b| b.iter(|| book.lookup_many(black_box(&batch), None)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
