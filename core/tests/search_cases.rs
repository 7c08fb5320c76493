//! The search relevance set of `tests/cases/search.json` (shared with the Python and Node
//! suites): every query's accepted code must appear within its stated k. Run with
//! `--nocapture` to see success@1/5/10 per category. `CODELOOKUP_TEST_BOOK` names another book
//! file to run the cases against (the embedded default book otherwise).

use std::collections::BTreeMap;

use codelookup::search::SearchOptions;
use codelookup::Book;
use serde_json::Value;

fn book() -> Book {
    match std::env::var("CODELOOKUP_TEST_BOOK") {
        Ok(path) => Book::open(path).expect("open CODELOOKUP_TEST_BOOK"),
        Err(_) => Book::open_default().expect("default book"),
    }
}

fn cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/search.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read search.json")).expect("parse search.json");
    all["cases"].as_array().expect("cases").clone()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// The 1-based rank of the first accepted hit among the first `depth` hits.
fn first_accepted(book: &Book, case: &Value, depth: usize) -> Option<usize> {
    let mut options: SearchOptions = case.get("options").map(|o| serde_json::from_value(o.clone()).expect("options")).unwrap_or_default();
    options.limit = depth;
    let query = case["query"].as_str().expect("query");
    let hits = book.search(query, &options).unwrap_or_else(|e| panic!("{query:?}: {e}"));
    let accept = strs(&case["accept"]);
    let prefixes = strs(&case["accept_prefix"]);
    hits.iter().position(|h| accept.contains(&h.code) || prefixes.iter().any(|p| h.code.starts_with(p.as_str()))).map(|i| i + 1)
}

#[test]
fn relevance_set_is_well_formed() {
    let cases = cases();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cases {
        let k = c["k"].as_u64().expect("k");
        assert!([1, 5, 10].contains(&k), "{c}");
        assert!(!strs(&c["accept"]).is_empty() || !strs(&c["accept_prefix"]).is_empty(), "{c}");
        *per.entry(c["category"].as_str().expect("category").to_string()).or_default() += 1;
    }
    for cat in ["exact_code", "code_prefix", "words", "autocomplete", "typo", "synonym", "abbreviation"] {
        assert!(per.get(cat).copied().unwrap_or(0) >= 10, "category {cat}: {per:?}");
    }
}

#[test]
fn every_query_finds_an_accepted_code_within_its_k() {
    let book = book();
    let mut failures = Vec::new();
    // category -> (cases, hits within 1, 5, 10)
    let mut stats: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for case in cases() {
        let k = case["k"].as_u64().unwrap_or(1) as usize;
        let rank = first_accepted(&book, &case, 10);
        let s = stats.entry(case["category"].as_str().unwrap_or("?").to_string()).or_default();
        s[0] += 1;
        for (i, at) in [1, 5, 10].into_iter().enumerate() {
            s[i + 1] += usize::from(rank.is_some_and(|r| r <= at));
        }
        if rank.is_none_or(|r| r > k) {
            failures.push(format!("{} (k={k}): accepted code at rank {rank:?}", case["query"]));
        }
    }
    println!("category       n  success@1  @5  @10");
    for (cat, s) in &stats {
        println!("{cat:<13} {:>3}  {:>9}  {:>2}  {:>3}", s[0], s[1], s[2], s[3]);
    }
    assert!(failures.is_empty(), "{} queries missed:\n{}", failures.len(), failures.join("\n"));
}
