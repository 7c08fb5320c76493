//! Code history in the book: which fiscal years each ICD-10 code was valid, its earlier titles,
//! what replaced it and what it replaced; codes no longer in the code set ("retired"); and the
//! date-of-service check [`Book::valid_on`].
//!
//! Compiled from the derived history table (`data/history/icd10-history.tsv.gz`, see
//! [`crate::import::history`]) and the NCHS conversion table. HCPCS validity comes from the
//! quarterly file's added and termination dates.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::data::{BookData, NodeId};
use super::Book;
use crate::code::{Key, System};
use crate::error::{Error, Result};
use crate::import::history::{self as src, fiscal_year, fiscal_year_end, fiscal_year_start, year_bit, years, Conversion, HistoryTable};
use crate::record::{CodeRecord, CodeStatus, History, NodeKind, TitleChange};

/// The sparse part of a code's history.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct HistExtra {
    /// A first valid date earlier than the first fiscal year (a mid-year addition).
    pub valid_from: Option<NaiveDate>,
    /// The last valid date of a code whose validity is kept as dates (CPT, local codes).
    pub valid_until: Option<NaiveDate>,
    /// Titles before the current one: (first fiscal year, title).
    pub titles: Vec<(u16, Box<str>)>,
    pub replaced_by: Vec<Box<str>>,
    pub replaces: Vec<Box<str>>,
}

/// A code that is in no current code set.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Retired {
    pub system: System,
    pub key: Box<str>,
    pub title: Box<str>,
    pub listed: u32,
    pub billable: u32,
    pub extra: HistExtra,
}

/// History of the whole book.
#[derive(Clone, Debug, Default)]
pub(crate) struct BookHistory {
    /// The last fiscal year of the history (the book's code set year).
    pub last_year: u16,
    /// (listed, billable) fiscal-year masks per node; (0, 0) for nodes without ICD-10 history.
    pub masks: Vec<(u32, u32)>,
    pub extra: super::data::NodeMap<HistExtra>,
    /// Sorted by (key, system).
    pub retired: Vec<Retired>,
}

impl BookHistory {
    /// Backs the fiscal-year masks with huge pages (see [`super::memory::prefer_huge_pages`]).
    pub fn prefer_huge_pages(&self) {
        super::memory::prefer_huge_pages(&self.masks);
    }
}

