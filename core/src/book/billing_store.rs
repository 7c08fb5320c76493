//! The NCCI edit tables and the GEMs in the book file. Called from `store.rs` (one line each in
//! write and read).
//!
//! Tables:
//! - `ncci_codes(id, code)`: every code of the PTP and MUE tables; the other tables refer to
//!   these ids;
//! - `ncci_rationales(id, text)`: every PTP and MUE rationale;
//! - `ncci_ptp(column1, edits, dates)`: one row per column 1 code id. `edits` packs its edits as
//!   little-endian `u32`s, by column 2 then date: column 2 code id `<< 12`, modifier indicator `<< 10` (0, 1,
//!   or 2 for 9), rationale id. `dates` is NULL in an undated book, else one little-endian `u32`
//!   per edit: effective date `<< 16` | deletion date, each as days since 1970-01-01 plus one
//!   (0: none). About 2.1 million edits take 8.6 MB this way, against some 50 MB as rows;
//! - `ncci_mue(code, mue_value, adjudication_indicator, rationale)`: plain rows;
//! - `gems_icd9_to_icd10` and `gems_icd10_to_icd9 (seq, source, target, flags)`: the GEM files'
//!   rows as written (no dots, five flag digits; `target` NULL for `NoDx`), in the in-memory
//!   order (by source, file order within a source).

use rusqlite::{params, Connection, Transaction};

use crate::billing::tables::{MueEntry, NcciTables};
use crate::billing::BillingTables;
use crate::code::Key;
use crate::crosswalk::{Direction, Gems};
use crate::error::{Error, Result};
use crate::import::gems::parse_flags;

