//! The book file: a SQLite database holding the nodes, notes, HCPCS data, PCS axes and the fst
//! code index as a blob. Anyone can open it with `sqlite3` to see what a book holds.
//!
//! Writing is deterministic (one transaction in a fixed order, then `VACUUM`), so the same
//! sources give a byte-identical file. Reading checks the application id and format version and
//! turns any inconsistency into [`Error::Book`].

use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::compile::FORMAT_VERSION;
use super::data::{BookData, NodeId};
use super::index::CodeIndex;
use crate::code::System;
use crate::error::{Error, Result};
use crate::import::pcs::{AxisLabelRow, PcsAxes};
use crate::record::{HcpcsInfo, NodeKind, NoteKind};

/// `PRAGMA application_id` of a codelookup book ("CLKB").
const APPLICATION_ID: i32 = 0x434C_4B42;

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE nodes(
  id INTEGER PRIMARY KEY, system TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  title TEXT NOT NULL, short_title TEXT NOT NULL, billable INTEGER NOT NULL, parent INTEGER);
CREATE TABLE notes(node INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(node, seq)) WITHOUT ROWID;
CREATE TABLE seventh_characters(node INTEGER NOT NULL, seq INTEGER NOT NULL, character TEXT NOT NULL,
  meaning TEXT NOT NULL, PRIMARY KEY(node, seq)) WITHOUT ROWID;
CREATE TABLE hcpcs(node INTEGER PRIMARY KEY, added TEXT, action_effective TEXT, terminated TEXT,
  action_code TEXT, coverage_code TEXT, pricing_indicators TEXT NOT NULL, multiple_pricing_indicator TEXT,
  betos TEXT, type_of_service TEXT NOT NULL, cross_references TEXT NOT NULL, processing_note TEXT);
CREATE TABLE pcs_axes(seq INTEGER PRIMARY KEY, prefix TEXT NOT NULL, position INTEGER NOT NULL,
  value TEXT NOT NULL, axis_name TEXT NOT NULL, label TEXT NOT NULL, definition TEXT);