/// Builds the book's history from the history table and conversion table. Codes of the table
/// that are not nodes of the book become retired codes.
pub(crate) fn compile(data: &BookData, table: &HistoryTable, conversions: &[Conversion]) -> BookHistory {
    let mut node_of: HashMap<(System, &str), NodeId> = HashMap::new();
    for (i, n) in data.nodes.iter().enumerate() {
        if n.is_code() && matches!(n.system, System::Icd10cm | System::Icd10pcs) {
            node_of.insert((n.system, n.key()), i as NodeId);
        }
    }
    let mut h = BookHistory { last_year: table.last_year, masks: vec![(0, 0); data.nodes.len()], ..Default::default() };
    let current = year_bit(table.last_year);

    // replaced_by and replaces, from the conversion table and from codes that appear under a
    // code in the year after it stopped being billable.
    let mut replaced_by: HashMap<(System, String), Vec<String>> = HashMap::new();
    let mut replaces: HashMap<(System, String), Vec<String>> = HashMap::new();
    let mut added_on: HashMap<&str, NaiveDate> = HashMap::new();
    let by_code: HashMap<(System, &str), &src::CodeHistory> = table.codes.iter().map(|c| ((c.system, c.code.as_str()), c)).collect();
    for c in conversions {
        added_on.insert(&c.code, c.effective);
        replaces.entry((System::Icd10cm, c.code.clone())).or_default().extend(c.previous.iter().cloned());
        for p in &c.previous {
            if by_code.get(&(System::Icd10cm, p.as_str())).is_some_and(|ph| ph.billable & current == 0) {
                replaced_by.entry((System::Icd10cm, p.clone())).or_default().push(c.code.clone());
            }
        }
    }
    for (i, c) in table.codes.iter().enumerate() {
        if c.billable == 0 || c.billable & current != 0 {
            continue;
        }
        let last = years(c.billable).last().unwrap_or(table.last_year);
        let next = year_bit(last + 1);
        // Codes sorted after this one that start with it were listed under it.
        for d in table.codes[i + 1..].iter().take_while(|d| d.system == c.system && d.code.starts_with(&c.code)) {
            if d.billable & next != 0 && d.listed & (next - 1) == 0 {
                let list = replaced_by.entry((c.system, c.code.clone())).or_default();
                if !list.contains(&d.code) {
                    list.push(d.code.clone());
                }
            }
        }
    }

    for c in &table.codes {
        let key = (c.system, c.code.clone());
        let mut extra = HistExtra {
            replaced_by: replaced_by.remove(&key).unwrap_or_default().into_iter().map(|s| c.system.display(&s).into()).collect(),
            replaces: replaces.remove(&key).unwrap_or_default().into_iter().map(|s| c.system.display(&s).into()).collect(),
            ..Default::default()
        };
        if let (Some(&date), Some(first)) =
            (added_on.get(c.code.as_str()).filter(|_| c.system == System::Icd10cm), years(c.billable).next())
        {
            if date < fiscal_year_start(first) {
                extra.valid_from = Some(date);
            }
        }
        match node_of.get(&(c.system, c.code.as_str())) {
            Some(&id) => {
                h.masks[id as usize] = (c.listed, c.billable);
                let n = c.titles.len().saturating_sub(1);
                extra.titles = c.titles[..n].iter().map(|(y, t)| (*y, t.as_str().into())).collect();
                if extra != HistExtra::default() {
                    h.extra.insert(id, extra);
                }
            }
            None => {
                let title = c.titles.last().map(|(_, t)| t.as_str()).unwrap_or_default().into();
                let n = c.titles.len().saturating_sub(1);
                extra.titles = c.titles[..n].iter().map(|(y, t)| (*y, t.as_str().into())).collect();
                h.retired.push(Retired {
                    system: c.system,
                    key: c.code.as_str().into(),
                    title,
                    listed: c.listed,
                    billable: c.billable,
                    extra,
                });
            }
        }
    }
    h.retired.sort_by(|a, b| (&a.key, a.system).cmp(&(&b.key, b.system)));
    h
}

/// Why a code is or is not valid on a date of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidityStatus {
    /// Valid on a claim on that date.
    Valid,
    /// Not valid yet on that date; `valid_from` says when it became valid.
    NotYetValid,
    /// No longer valid on that date; `valid_until` says when it stopped, `replaced_by` what to
    /// use instead.
    NoLongerValid,
    /// A header (category, table) or modifier: never valid on its own on a claim.
    NotBillable,
}

/// The answer of [`Book::valid_on`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    /// Canonical code.
    pub code: String,
    /// Its system.
    pub system: System,
    /// The date of service asked about.
    pub date: NaiveDate,
    /// Whether the code may be used on a claim with that date of service.
    pub valid: bool,
    /// Why.
    pub status: ValidityStatus,
    /// First date of service on which the code was valid, if it ever was.
    pub valid_from: Option<NaiveDate>,
    /// Last date of service on which it was valid; `None` while it still is.
    pub valid_until: Option<NaiveDate>,
    /// Codes that replaced it.
    pub replaced_by: Vec<String>,
    /// A sentence for people ("M54.5 was valid until 2021-09-30; replaced by M54.50, ...").
    pub message: String,
}

/// Where a code's history lives: a current node or a retired code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    Node(NodeId),
    Retired(u32),
}

impl BookHistory {
    fn masks_of(&self, h: Holder) -> (u32, u32) {
        match h {
            Holder::Node(id) => self.masks.get(id as usize).copied().unwrap_or_default(),
            Holder::Retired(i) => self.retired.get(i as usize).map(|r| (r.listed, r.billable)).unwrap_or_default(),
        }
    }

    fn extra_of(&self, h: Holder) -> Option<&HistExtra> {
        match h {
            Holder::Node(id) => self.extra.get(&id),
            Holder::Retired(i) => self.retired.get(i as usize).map(|r| &r.extra),
        }
    }

    /// Retired codes carrying `key`, ordered by system.
    pub fn retired_by_key(&self, key: &str) -> std::ops::Range<u32> {
        let start = self.retired.partition_point(|r| &*r.key < key);
        let end = start + self.retired[start..].iter().take_while(|r| &*r.key == key).count();
        start as u32..end as u32
    }

