//! Compiles the source files into a book: ICD-10-CM from the order file plus the tabular XML's
//! chapters, sections and notes; ICD-10-PCS from its order file and tables; HCPCS Level II from
//! the quarterly file. The result is deterministic: the same sources give the same book.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::data::{BookData, NodeId};
use crate::code::System;
use crate::error::{Error, Result};
use crate::import::order::OrderRow;
use crate::import::sources::{read_maybe_gzip, read_order_source, Sources};
use crate::import::tabular::{self, EntryKind, Tabular};
use crate::import::{hcpcs, pcs};
use crate::record::NodeKind;

/// Version of the book layout; bumped whenever the SQLite schema or a stored blob changes.
pub(crate) const FORMAT_VERSION: u32 = 2;

/// Reads every source file and compiles the book.
pub(crate) fn compile(sources: &Sources) -> Result<BookData> {
    let mut book = BookData::default();
    // The files a user supplies are read first, so that a mistake in them fails fast.
    let cpt = sources.cpt.as_deref().map(crate::import::cpt::read_dir).transpose()?;
    let local = sources.local.iter().map(|l| Ok((l, crate::import::codes_csv::read(&l.path, &l.import)?))).collect::<Result<Vec<_>>>()?;

    let cm_rows = read_order_source(&sources.icd10cm_order, "icd10cm_order_")?;
    let tab = tabular::read(&read_maybe_gzip(&sources.icd10cm_tabular)?, &sources.icd10cm_tabular)?;
    add_icd10cm(&mut book, &cm_rows, &tab, &sources.icd10cm_order)?;

    let pcs_rows = read_order_source(&sources.icd10pcs_order, "icd10pcs_order_")?;
    add_icd10pcs(&mut book, &pcs_rows, &sources.icd10pcs_order)?;
    if let Some(tables) = &sources.icd10pcs_tables {
        book.pcs = pcs::PcsAxes::read_zip(tables)?;
    }

    add_hcpcs(&mut book, hcpcs::read(&sources.hcpcs)?)?;
    let cpt_added = cpt.as_ref().map(|c| super::imported::add_cpt_codes(&mut book, c)).transpose()?.unwrap_or_default();
    for (source, codes) in &local {
        super::imported::add_local_codes(&mut book, codes, &source.path)?;
    }
    book.compute_subtree_ends();
    book.billing = crate::billing::compile(sources, &mut book.meta)?;
    let table = match &sources.icd10_history {
        Some(p) => crate::import::history::read_gzip_file(p)?,
        None => crate::import::history::HistoryTable::default(),
    };
    let conversions = match &sources.icd10cm_conversion {
        Some(p) => crate::import::history::read_conversion_table(p)?,
        None => Vec::new(),
    };
    book.history = super::history::compile(&book, &table, &conversions);
    if let Some(cpt) = &cpt {
        super::imported::add_cpt_history(&mut book, cpt, cpt_added);
        book.meta.push(("cpt_codes".into(), cpt.codes.len().to_string()));
    }

    book.meta.push(("format_version".into(), FORMAT_VERSION.to_string()));
    book.meta.push(("icd10cm_tabular_version".into(), tab.version.clone()));
    for path in sources.files() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        book.meta.push((format!("source:{name}"), digest));
    }
    Ok(book)
}

