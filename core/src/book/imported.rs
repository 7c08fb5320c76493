//! Code sets a user supplies when building a book: CPT from a licensee's AMA data files, and
//! local code sets or payer lists from CSV/TSV files. This module adds their codes, modifiers,
//! plain-language descriptions, dates and deleted codes to the book, and stores the
//! descriptions.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};

use super::data::{BookData, NodeId, NodeMap};
use super::history::{HistExtra, Retired};
use crate::code::System;
use crate::error::{Error, Result};
use crate::import::codes_csv::LocalCode;
use crate::import::cpt::{CptData, CptModifierKind};
use crate::record::NodeKind;

/// Plain-language descriptions of a node: the CPT consumer descriptor (or a CSV description)
/// and the CPT clinician descriptors.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Descriptions {
    pub description: Option<Box<str>>,
    pub clinician: Vec<Box<str>>,
}

/// Adds the CPT codes and modifiers (Level II modifiers are HCPCS's and stay there). Returns
/// the dates and deleted codes, which [`add_cpt_history`] records once the history is built.
pub(crate) fn add_cpt_codes(book: &mut BookData, cpt: &CptData) -> Result<Vec<(NodeId, chrono::NaiveDate)>> {
    let mut added = Vec::new();
    for c in &cpt.codes {
        let short = c.short.as_deref().or(c.medium.as_deref()).unwrap_or(&c.long);
        let id = book.nodes.push(System::Cpt, NodeKind::Code, &c.code, &c.long, short, true, None)?;
        if c.consumer.is_some() || !c.clinician.is_empty() {
            let d = Descriptions {
                description: c.consumer.as_deref().map(Into::into),
                clinician: c.clinician.iter().map(|s| s.as_str().into()).collect(),
            };
            book.descriptions.insert(id, d);
        }
        if let Some(date) = c.added {
            added.push((id, date));
        }
    }
    for m in cpt.modifiers.iter().filter(|m| m.kind != CptModifierKind::LevelII) {
        book.nodes.push(System::Cpt, NodeKind::Modifier, &m.code, &m.long, &m.short, false, None)?;
    }
    Ok(added)
}

/// Records CPT added dates and deleted codes (with their deletion date and replacements) in the
/// book's history.
pub(crate) fn add_cpt_history(book: &mut BookData, cpt: &CptData, added: Vec<(NodeId, chrono::NaiveDate)>) {
    for (id, date) in added {
        book.history.extra.entry(id).or_default().valid_from = Some(date);
    }
    let current: HashSet<&str> = cpt.codes.iter().map(|c| c.code.as_str()).collect();
    for d in cpt.deleted.iter().filter(|d| !current.contains(d.code.as_str())) {
        let extra = HistExtra {
            valid_until: d.deleted.and_then(|x| x.pred_opt()),
            replaced_by: d.replaced_by.iter().map(|s| s.as_str().into()).collect(),
            ..Default::default()
        };
        let title = d.title.as_deref().unwrap_or("(deleted CPT code; descriptor not available)");
        book.history.retired.push(Retired {
            system: System::Cpt,
            key: d.code.as_str().into(),
            title: title.into(),
            listed: 0,
            billable: 0,
            extra,
        });
    }
    book.history.retired.sort_by(|a, b| (&a.key, a.system).cmp(&(&b.key, b.system)));
    book.history.retired.dedup_by(|a, b| a.key == b.key && a.system == b.system);
}

/// Adds codes of a local code set or payer list. A code the book already has in the same
/// system is an error: an import adds codes, it does not overwrite official ones.
pub(crate) fn add_local_codes(book: &mut BookData, codes: &[LocalCode], source: &std::path::Path) -> Result<()> {
    let existing: HashMap<(System, &str), ()> = book.nodes.iter().filter(|n| n.is_code()).map(|n| ((n.system, n.key()), ())).collect();
    let clashes: Vec<String> =
        codes.iter().filter(|c| existing.contains_key(&(c.system, c.code.as_str()))).map(|c| format!("{} {}", c.system, c.code)).collect();
    if !clashes.is_empty() {
        let shown = clashes.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        return Err(Error::import(source, None, format!("{} codes are already in the book ({shown}...)", clashes.len())));
    }
    for c in codes {
        let id =
            book.nodes.push(c.system, NodeKind::Code, &c.code, &c.title, c.short_title.as_deref().unwrap_or(&c.title), c.billable, None)?;
        if let Some(d) = &c.description {
            book.descriptions.insert(id, Descriptions { description: Some(d.as_str().into()), clinician: Vec::new() });
        }
    }
    Ok(())
}

const SCHEMA: &str = "
CREATE TABLE descriptions(node INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(node, seq)) WITHOUT ROWID;
";

/// Writes the descriptions table.
pub(crate) fn write(tx: &Connection, descriptions: &NodeMap<Descriptions>) -> Result<()> {
    tx.execute_batch(SCHEMA)?;
    let mut st = tx.prepare("INSERT INTO descriptions VALUES (?1, ?2, ?3, ?4)")?;
    let mut ids: Vec<_> = descriptions.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let d = &descriptions[&id];
        let rows = d.description.iter().map(|t| ("description", t)).chain(d.clinician.iter().map(|t| ("clinician", t)));
        for (seq, (kind, text)) in rows.enumerate() {
            st.execute(params![id, seq as i64, kind, &**text])?;
        }
    }
    Ok(())
}

/// Reads the descriptions table of a book with `node_count` nodes.
pub(crate) fn read(conn: &Connection, node_count: usize) -> Result<NodeMap<Descriptions>> {
    let mut out: NodeMap<Descriptions> = NodeMap::default();
    let mut st = conn.prepare("SELECT node, kind, text FROM descriptions ORDER BY node, seq")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let node: i64 = r.get(0)?;
        if !(0..node_count as i64).contains(&node) {
            return Err(Error::Book(format!("corrupt code book: description of node {node}")));
        }
        let kind: String = r.get(1)?;
        let text: String = r.get(2)?;
        let d = out.entry(node as NodeId).or_default();
        match kind.as_str() {
            "description" => d.description = Some(text.into()),
            "clinician" => d.clinician.push(text.into()),
            other => return Err(Error::Book(format!("corrupt code book: description kind {other:?}"))),
        }
    }
    Ok(out)
}