    /// The record's history of an ICD-10 code.
    pub fn history(&self, h: Holder) -> Option<History> {
        self.history_with(h, self.extra_of(h))
    }

    /// [`BookHistory::history`] with the holder's extra facts already found.
    fn history_with(&self, h: Holder, extra: Option<&HistExtra>) -> Option<History> {
        let (listed, billable) = self.masks_of(h);
        let status = if matches!(h, Holder::Retired(_)) { CodeStatus::Deleted } else { CodeStatus::Active };
        if listed == 0 {
            // A code whose validity is kept as dates (CPT, local codes).
            let e = extra.filter(|e| e.valid_from.is_some() || e.valid_until.is_some() || !e.replaced_by.is_empty())?;
            return Some(History {
                status,
                valid_from: e.valid_from,
                valid_until: e.valid_until,
                valid_fiscal_years: Vec::new(),
                title_changes: Vec::new(),
                replaced_by: e.replaced_by.iter().map(|s| s.to_string()).collect(),
                replaces: e.replaces.iter().map(|s| s.to_string()).collect(),
            });
        }
        let mut fiscal_years = Vec::with_capacity(billable.count_ones() as usize);
        fiscal_years.extend(years(billable));
        let (first, last) = (fiscal_years.first().copied(), fiscal_years.last().copied());
        let current = billable & year_bit(self.last_year) != 0;
        Some(History {
            status,
            valid_from: extra.and_then(|e| e.valid_from).or(first.map(fiscal_year_start)).map(|f| f.max(src::ICD10_EFFECTIVE)),
            valid_until: if current { None } else { last.map(fiscal_year_end) },
            valid_fiscal_years: fiscal_years,
            title_changes: extra
                .map(|e| e.titles.iter().map(|(y, t)| TitleChange { from: fiscal_year_start(*y), title: t.to_string() }).collect())
                .unwrap_or_default(),
            replaced_by: extra.map(|e| e.replaced_by.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            replaces: extra.map(|e| e.replaces.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
        })
    }

    /// Whether an ICD-10 code was billable on a date. Dates after the book's last fiscal year
    /// are judged by the last year (the book cannot know later code sets); dates before
    /// [`src::ICD10_EFFECTIVE`] never are.
    fn billable_on(&self, h: Holder, date: NaiveDate) -> bool {
        let (listed, billable) = self.masks_of(h);
        if listed == 0 {
            let e = self.extra_of(h);
            let from = e.and_then(|e| e.valid_from);
            let until = e.and_then(|e| e.valid_until);
            return from.is_none_or(|f| date >= f) && until.is_none_or(|u| date <= u);
        }
        if date < src::ICD10_EFFECTIVE {
            return false;
        }
        let fy = fiscal_year(date).min(self.last_year);
        if billable & year_bit(fy) != 0 {
            return true;
        }
        // A mid-year addition is valid from its effective date to the start of its first year.
        let from = self.extra_of(h).and_then(|e| e.valid_from);
        let first = years(billable).next();
        matches!((from, first), (Some(f), Some(y)) if date >= f && date < fiscal_year_start(y))
    }
}

impl Book {
    /// Whether a code may be used on a claim with the given date of service, with the reason,
    /// the dates it was valid and what replaced it.
    ///
    /// ICD-10 validity follows the CMS order files, FY2014 to the book's year (fiscal year N
    /// runs from October 1 of N-1 to September 30 of N), and the NCHS conversion table for
    /// codes added mid-year (U07.1 on 2020-04-01). No ICD-10 code is valid before 2015-10-01,
    /// when ICD-10 took effect on US claims (the FY2014 and FY2015 files were published during
    /// the delay; their years stay in `History::valid_fiscal_years`). Dates after the book's
    /// last fiscal year are judged by that year. HCPCS validity follows the added and termination dates.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// let book = codelookup::Book::open_default()?;
    /// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    /// assert!(book.valid_on("M54.5", None, d("2021-09-30"))?.valid);
    /// let v = book.valid_on("M54.5", None, d("2021-10-01"))?;
    /// assert!(!v.valid && v.replaced_by.contains(&"M54.50".to_string()));
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn valid_on(&self, code: &str, system: Option<System>, date: NaiveDate) -> Result<Validity> {
        let rec = self.lookup(code, system)?;
        Ok(self.validity_of(&rec, date))
    }

    /// Like [`Book::lookup`], for a date of service: the record when the code is valid on that
    /// date, else [`Error::NotValidOnDate`] naming when it was valid and what replaced it.
    pub fn lookup_on(&self, code: &str, system: Option<System>, date: NaiveDate) -> Result<CodeRecord> {
        let rec = self.lookup(code, system)?;
        let v = self.validity_of(&rec, date);
        if v.valid {
            Ok(rec)
        } else {
            Err(Error::NotValidOnDate { code: v.code, date, message: v.message, replaced_by: v.replaced_by })
        }
    }

    pub(crate) fn validity_of(&self, rec: &CodeRecord, date: NaiveDate) -> Validity {
        let hist = &self.data().history;
        let holder = self.holder_of(rec);
        let (valid, status) = match (rec.system, &rec.hcpcs, holder) {
            (_, _, _) if rec.kind == NodeKind::Modifier => (false, ValidityStatus::NotBillable),
            (System::Hcpcs, Some(h), _) => {
                if h.added.is_some_and(|a| date < a) {
                    (false, ValidityStatus::NotYetValid)
                } else if h.terminated.is_some_and(|t| date > t) {
                    (false, ValidityStatus::NoLongerValid)
                } else {
                    (true, ValidityStatus::Valid)
                }
            }
            (_, _, Some(h)) if hist.masks_of(h).0 != 0 || rec.history.is_some() => {
                if hist.billable_on(h, date) {
                    (true, ValidityStatus::Valid)
                } else {
                    let from = rec.history.as_ref().and_then(|x| x.valid_from);
                    let until = rec.history.as_ref().and_then(|x| x.valid_until);
                    if from.is_some_and(|f| date < f) {
                        (false, ValidityStatus::NotYetValid)
                    } else if until.is_some_and(|u| date > u) {
                        (false, ValidityStatus::NoLongerValid)
                    } else {
                        (false, ValidityStatus::NotBillable)
                    }
                }
            }
            _ => (rec.billable, if rec.billable { ValidityStatus::Valid } else { ValidityStatus::NotBillable }),
        };
        let (valid_from, valid_until, replaced_by) = match (&rec.history, &rec.hcpcs) {
            (Some(h), _) => (h.valid_from, h.valid_until, h.replaced_by.clone()),
            (None, Some(h)) => (h.added, h.terminated, Vec::new()),
            _ => (None, None, Vec::new()),
        };
        let code = &rec.code;
        let message = match status {
            ValidityStatus::Valid => format!("{code} is valid on {date}"),
            ValidityStatus::NotYetValid => match valid_from {
                Some(f) if f == src::ICD10_EFFECTIVE && rec.system != System::Hcpcs => {
                    format!("{code} is not valid on {date}: ICD-10 codes are valid on claims from {f} (earlier dates of service use ICD-9)")
                }
                Some(f) => format!("{code} is not valid on {date}: it is valid from {f}"),
                None => format!("{code} is not valid on {date}"),
            },
            ValidityStatus::NoLongerValid => {
                let until = valid_until.map(|u| format!(" was valid until {u}")).unwrap_or_else(|| " is no longer valid".into());
                let by = if replaced_by.is_empty() { String::new() } else { format!("; replaced by {}", replaced_by.join(", ")) };
                format!("{code}{until}{by}")
            }
            ValidityStatus::NotBillable => {
                let when = match (valid_from, valid_until) {
                    (Some(f), Some(u)) => format!(" (it was valid from {f} to {u})"),
                    _ => String::new(),
                };
                format!("{code} is a header or modifier, not valid on its own on a claim on {date}{when}")
            }
        };
        Validity { code: code.clone(), system: rec.system, date, valid, status, valid_from, valid_until, replaced_by, message }
    }

    /// Whether a current node may be used on a claim on `date`, without building its record
    /// (the search filter by date of service).
    pub(crate) fn node_valid_on(&self, id: NodeId, date: NaiveDate) -> bool {
        let data = self.data();
        let Some(n) = data.nodes.get(id as usize) else { return false };
        if n.kind == NodeKind::Modifier || !n.is_code() {
            return false;
        }
        if let Some(h) = data.hcpcs.get(&id) {
            return h.added.is_none_or(|a| date >= a) && h.terminated.is_none_or(|t| date <= t);
        }
        let holder = Holder::Node(id);
        if data.history.masks_of(holder).0 != 0 || data.history.extra_of(holder).is_some() {
            data.history.billable_on(holder, date)
        } else {
            n.billable
        }
    }

    fn holder_of(&self, rec: &CodeRecord) -> Option<Holder> {
        let key = Key::parse(&rec.code).ok()?;
        if let Some(&id) = self.index().get(key.as_bytes()).iter().find(|&&id| self.data().nodes[id as usize].system == rec.system) {
            return Some(Holder::Node(id));
        }
        let hist = &self.data().history;
        hist.retired_by_key(key.as_str()).find(|&i| hist.retired[i as usize].system == rec.system).map(Holder::Retired)
    }

    /// The record of a retired code: its last title, not billable, parents from the longest
    /// current prefix, and its history.
    pub(crate) fn retired_record(&self, i: u32) -> CodeRecord {
        let hist = &self.data().history;
        let r = &hist.retired[i as usize];
        let parent = (1..r.key.len()).rev().find_map(|n| {
            self.index().get(r.key[..n].as_bytes()).iter().copied().find(|&id| self.data().nodes[id as usize].system == r.system)
        });
        // The parents of a node with children are shared; a leaf prefix (rare) adds itself to
        // its own parents.
        let data = self.data();
        let parents = parent.map_or_else(
            || Arc::from([]),
            |p| match data.nodes.at(p).shared() {
                Some(_) => data.below(p).parents.clone(),
                None => {
                    let above = data.below_parent(p).map(|b| &b.parents);
                    above.into_iter().flat_map(|a| a.iter().cloned()).chain([data.code_ref(p)]).collect()
                }
            },
        );
        CodeRecord {
            code: r.system.display(&r.key),
            system: r.system,
            kind: NodeKind::Code,
            title: r.title.to_string(),
            short_title: r.title.to_string(),
            billable: false,
            parents,
            children: Vec::new(),
            billable_descendants: Vec::new(),
            notes: Default::default(),
            seventh_character: None,
            pcs_axes: if r.system == System::Icd10pcs && r.key.len() == 7 { self.data().pcs.describe(&r.key) } else { Vec::new() },
            hcpcs: None,
            description: None,
            clinician_descriptors: Vec::new(),
            history: hist.history(Holder::Retired(i)),
            also_in: Vec::new(),
        }
    }
}

/// The record's history of a current node: ICD-10 from the masks, HCPCS from its dates.
pub(crate) fn node_history(data: &BookData, id: NodeId) -> Option<History> {
    if let Some(h) = data.history.history_with(Holder::Node(id), data.history_extra_of(id)) {
        return Some(h);
    }
    let h = data.hcpcs_of(id)?;
    Some(History {
        status: if h.terminated.is_some() { CodeStatus::Deleted } else { CodeStatus::Active },
        valid_from: h.added,
        valid_until: h.terminated,
        valid_fiscal_years: Vec::new(),
        title_changes: Vec::new(),
        replaced_by: h.cross_references().filter(|_| h.terminated.is_some()).map(str::to_string).collect(),
        replaces: Vec::new(),
    })
}

const SCHEMA: &str = "
CREATE TABLE history(node INTEGER PRIMARY KEY, listed INTEGER NOT NULL, billable INTEGER NOT NULL);
CREATE TABLE retired(seq INTEGER PRIMARY KEY, system TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL,
  listed INTEGER NOT NULL, billable INTEGER NOT NULL);
-- owner: a node id, or -1 - seq for a retired code; relation: title:<fiscal year>, replaced_by, replaces, valid_from
CREATE TABLE history_extra(owner INTEGER NOT NULL, seq INTEGER NOT NULL, relation TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(owner, seq)) WITHOUT ROWID;
";

/// Writes the history tables.
pub(crate) fn write(tx: &Connection, h: &BookHistory) -> Result<()> {
    tx.execute_batch(SCHEMA)?;
    tx.execute("INSERT INTO meta VALUES ('history_last_year', ?1)", [h.last_year.to_string()])?;
    let mut st = tx.prepare("INSERT INTO history VALUES (?1, ?2, ?3)")?;
    for (i, (l, b)) in h.masks.iter().enumerate().filter(|(_, m)| m.0 != 0) {
        st.execute(params![i as i64, l, b])?;
    }
    let mut st = tx.prepare("INSERT INTO retired VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    for (i, r) in h.retired.iter().enumerate() {
        st.execute(params![i as i64, r.system.as_str(), &*r.key, &*r.title, r.listed, r.billable])?;
    }
    let mut st = tx.prepare("INSERT INTO history_extra VALUES (?1, ?2, ?3, ?4)")?;
    let mut extras: Vec<(i64, &HistExtra)> = h.extra.iter().map(|(k, v)| (*k as i64, v)).collect();
    extras.extend(h.retired.iter().enumerate().map(|(i, r)| (-1 - i as i64, &r.extra)));
    extras.sort_by_key(|(k, _)| *k);
    for (owner, e) in extras {
        let rows = e
            .valid_from
            .map(|d| ("valid_from".to_string(), d.to_string()))
            .into_iter()
            .chain(e.valid_until.map(|d| ("valid_until".to_string(), d.to_string())))
            .chain(e.titles.iter().map(|(y, t)| (format!("title:{y}"), t.to_string())))
            .chain(e.replaced_by.iter().map(|c| ("replaced_by".to_string(), c.to_string())))
            .chain(e.replaces.iter().map(|c| ("replaces".to_string(), c.to_string())));
        for (seq, (rel, value)) in rows.enumerate() {
            st.execute(params![owner, seq as i64, rel, value])?;
        }
    }
    Ok(())
}

/// Reads the history tables of a book with `node_count` nodes.
pub(crate) fn read(conn: &Connection, node_count: usize) -> Result<BookHistory> {
    let bad = |m: String| Error::Book(format!("corrupt code book history: {m}"));
    let last_year: String = conn.query_row("SELECT value FROM meta WHERE key = 'history_last_year'", [], |r| r.get(0))?;
    let mut h = BookHistory {
        last_year: last_year.parse().map_err(|_| bad("last year".into()))?,
        masks: vec![(0, 0); node_count],
        ..Default::default()
    };
    let mut st = conn.prepare("SELECT node, listed, billable FROM history")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let node: i64 = r.get(0)?;
        let slot = usize::try_from(node).ok().and_then(|n| h.masks.get_mut(n)).ok_or_else(|| bad(format!("node {node}")))?;
        *slot = (r.get(1)?, r.get(2)?);
    }
    let mut st = conn.prepare("SELECT system, key, title, listed, billable FROM retired ORDER BY seq")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let system: String = r.get(0)?;
        h.retired.push(Retired {
            system: system.parse().map_err(|_| bad(format!("system {system:?}")))?,
            key: r.get::<_, String>(1)?.into(),
            title: r.get::<_, String>(2)?.into(),
            listed: r.get(3)?,
            billable: r.get(4)?,
            extra: HistExtra::default(),
        });
    }
    let mut st = conn.prepare("SELECT owner, relation, value FROM history_extra ORDER BY owner, seq")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let owner: i64 = r.get(0)?;
        let rel: String = r.get(1)?;
        let value: String = r.get(2)?;
        let e = if owner >= 0 {
            if owner as usize >= node_count {
                return Err(bad(format!("node {owner}")));
            }
            h.extra.entry(owner as NodeId).or_default()
        } else {
            let i = (-1 - owner) as usize;
            &mut h.retired.get_mut(i).ok_or_else(|| bad(format!("retired code {i}")))?.extra
        };
        match rel.as_str() {
            "valid_from" => e.valid_from = Some(value.parse().map_err(|_| bad(format!("date {value:?}")))?),
            "valid_until" => e.valid_until = Some(value.parse().map_err(|_| bad(format!("date {value:?}")))?),
            "replaced_by" => e.replaced_by.push(value.into()),
            "replaces" => e.replaces.push(value.into()),
            t => {
                let y = t.strip_prefix("title:").and_then(|y| y.parse().ok()).ok_or_else(|| bad(format!("relation {t:?}")))?;
                e.titles.push((y, value.into()));
            }
        }
    }
    Ok(h)
}