/// ICD-10-CM: codes, titles and billable flags from the order file (the authority), placed
/// under the chapters and sections of the tabular XML, with the XML's notes.
fn add_icd10cm(book: &mut BookData, rows: &[OrderRow], tab: &Tabular, order_path: &Path) -> Result<()> {
    let by_code: HashMap<&str, usize> =
        tab.entries.iter().enumerate().filter(|(_, e)| e.kind == EntryKind::Diag).map(|(i, e)| (e.code.as_str(), i)).collect();
    let mut placed: HashMap<usize, NodeId> = HashMap::new(); // tabular entry -> node
    let mut cm_nodes: HashMap<String, NodeId> = HashMap::new();

    for row in rows {
        let parent = if row.code.len() == 3 {
            // A category: its parents are the XML section and chapter, created on first use.
            let entry = by_code.get(row.code.as_str()).and_then(|&i| tab.entries[i].parent).ok_or_else(|| {
                Error::import(order_path, Some(row.order as u64), format!("category {} is not in the tabular XML", row.code))
            })?;
            Some(place_entry(book, tab, entry, &mut placed)?)
        } else {
            let parent = (3..row.code.len()).rev().find_map(|n| cm_nodes.get(&row.code[..n]).copied());
            Some(parent.ok_or_else(|| Error::import(order_path, Some(row.order as u64), format!("code {} has no parent code", row.code)))?)
        };
        let kind = if row.billable { NodeKind::Code } else { NodeKind::Header };
        let id = book.nodes.push(System::Icd10cm, kind, &row.code, &row.long_title, &row.short_title, row.billable, parent)?;
        cm_nodes.insert(row.code.clone(), id);
        if let Some(&entry) = by_code.get(row.code.as_str()) {
            attach_notes(book, tab, entry, id);
        }
    }
    Ok(())
}

/// Creates the node of a chapter or section (and its chapter) the first time a category needs it.
fn place_entry(book: &mut BookData, tab: &Tabular, entry: usize, placed: &mut HashMap<usize, NodeId>) -> Result<NodeId> {
    if let Some(&id) = placed.get(&entry) {
        return Ok(id);
    }
    let e = &tab.entries[entry];
    let parent = e.parent.map(|p| place_entry(book, tab, p, placed)).transpose()?;
    let kind = if e.kind == EntryKind::Chapter { NodeKind::Chapter } else { NodeKind::Section };
    let id = book.nodes.push(System::Icd10cm, kind, &e.code, &e.title, "", false, parent)?;
    attach_notes(book, tab, entry, id);
    placed.insert(entry, id);
    Ok(id)
}

fn attach_notes(book: &mut BookData, tab: &Tabular, entry: usize, id: NodeId) {
    let e = &tab.entries[entry];
    if !e.notes.is_empty() {
        book.notes.insert(id, e.notes.iter().map(|(k, t)| (*k, t.as_str().into())).collect());
    }
    if !e.seventh.is_empty() {
        book.seventh.insert(id, e.seventh.iter().map(|(c, t)| (*c, t.as_str().into())).collect());
    }
}

/// ICD-10-PCS: tables (three characters, headers) and codes under them.
fn add_icd10pcs(book: &mut BookData, rows: &[OrderRow], order_path: &Path) -> Result<()> {
    let mut tables: HashMap<&str, NodeId> = HashMap::new();
    for row in rows {
        let (kind, parent) = match row.code.len() {
            3 => (NodeKind::Header, None),
            7 => {
                let table = tables.get(&row.code[..3]).copied().ok_or_else(|| {
                    Error::import(
                        order_path,
                        Some(row.order as u64),
                        format!("code {} comes before its table {}", row.code, &row.code[..3]),
                    )
                })?;
                (NodeKind::Code, Some(table))
            }
            n => return Err(Error::import(order_path, Some(row.order as u64), format!("ICD-10-PCS code {} has {n} characters", row.code))),
        };
        let id = book.nodes.push(System::Icd10pcs, kind, &row.code, &row.long_title, &row.short_title, row.billable, parent)?;
        if kind == NodeKind::Header {
            tables.insert(&row.code, id);
        }
    }
    Ok(())
}

/// HCPCS Level II: codes and modifiers, flat. A code is billable unless terminated; a modifier
/// is never billable on its own.
fn add_hcpcs(book: &mut BookData, rows: Vec<hcpcs::HcpcsRow>) -> Result<()> {
    for row in rows {
        let kind = if row.modifier { NodeKind::Modifier } else { NodeKind::Code };
        let billable = !row.modifier && row.info.terminated.is_none();
        let id = book.nodes.push(System::Hcpcs, kind, &row.code, &row.long_title, &row.short_title, billable, None)?;
        book.hcpcs.insert(id, super::hcpcs::PackedHcpcs::pack(&row.info));
    }
    Ok(())
}