const SCHEMA: &str = "
CREATE TABLE ncci_codes(id INTEGER PRIMARY KEY, code TEXT NOT NULL);
CREATE TABLE ncci_rationales(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE ncci_ptp(column1 INTEGER PRIMARY KEY, edits BLOB NOT NULL, dates BLOB);
CREATE TABLE ncci_mue(code TEXT PRIMARY KEY, mue_value INTEGER NOT NULL, adjudication_indicator INTEGER NOT NULL,
  rationale TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE gems_icd9_to_icd10(seq INTEGER PRIMARY KEY, source TEXT NOT NULL, target TEXT, flags TEXT NOT NULL);
CREATE TABLE gems_icd10_to_icd9(seq INTEGER PRIMARY KEY, source TEXT NOT NULL, target TEXT, flags TEXT NOT NULL);
";

/// Creates the tables and writes the NCCI tables and GEMs, inside the book's write transaction.
pub(super) fn write(tx: &Transaction<'_>, billing: &BillingTables) -> Result<()> {
    tx.execute_batch(SCHEMA)?;
    let t = &billing.ncci;
    let mut st = tx.prepare("INSERT INTO ncci_codes VALUES (?1, ?2)")?;
    for (i, k) in t.codes().iter().enumerate() {
        st.execute(params![i as i64, k.as_str()])?;
    }
    let mut st = tx.prepare("INSERT INTO ncci_rationales VALUES (?1, ?2)")?;
    for (i, r) in t.rationales().iter().enumerate() {
        st.execute(params![i as i64, &**r])?;
    }
    let mut st = tx.prepare("INSERT INTO ncci_ptp VALUES (?1, ?2, ?3)")?;
    let le = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (column1, edits, dates) in t.ptp()?.groups() {
        let dates = (t.is_dated()).then(|| le(dates));
        st.execute(params![column1, le(edits), dates])?;
    }
    let mut st = tx.prepare("INSERT INTO ncci_mue VALUES (?1, ?2, ?3, ?4)")?;
    for m in t.mue_entries() {
        st.execute(params![t.code(m.code).as_str(), m.mue_value, m.adjudication_indicator, t.rationale(u32::from(m.rationale))])?;
    }
    for direction in Direction::ALL {
        let mut st = tx.prepare(&format!("INSERT INTO gems_{direction} VALUES (?1, ?2, ?3, ?4)"))?;
        for (seq, r) in billing.gems.rows(direction).enumerate() {
            let flags =
                format!("{}{}{}{}{}", u8::from(r.approximate), u8::from(r.no_map), u8::from(r.combination), r.scenario, r.choice_list);
            st.execute(params![seq as i64, r.source, r.target, flags])?;
        }
    }
    Ok(())
}

/// Reads the NCCI tables and GEMs back, checking them.
pub(super) fn read(conn: &Connection) -> Result<BillingTables> {
    let bad = |what: String| Error::Book(format!("corrupt code book: {what}"));

    let mut st = conn.prepare("SELECT id, code FROM ncci_codes ORDER BY id")?;
    let mut codes = Vec::new();
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let code: String = r.get(1)?;
        if id != codes.len() as i64 {
            return Err(bad(format!("NCCI code ids are not dense at {id}")));
        }
        codes.push(Key::parse(&code).map_err(|_| bad(format!("NCCI code {code:?}")))?);
    }

    let mut st = conn.prepare("SELECT id, text FROM ncci_rationales ORDER BY id")?;
    let mut rationales: Vec<std::sync::Arc<str>> = Vec::new();
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if id != rationales.len() as i64 {
            return Err(bad(format!("NCCI rationale ids are not dense at {id}")));
        }
        rationales.push(r.get::<_, String>(1)?.into());
    }

    let mut st = conn.prepare("SELECT column1, edits, dates FROM ncci_ptp ORDER BY column1")?;
    // Reserved exactly: 2 million edits should not become 4 million words of capacity.
    let (total, dated): (i64, i64) =
        conn.query_row("SELECT coalesce(sum(length(edits)), 0), coalesce(sum(length(dates)), 0) FROM ncci_ptp", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let words_of = |bytes: i64| usize::try_from(bytes / 4).unwrap_or(0).min(1 << 28);
    let (mut groups, mut edits, mut dates) = (Vec::new(), Vec::with_capacity(words_of(total)), Vec::with_capacity(words_of(dated)));
    let words = |b: &[u8], into: &mut Vec<u32>| -> Result<u32> {
        if b.len() % 4 != 0 || b.len() / 4 > u32::MAX as usize {
            return Err(bad("an NCCI edit list is not a list of 32-bit words".into()));
        }
        into.extend(b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        Ok((b.len() / 4) as u32)
    };
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let column1: i64 = r.get(0)?;
        let column1 = u32::try_from(column1).map_err(|_| bad(format!("NCCI column 1 id {column1}")))?;
        let blob = |i: usize| r.get_ref(i).map_err(Error::from)?.as_blob_or_null().map_err(|e| bad(format!("NCCI edits: {e}")));
        let count = words(blob(1)?.unwrap_or_default(), &mut edits)?;
        match blob(2)? {
            Some(d) if words(d, &mut dates)? == count => {}
            None if dates.is_empty() => {}
            _ => return Err(bad(format!("the dates of NCCI column 1 id {column1} do not match its edits"))),
        }
        groups.push((column1, count));
    }

    let mut st = conn.prepare("SELECT code, mue_value, adjudication_indicator, rationale FROM ncci_mue ORDER BY code")?;
    let mut mue = Vec::new();
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let code: String = r.get(0)?;
        let id = Key::parse(&code).ok().and_then(|k| codes.binary_search(&k).ok()).ok_or_else(|| bad(format!("MUE code {code:?}")))?;
        let rationale: String = r.get(3)?;
        let rid = rationales.iter().position(|x| **x == *rationale).ok_or_else(|| bad(format!("MUE rationale {rationale:?}")))?;
        mue.push(MueEntry {
            code: id as u32,
            mue_value: r.get(1)?,
            adjudication_indicator: r.get(2)?,
            rationale: u16::try_from(rid).map_err(|_| bad("too many NCCI rationales".into()))?,
        });
    }
    mue.sort_unstable_by_key(|m| m.code);
    let mut ncci = NcciTables::from_parts(codes, rationales, groups, edits, dates, mue)?;
    ncci.pack()?;

    let mut gems = Gems::default();
    for direction in Direction::ALL {
        let mut st = conn.prepare(&format!("SELECT source, target, flags FROM gems_{direction} ORDER BY seq"))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let text = |i: usize| -> Result<Option<&str>> { r.get_ref(i)?.as_str_or_null().map_err(|e| bad(format!("GEM row: {e}"))) };
            let (source, target, flags) = (text(0)?.unwrap_or_default(), text(1)?, text(2)?.unwrap_or_default());
            let f = parse_flags(flags).ok_or_else(|| bad(format!("GEM flags {flags:?} of {source}")))?;
            gems.push(direction, source, target, f)?;
        }
        gems.finish(direction);
    }
    Ok(BillingTables { ncci, gems })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::billing::tables::NcciBuilder;

    #[test]
    fn tables_round_trip_through_sqlite() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for dated in [true, false] {
            let mut b = NcciBuilder::default();
            let ptp = if dated { dir.join("ncci/ccipra-v321r0-f1.txt") } else { dir.join("../../../data/ncci/ptp-07.json.gz") };
            crate::import::ncci::read_ptp(&ptp, &mut |r| b.add_ptp(&r)).unwrap();
            for r in crate::import::ncci::read_mue(&dir.join("ncci/MCR_MUE_PractitionerServices_Eff_04-01-2026.csv")).unwrap() {
                b.add_mue(&r).unwrap();
            }
            let mut gems = Gems::default();
            gems.set(Direction::Icd9To10, crate::import::gems::read(&dir.join("gems/2018_I9gem_sample.txt")).unwrap()).unwrap();
            gems.set(Direction::Icd10To9, crate::import::gems::read(&dir.join("gems/2018_I10gem_sample.txt")).unwrap()).unwrap();
            let billing = BillingTables { ncci: b.finish().unwrap(), gems };
            assert_eq!(billing.ncci.is_dated(), dated);

            let mut conn = Connection::open_in_memory().unwrap();
            let tx = conn.transaction().unwrap();
            write(&tx, &billing).unwrap();
            tx.commit().unwrap();
            let back = read(&conn).unwrap();
            assert_eq!(back.ncci, billing.ncci);
            assert_eq!(back.gems, billing.gems);

            // A corrupt edit list is an error, not a panic.
            conn.execute("UPDATE ncci_ptp SET edits = x'010203' WHERE rowid = (SELECT min(rowid) FROM ncci_ptp)", []).unwrap();
            assert!(matches!(read(&conn), Err(Error::Book(_))));
        }
    }
}