CREATE TABLE blobs(name TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE VIEW codes AS SELECT system, key AS code, billable, title, short_title FROM nodes
  WHERE kind NOT IN ('chapter', 'section');
";

/// Writes a book file to `path` atomically: a temporary file in the same folder, renamed into
/// place only once complete, so a failed build never leaves a partial book.
pub(crate) fn write_file(data: &BookData, index: &CodeIndex, path: &Path) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.partial", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut conn = Connection::open(&tmp)?;
        write(&mut conn, data, index)?;
        conn.close().map_err(|(_, e)| e)?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write(conn: &mut Connection, data: &BookData, index: &CodeIndex) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA page_size = 4096; PRAGMA journal_mode = OFF; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {FORMAT_VERSION};"
    ))?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    {
        let mut st = tx.prepare("INSERT INTO meta VALUES (?1, ?2)")?;
        for (k, v) in &data.meta {
            st.execute(params![k, v])?;
        }
        let mut st = tx.prepare("INSERT INTO nodes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for (i, n) in data.nodes.iter().enumerate() {
            let short = if n.has_short_title() { n.short_title() } else { "".into() };
            st.execute(params![i as i64, n.system.as_str(), n.kind.as_str(), n.key(), &*n.title(), &*short, n.billable, n.parent()])?;
        }
        let mut st = tx.prepare("INSERT INTO notes VALUES (?1, ?2, ?3, ?4)")?;
        for (node, notes) in sorted(&data.notes) {
            for (seq, (kind, text)) in notes.iter().enumerate() {
                st.execute(params![node, seq as i64, kind.as_str(), &**text])?;
            }
        }
        let mut st = tx.prepare("INSERT INTO seventh_characters VALUES (?1, ?2, ?3, ?4)")?;
        for (node, defs) in sorted(&data.seventh) {
            for (seq, (c, meaning)) in defs.iter().enumerate() {
                st.execute(params![node, seq as i64, c.to_string(), &**meaning])?;
            }
        }
        let mut st = tx.prepare("INSERT INTO hcpcs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?;
        for (node, h) in sorted(&data.hcpcs) {
            let h = h.unpack();
            st.execute(params![
                node,
                h.added.map(|d| d.to_string()),
                h.action_effective.map(|d| d.to_string()),
                h.terminated.map(|d| d.to_string()),
                h.action_code,
                h.coverage_code,
                h.pricing_indicators.join(" "),
                h.multiple_pricing_indicator,
                h.betos,
                h.type_of_service.join(" "),
                h.cross_references.join(" "),
                h.processing_note,
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO pcs_axes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        for (seq, r) in data.pcs.rows().enumerate() {
            st.execute(params![seq as i64, r.prefix, r.position, r.value, r.axis_name, r.label, r.definition])?;
        }
        let (fst_bytes, by_key) = index.parts();
        let by_key_bytes: Vec<u8> = by_key.iter().flat_map(|id| id.to_le_bytes()).collect();
        let mut st = tx.prepare("INSERT INTO blobs VALUES (?1, ?2)")?;
        st.execute(params!["code_index.fst", fst_bytes])?;
        st.execute(params!["code_index.nodes", by_key_bytes])?;
    }
    super::billing_store::write(&tx, &data.billing)?;
    crate::search::SearchIndex::build(data)?.write(&tx)?;
    super::history::write(&tx, &data.history)?;
    super::imported::write(&tx, &data.descriptions)?;
    tx.commit()?;
    conn.execute_batch("VACUUM;")?;
    Ok(())
}

fn sorted<V>(map: &super::data::NodeMap<V>) -> Vec<(NodeId, &V)> {
    let mut v: Vec<_> = map.iter().map(|(k, v)| (*k, v)).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

/// Opens a book file read-only.
pub(crate) fn open_file(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::Book(format!("no code book at {}", path.display())));
    }
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| Error::Book(format!("cannot open {}: {e}", path.display())))
}

/// Opens a book held in memory (the embedded default, or bytes a caller read).
pub(crate) fn open_bytes(bytes: &[u8]) -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, bytes, bytes.len(), true).map_err(|e| Error::Book(format!("not a code book: {e}")))?;
    Ok(conn)
}

/// Reads a whole book into memory. Any SQLite error here means the file is not a (complete)
/// book, so it is reported as [`Error::Book`].
pub(crate) fn read(conn: &Connection) -> Result<(BookData, CodeIndex)> {
    read_inner(conn).map_err(|e| match e {
        Error::Sqlite(e) => Error::Book(format!("corrupt or truncated code book: {e}")),
        other => other,
    })
}

