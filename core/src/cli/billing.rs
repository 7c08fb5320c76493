//! The `check` (NCCI claim check) and `crosswalk` (GEMs) commands of the CLI. Parsing of the
//! claim lines is the core's [`ClaimLine::parse`]; this file only prints.

use std::process::ExitCode;

use codelookup::billing::{adjudication_indicator_label, modifier_indicator_label, ClaimCheck, ClaimLine};
use codelookup::crosswalk::{Direction, Mapping};
use codelookup::{Book, Error, System};

/// `codelookup check LINE...`: prints the edits that fire; exit status 1 when a line would be
/// denied.
pub fn check(book: &Book, lines: &[String], date: Option<&str>, json: bool) -> Result<ExitCode, Error> {
    let lines = lines.iter().map(|l| ClaimLine::parse(l)).collect::<Result<Vec<_>, _>>()?;
    let date = date
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| Error::InvalidArgument(format!("date of service {d:?} is not a date (YYYY-MM-DD)")))
        })
        .transpose()?;
    let check = book.check_claim(&lines, date)?;
    if json {
        println!("{}", serde_json::to_string(&check).unwrap_or_default());
    } else {
        print_check(&lines, &check);
    }
    Ok(if check.clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_check(lines: &[ClaimLine], check: &ClaimCheck) {
    let at = |i: usize| format!("#{} {}", i + 1, lines.get(i).map(ToString::to_string).unwrap_or_default());
    if check.ptp.is_empty() {
        println!("PTP edits: none");
    } else {
        println!("PTP edits ({}):", check.ptp.len());
    }
    for e in &check.ptp {
        let outcome = match (&e.bypass_modifier, e.modifier_indicator) {
            (Some(m), _) => format!("bypassed by modifier {m}"),
            (None, 1) => "column 2 denied (a PTP-associated modifier such as 59 or XS would bypass it)".to_string(),
            (None, _) => "column 2 denied".to_string(),
        };
        println!("  column 1 {} / column 2 {}: {outcome}", at(e.column1_line), at(e.column2_line));
        println!("    modifier indicator {}: {}", e.modifier_indicator, modifier_indicator_label(e.modifier_indicator));
        println!("    rationale: {}", e.rationale);
        if e.effective.is_some() || e.deleted.is_some() {
            let d = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
            println!("    in effect from {} until {}", d(e.effective), d(e.deleted));
        }
    }
    let exceeded: Vec<_> = check.mue.iter().filter(|m| m.exceeds).collect();
    println!("MUE: {} code(s) with a limit, {} exceeded", check.mue.len(), exceeded.len());
    for m in exceeded {
        let on: Vec<String> = m.lines.iter().map(|&i| at(i)).collect();
        println!(
            "  {}: {} units > {} per day ({} {}; {})",
            on.join(" + "),
            m.units,
            m.mue_value,
            m.adjudication_indicator,
            adjudication_indicator_label(m.adjudication_indicator),
            m.rationale
        );
    }
    if check.clean {
        println!("result: clean, no line denied");
    } else {
        let denied: Vec<String> = check.denied_lines.iter().map(|&i| at(i)).collect();
        println!("result: denied {}", denied.join(", "));
    }
    if !check.edits_dated {
        println!("note: this book's NCCI edits are undated (a conversion of the CMS files without effective or deletion dates): every edit applies whatever the date of service");
    }
}

/// `codelookup crosswalk CODE...`: the GEM mappings of each code, in the given direction or in
/// every direction that has the code.
pub fn crosswalk(book: &Book, codes: &[String], direction: Option<&str>, json: bool) -> Result<ExitCode, Error> {
    let directions: Vec<Direction> = match direction {
        Some(d) => vec![d.parse()?],
        None => Direction::ALL.to_vec(),
    };
    let mut out = Vec::new();
    let mut failed = false;
    for code in codes {
        let mut found = false;
        let mut last_err = None;
        for &d in &directions {
            match book.crosswalk(code, d) {
                Ok(maps) => {
                    found = true;
                    if json {
                        out.push(serde_json::json!({ "input": code, "direction": d, "mappings": maps }));
                    } else {
                        print_mappings(book, d, &maps);
                    }
                }
                // Without a direction, a code of the other system is not an error.
                Err(e @ (Error::InvalidCode { .. } | Error::NotFound { .. })) => {
                    if last_err.as_ref().is_none_or(|l| matches!(l, Error::InvalidCode { .. })) {
                        last_err = Some(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if !found {
            failed = true;
            let e = last_err.unwrap_or_else(|| Error::NotFound { code: code.clone(), suggestions: vec![] });
            if json {
                out.push(serde_json::json!({ "input": code, "error": { "kind": e.kind(), "message": e.to_string() } }));
            } else {
                eprintln!("{code}: {e}");
            }
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(out));
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_mappings(book: &Book, d: Direction, maps: &[Mapping]) {
    let Some(first) = maps.first() else { return };
    let title = |code: &str, system_is_icd10: bool| {
        if system_is_icd10 {
            book.title(code, Some(System::Icd10cm)).map(|t| format!("  {t}")).unwrap_or_default()
        } else {
            String::new()
        }
    };
    println!("{} ({} -> {}){}", first.source, d.source_name(), d.target_name(), title(&first.source, d == Direction::Icd10To9));
    let target_icd10 = d == Direction::Icd9To10;
    let approx = |m: &Mapping| if m.approximate { " (approximate)" } else { "" };
    for m in maps.iter().filter(|m| !m.combination) {
        match &m.target {
            Some(t) => println!("  -> {t}{}{}", approx(m), title(t, target_icd10)),
            None => println!("  no map{}", approx(m)),
        }
    }
    let mut scenarios: Vec<u8> = maps.iter().filter(|m| m.combination).map(|m| m.scenario).collect();
    scenarios.sort_unstable();
    scenarios.dedup();
    for s in scenarios {
        let in_s: Vec<&Mapping> = maps.iter().filter(|m| m.combination && m.scenario == s).collect();
        let mut lists: Vec<u8> = in_s.iter().map(|m| m.choice_list).collect();
        lists.sort_unstable();
        lists.dedup();
        println!("  -> combination, scenario {s}: one code from each choice list, together{}", in_s.first().map_or("", |m| approx(m)));
        for l in lists {
            for m in in_s.iter().filter(|m| m.choice_list == l) {
                let t = m.target.as_deref().unwrap_or("-");
                println!("     list {l}: {t}{}", title(t, target_icd10));
            }
        }
    }
}
