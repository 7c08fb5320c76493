//! Benchmarks live in `benches/benches/`; run them with `cargo bench -p codelookup-benches`.
//! This library holds what the benchmarks share.

/// Resident set size of this process, in MiB (Linux; 0 elsewhere).
pub fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}