fn read_inner(conn: &Connection) -> Result<(BookData, CodeIndex)> {
    let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if app != APPLICATION_ID {
        return Err(Error::Book("not a codelookup code book (wrong application id)".into()));
    }
    if version != FORMAT_VERSION {
        return Err(Error::Book(format!(
            "code book format {version} is not the format this version reads ({FORMAT_VERSION}); rebuild it with `codelookup build`"
        )));
    }
    let bad = |what: String| Error::Book(format!("corrupt code book: {what}"));
    let mut data = BookData::default();

    let mut st = conn.prepare("SELECT key, value FROM meta ORDER BY key")?;
    data.meta = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;

    let mut st = conn.prepare("SELECT id, system, kind, key, title, short_title, billable, parent FROM nodes ORDER BY id")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if id != data.nodes.len() as i64 {
            return Err(bad(format!("node ids are not dense at {id}")));
        }
        let system: String = r.get(1)?;
        let kind: String = r.get(2)?;
        let parent: Option<i64> = r.get(7)?;
        if parent.is_some_and(|p| p < 0 || p >= id) {
            return Err(bad(format!("node {id} has parent {parent:?}")));
        }
        let system = system.parse::<System>().map_err(|_| bad(format!("unknown system {system:?}")))?;
        let kind = NodeKind::parse(&kind).ok_or_else(|| bad(format!("unknown kind {kind:?}")))?;
        let text = |i: usize| r.get_ref(i).and_then(|v| v.as_str().map_err(Into::into));
        data.nodes.push(system, kind, text(3)?, text(4)?, text(5)?, r.get(6)?, parent.map(|p| p as NodeId))?;
    }
    data.nodes.pack();
    let n = data.nodes.len() as i64;
    let check = |node: i64| if (0..n).contains(&node) { Ok(node as NodeId) } else { Err(bad(format!("reference to node {node}"))) };

    let mut st = conn.prepare("SELECT node, kind, text FROM notes ORDER BY node, seq")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        let kind = NoteKind::parse(&kind).ok_or_else(|| bad(format!("unknown note kind {kind:?}")))?;
        data.notes.entry(check(r.get(0)?)?).or_default().push((kind, r.get::<_, String>(2)?.into()));
    }
    let mut st = conn.prepare("SELECT node, character, meaning FROM seventh_characters ORDER BY node, seq")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let c: String = r.get(1)?;
        let c = c.chars().next().ok_or_else(|| bad("empty 7th character".into()))?;
        data.seventh.entry(check(r.get(0)?)?).or_default().push((c, r.get::<_, String>(2)?.into()));
    }
    let mut st = conn.prepare("SELECT * FROM hcpcs ORDER BY node")?;
    let mut rows = st.query([])?;
    let date = |s: Option<String>| -> Result<_> {
        s.map(|s| s.parse::<chrono::NaiveDate>().map_err(|_| bad(format!("bad date {s:?}")))).transpose()
    };
    let list = |s: String| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    while let Some(r) = rows.next()? {
        let info = HcpcsInfo {
            added: date(r.get(1)?)?,
            action_effective: date(r.get(2)?)?,
            terminated: date(r.get(3)?)?,
            action_code: r.get(4)?,
            coverage_code: r.get(5)?,
            pricing_indicators: list(r.get(6)?),
            multiple_pricing_indicator: r.get(7)?,
            betos: r.get(8)?,
            type_of_service: list(r.get(9)?),
            cross_references: list(r.get(10)?),
            processing_note: r.get(11)?,
        };
        data.hcpcs.insert(check(r.get(0)?)?, super::hcpcs::PackedHcpcs::pack(&info));
    }
    let mut st = conn.prepare("SELECT prefix, position, value, axis_name, label, definition FROM pcs_axes ORDER BY seq")?;
    let pcs_rows = st
        .query_map([], |r| {
            let text = |i: usize| r.get::<_, String>(i).map(Arc::from);
            Ok(AxisLabelRow {
                prefix: text(0)?,
                position: r.get(1)?,
                value: text(2)?,
                axis_name: text(3)?,
                label: text(4)?,
                definition: r.get::<_, Option<String>>(5)?.map(Arc::from),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    data.pcs = PcsAxes::from_rows(pcs_rows);

    let blob = |name: &str| -> Result<Vec<u8>> {
        conn.query_row("SELECT data FROM blobs WHERE name = ?1", [name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| bad(format!("missing {name}")))
    };
    let fst_bytes = blob("code_index.fst")?;
    let nodes_bytes = blob("code_index.nodes")?;
    if nodes_bytes.len() % 4 != 0 {
        return Err(bad("code_index.nodes is not a list of node ids".into()));
    }
    let by_key = nodes_bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let index = CodeIndex::from_parts(fst_bytes, by_key, &data.nodes)?;
    data.billing = super::billing_store::read(conn)?;
    data.history = super::history::read(conn, data.nodes.len())?;
    data.descriptions = super::imported::read(conn, data.nodes.len())?;
    data.compute_subtree_ends();
    data.finish();
    Ok((data, index))
}
