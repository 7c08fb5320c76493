//! The `search` command: text lines or JSON hits (field names = `Hit` field names).

use std::process::ExitCode;

use codelookup::search::SearchOptions;
use codelookup::{Book, Error, System};

/// Runs a search and prints the hits; exit status 1 when nothing is found.
pub fn run(
    book: &Book,
    query: &str,
    systems: &[String],
    billable: bool,
    limit: usize,
    offset: usize,
    json: bool,
) -> Result<ExitCode, Error> {
    let systems = systems.iter().map(|s| s.parse::<System>()).collect::<Result<Vec<_>, _>>()?;
    let options = SearchOptions { systems, billable: billable.then_some(true), limit, offset, ..SearchOptions::default() };
    let hits = book.search(query, &options)?;
    if json {
        println!("{}", serde_json::to_string(&hits).unwrap_or_else(|_| "[]".into()));
    } else {
        for h in &hits {
            let flag = if h.billable { "" } else { " (not billable)" };
            println!("{:<9} {:<8} {}{flag}", h.code, h.system, h.title);
            if h.matched_text != h.title && h.matched != codelookup::MatchField::Code {
                println!(
                    "{:<18} matched {}: {}",
                    "",
                    serde_json::to_value(h.matched).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                    h.matched_text
                );
            }
        }
        if hits.is_empty() {
            eprintln!("no match for {query:?}");
        }
    }
    Ok(if hits.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
