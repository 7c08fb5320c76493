//! The `codelookup` command-line tool: look codes up, search, and build code books.
//! Every command takes `--json` for scripts; the JSON field names are the record's field names.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use codelookup::import::sources::Sources;
use codelookup::record::CodeRecord;
use codelookup::{Book, Error, System};

#[derive(Parser)]
#[command(name = "codelookup", version, about = "Look up and search medical codes (ICD-10-CM, ICD-10-PCS, HCPCS, CPT) offline")]
struct Cli {
    /// A book file built with `codelookup build` (default: the embedded book).
    #[arg(long, global = true)]
    book: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Look up one or more codes in any common spelling (E11.9, e119, 0dtj4zz, j1100).
    Lookup {
        /// The codes.
        #[arg(required = true)]
        codes: Vec<String>,
        /// Only this code system (icd10cm, icd10pcs, hcpcs, cpt).
        #[arg(long)]
        system: Option<String>,
        /// Date of service (YYYY-MM-DD): fail for codes not valid on that date, saying when they
        /// were valid and what replaced them.
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
    /// Check claim lines against the NCCI edits (PTP pairs, MUE limits): `99213 36415x2 20610-59`,
    /// each CODE[xUNITS][-MOD[-MOD]]. Exit status 1 when a line would be denied.
    Check {
        /// The claim lines, all for one patient, provider and date of service.
        #[arg(required = true)]
        lines: Vec<String>,
        /// Date of service (YYYY-MM-DD): only edits in effect that day apply (when the book's edits
        /// are dated; the default book's are not).
        #[arg(long)]
        date: Option<String>,
    },
    /// ICD-9-CM <-> ICD-10-CM diagnosis mappings (2018 GEMs): `crosswalk 250.00`, `crosswalk E11.9`.
    Crosswalk {
        /// The codes, in either system.
        #[arg(required = true)]
        codes: Vec<String>,
        /// icd9_to_icd10 or icd10_to_icd9 (9to10, 10to9); default: every direction with mappings.
        #[arg(long)]
        direction: Option<String>,
    },
    /// Search codes by code prefix or words, with autocomplete, typo tolerance and abbreviations:
    /// `search "type 2 diab"`, `search e116`, `search chf --system icd10cm --billable`.
    Search {
        /// The query: a code or code prefix in any spelling, or words.
        query: String,
        /// Only this code system (icd10cm, icd10pcs, hcpcs, cpt); may be repeated.
        #[arg(long = "system")]
        systems: Vec<String>,
        /// Only billable codes.
        #[arg(long)]
        billable: bool,
        /// Hits to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Hits to skip (paging).
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// Build a code book from the official source files.
    Build {
        /// Folder laid out like the repository's data/ folder.
        #[arg(long, default_value_os_t = Sources::repository_data_dir())]
        data: PathBuf,
        /// Where to write the book (`.zst` to compress it).
        #[arg(long, default_value = "codelookup.book")]
        out: PathBuf,
        /// A folder of AMA CPT data files (LONGULT.txt, ...) to add CPT to the book.
        #[arg(long)]
        cpt: Option<PathBuf>,
        /// A CSV/TSV file of local codes or a payer list to add (repeatable).
        #[arg(long)]
        csv: Vec<PathBuf>,
        /// Column mapping of the --csv files: `code=COL,title=COL[,short_title=COL][,billable=COL][,description=COL][,system=COL]`.
        #[arg(long, default_value = "code=code,title=title")]
        csv_map: String,
        /// Code system of --csv rows without a system column.
        #[arg(long, default_value = "local")]
        csv_system: String,
    },
    /// Show what a book holds.
    Info,
    /// Rebuild the derived ICD-10 history file from every yearly CMS order file.
    History {
        /// Folder laid out like the repository's data/ folder.
        #[arg(long, default_value_os_t = Sources::repository_data_dir())]
        data: PathBuf,
        /// Where to write the gzip TSV.
        #[arg(long, default_value = "data/history/icd10-history.tsv.gz")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            if cli.json {
                println!("{}", serde_json::json!({ "error": { "kind": e.kind(), "message": e.to_string() } }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(2)
        }
    }
}

fn open(cli: &Cli) -> Result<Book, Error> {
    match &cli.book {
        Some(p) => Book::open(p),
        None => Book::open_default(),
    }
}

fn run(cli: &Cli) -> Result<ExitCode, Error> {
    match &cli.command {
        Command::Lookup { codes, system, on } => {
            let book = open(cli)?;
            let system = system.as_deref().map(str::parse::<System>).transpose()?;
            let mut failed = false;
            let mut out = Vec::new();
            for code in codes {
                let found = match on {
                    Some(date) => book.lookup_on(code, system, *date).map(|r| vec![r]),
                    None => book.lookup_all(code, system),
                };
                match found {
                    Ok(recs) => {
                        for r in recs {
                            if !cli.json {
                                print_record(&r);
                            }
                            out.push(serde_json::to_value(&r).unwrap_or_default());
                        }
                    }
                    Err(e) => {
                        failed = true;
                        if cli.json {
                            out.push(serde_json::json!({ "input": code, "error": { "kind": e.kind(), "message": e.to_string() } }));
                        } else {
                            eprintln!("{code}: {e}");
                        }
                    }
                }
            }
            if cli.json {
                println!("{}", serde_json::Value::Array(out));
            }
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Check { lines, date } => billing_cli::check(&open(cli)?, lines, date.as_deref(), cli.json),
        Command::Crosswalk { codes, direction } => billing_cli::crosswalk(&open(cli)?, codes, direction.as_deref(), cli.json),
        Command::Search { query, systems, billable, limit, offset } => {
            search_cli::run(&open(cli)?, query, systems, *billable, *limit, *offset, cli.json)
        }
        Command::Build { data, out, cpt, csv, csv_map, csv_system } => {
            let mut sources = Sources::in_dir(data);
            sources.cpt = cpt.clone();
            let mapping = codelookup::import::codes_csv::ColumnMapping::parse(csv_map)?;
            let system: System = csv_system.parse()?;
            for path in csv {
                let import = codelookup::import::codes_csv::CsvImport { delimiter: None, mapping: mapping.clone(), default_system: system };
                sources.local.push(codelookup::import::sources::LocalSource { path: path.clone(), import });
            }
            Book::build(&sources, out)?;
            let book = Book::open(out)?;
            let count = book.codes().count();
            if cli.json {
                println!("{}", serde_json::json!({ "out": out, "codes": count }));
            } else {
                println!("built {} with {count} codes", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History { data, out } => {
            let table = codelookup::import::history::scan(&codelookup::import::history::year_files_in(data))?;
            codelookup::import::history::write_gzip_file(&table, out)?;
            if cli.json {
                println!("{}", serde_json::json!({ "out": out, "codes": table.codes.len(), "last_year": table.last_year }));
            } else {
                println!("wrote {} with {} codes, FY2014-FY{}", out.display(), table.codes.len(), table.last_year);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Info => {
            let book = open(cli)?;
            let meta = book.metadata();
            if cli.json {
                let map: serde_json::Map<String, serde_json::Value> = meta.into_iter().map(|(k, v)| (k, v.into())).collect();
                println!("{}", serde_json::Value::Object(map));
            } else {
                for (k, v) in meta {
                    println!("{k}: {v}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The `search` command.
#[path = "cli/search.rs"]
mod search_cli;

/// The `check` and `crosswalk` commands.
#[path = "cli/billing.rs"]
mod billing_cli;

fn print_record(r: &CodeRecord) {
    let flag = if r.billable { "billable" } else { "not billable" };
    println!("{} ({}, {flag})\n  {}", r.code, r.system, r.title);
    if r.short_title != r.title {
        println!("  short: {}", r.short_title);
    }
    if !r.parents.is_empty() {
        let chain: Vec<_> = r.parents.iter().map(|p| p.code.as_ref()).collect();
        println!("  in: {}", chain.join(" > "));
    }
    if let Some(s) = &r.seventh_character {
        println!("  7th character {}: {} (from {})", s.character, s.meaning, s.source);
    }
    for a in &r.pcs_axes {
        println!("  {} {}: {} = {}", a.position, a.name, a.value, a.label);
    }
    if let Some(h) = &r.hcpcs {
        let d = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
        println!(
            "  added {}, action {} effective {}, terminated {}",
            d(h.added),
            h.action_code.as_deref().unwrap_or("-"),
            d(h.action_effective),
            d(h.terminated)
        );
    }
    if let Some(h) = &r.history {
        let d = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
        let status = if h.status == codelookup::record::CodeStatus::Deleted { "DELETED; " } else { "" };
        println!("  {status}valid from {} until {}", d(h.valid_from), d(h.valid_until));
        if !h.replaced_by.is_empty() {
            println!("  replaced by: {}", h.replaced_by.join(", "));
        }
        if !h.replaces.is_empty() {
            println!("  replaces: {}", h.replaces.join(", "));
        }
        for t in &h.title_changes {
            println!("  title from {}: {}", t.from, t.title);
        }
    }
    if !r.billable_descendants.is_empty() {
        let n = r.billable_descendants.len();
        let first: Vec<_> = r.billable_descendants.iter().take(8).map(String::as_str).collect();
        println!("  billable codes below ({n}): {}{}", first.join(", "), if n > 8 { ", ..." } else { "" });
    }
    for n in &r.notes {
        let from = if n.inherited { format!(" (from {})", n.source) } else { String::new() };
        println!("  {}{from}: {}", n.kind.as_str(), n.text);
    }
    if !r.also_in.is_empty() {
        let s: Vec<_> = r.also_in.iter().map(|s| s.as_str()).collect();
        println!("  also a code in: {}", s.join(", "));
    }
}
