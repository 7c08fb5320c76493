//! Billing-check benchmarks on the embedded default book (2.14 million practitioner PTP edits,
//! 15,095 MUEs, both 2018 GEMs): a 20-line claim against the full PTP and MUE tables, the same
//! codes through `ptp_edits`, an MUE look-up and a crosswalk. Besides criterion's timings it
//! prints the memory the tables take: their heap size (computed) and the process's resident
//! size after opening the book.
//!
//! With `CODELOOKUP_BENCH_RSS_DIFF=1` it also builds a book from `data/` without the NCCI and
//! GEM sources (about a minute) and prints the resident size after opening each, for the
//! difference the tables make to a whole book.

use std::hint::black_box;
use std::time::Instant;

use codelookup::billing::ClaimLine;
use codelookup::crosswalk::Direction;
use codelookup::import::sources::Sources;
use codelookup::Book;
use codelookup_benches::rss_mib;
use criterion::{criterion_group, criterion_main, Criterion};

/// A 20-line claim (knee arthroscopy day with visit, injections, labs, imaging, therapy) on
/// which 43 PTP edits fire among its codes, most with modifier indicator 1.
const CLAIM: [&str; 20] = [
    "29881-RT", "29880", "29877-59", "20610-LT", "99213-25", "36415x2", "85025", "80053", "93000", "71046", "73562", "97110x3", "J1100x4",
    "96372", "81001", "82947", "84443", "11042", "97597", "64450",
];

/// Per-call latency over 5,000 calls: min, p50, p99. On a shared machine the minimum is the
/// closest to the uncontended cost.
fn latency(name: &str, mut f: impl FnMut()) {
    let mut times: Vec<u128> = (0..5_000)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!("{name}: min {} ns, p50 {} ns, p99 {} ns", times[0], p(0.5), p(0.99));
}

fn memory_report(book: &Book) {
    let mib = |bytes: usize| bytes as f64 / 1048576.0;
    println!("billing tables (PTP + MUE + GEMs) heap after open (PTP edits compressed): {:.1} MiB", mib(book.billing_heap_bytes()));
    println!("resident after opening the default book: {:.1} MiB", rss_mib());
    let lines: Vec<ClaimLine> = CLAIM.iter().map(|l| ClaimLine::parse(l).unwrap()).collect();
    let t = Instant::now();
    book.check_claim(&lines, None).unwrap();
    println!("first claim check (unpacks the PTP edits): {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    println!("billing tables heap once unpacked: {:.1} MiB", mib(book.billing_heap_bytes()));
    println!("resident after the first claim check: {:.1} MiB", rss_mib());
    if std::env::var_os("CODELOOKUP_BENCH_RSS_DIFF").is_some() {
        let dir = std::env::temp_dir().join(format!("codelookup-bench-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let mut sources = Sources::in_dir(Sources::repository_data_dir());
        sources.ncci_ptp.clear();
        sources.ncci_mue = None;
        sources.gems_icd9_to_icd10 = None;
        sources.gems_icd10_to_icd9 = None;
        let plain = dir.join("no-billing.book");
        Book::build(&sources, &plain).expect("build without billing");
        let with = dir.join("with-billing.book");
        Book::build(&Sources::in_dir(Sources::repository_data_dir()), &with).expect("build with billing");
        // Open each in a child process so the two measurements do not share a heap.
        for (name, path) in [("without", &plain), ("with", &with)] {
            let out = std::process::Command::new(std::env::current_exe().unwrap_or_default())
                .env("CODELOOKUP_BENCH_OPEN_ONLY", path)
                .output()
                .expect("child");
            println!("resident after opening a book {name} the billing tables: {}", String::from_utf8_lossy(&out.stdout).trim());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn bench(c: &mut Criterion) {
    if let Some(path) = std::env::var_os("CODELOOKUP_BENCH_OPEN_ONLY") {
        let before = rss_mib();
        let t = Instant::now();
        let book = Book::open(std::path::PathBuf::from(path)).expect("open");
        println!("{:.1} MiB (open {:.0} ms; {:.1} MiB before)", rss_mib(), t.elapsed().as_secs_f64() * 1e3, before);
        black_box(book);
        std::process::exit(0);
    }
    let t = Instant::now();
    let book = Book::open_default().expect("default book");
    println!("open_default: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    memory_report(&book);

    let lines: Vec<ClaimLine> = CLAIM.iter().map(|l| ClaimLine::parse(l).expect("line")).collect();
    if let Some(n) = std::env::var("CODELOOKUP_BENCH_LOOP").ok().and_then(|n| n.parse::<u32>().ok()) {
        // For profilers: the 20-line check alone, n times.
        for _ in 0..n {
            black_box(book.check_claim(black_box(&lines), None).expect("check"));
        }
        std::process::exit(0);
    }
    let check = book.check_claim(&lines, None).expect("check");
    println!(
        "20-line claim: {} PTP edits ({} bypassed), {} MUEs ({} exceeded), denied lines {:?}",
        check.ptp.len(),
        check.ptp.iter().filter(|e| e.bypassed).count(),
        check.mue.len(),
        check.mue.iter().filter(|m| m.exceeds).count(),
        check.denied_lines
    );

    latency("check_claim/20 lines", || {
        black_box(book.check_claim(black_box(&lines), None).expect("check"));
    });
    c.bench_function("check_claim/20 lines", |b| b.iter(|| book.check_claim(black_box(&lines), None).expect("check")));
    let parsed: Vec<&str> = CLAIM.to_vec();
    c.bench_function("check_claim/20 lines incl. ClaimLine::parse", |b| {
        b.iter(|| {
            let lines: Vec<ClaimLine> = black_box(&parsed).iter().map(|l| ClaimLine::parse(l).expect("line")).collect();
            book.check_claim(&lines, None).expect("check")
        })
    });
    let clean: Vec<ClaimLine> = ["99213", "36415", "85025", "80053", "81001"].iter().map(|l| ClaimLine::parse(l).expect("line")).collect();
    c.bench_function("check_claim/5 lines, no edit fires", |b| b.iter(|| book.check_claim(black_box(&clean), None).expect("check")));
    let codes: Vec<String> = lines.iter().map(|l| l.code.clone()).collect();
    c.bench_function("ptp_edits/20 codes", |b| b.iter(|| book.ptp_edits(black_box(&codes)).expect("edits")));
    c.bench_function("mue/one code", |b| b.iter(|| book.mue(black_box("36415")).expect("mue")));
    c.bench_function("crosswalk/250.00 to ICD-10-CM", |b| {
        b.iter(|| book.crosswalk(black_box("250.00"), Direction::Icd9To10).expect("map"))
    });
    c.bench_function("crosswalk/I10 to ICD-9-CM", |b| b.iter(|| book.crosswalk(black_box("I10"), Direction::Icd10To9).expect("map")));
}

criterion_group!(benches, bench);
criterion_main!(benches);
