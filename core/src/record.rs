//! What a lookup returns: [`CodeRecord`] and its parts. Plain data, serialisable with serde;
//! the JSON field names of the CLI and the attribute names of the Python binding are these
//! names, and the Node binding uses the same names in camelCase (`billable_descendants` is
//! `billableDescendants`), as JavaScript code expects.
//!
//! What many records repeat is shared with the book instead of copied, so that a lookup does
//! not rebuild it: the chain of parents (`Arc<[CodeRef]>`, one per node with children), the
//! notes ([`Notes`]: one shared list per code that prints notes), the PCS axes (`Arc<PcsAxis>`),
//! and the texts inside them (`Arc<str>`). They serialise, compare and print like plain lists and
//! strings (`&*note.text` is a `&str`).

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code::System;

/// What kind of entry of a code system a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An ICD-10-CM chapter (`Chapter 4`, codes E00-E89).
    Chapter,
    /// An ICD-10-CM section, a block of categories (`E08-E13`).
    Section,
    /// A code that is not valid on a claim: an ICD-10-CM category or subcategory with
    /// children, or an ICD-10-PCS table (`0DT`).
    Header,
    /// A code (billable or not, see [`CodeRecord::billable`]).
    Code,
    /// A modifier (HCPCS or CPT), two characters.
    Modifier,
}

impl NodeKind {
    /// The stable snake_case name (`chapter`, `section`, `header`, `code`, `modifier`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Chapter => "chapter",
            NodeKind::Section => "section",
            NodeKind::Header => "header",
            NodeKind::Code => "code",
            NodeKind::Modifier => "modifier",
        }
    }

    /// Parses [`NodeKind::as_str`].
    pub fn parse(s: &str) -> Option<NodeKind> {
        use NodeKind::*;
        [Chapter, Section, Header, Code, Modifier].into_iter().find(|k| k.as_str() == s)
    }
}

/// A reference to another entry: a parent, a child or a related code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRef {
    /// Canonical spelling (`E11`, `E08-E13`, `Chapter 4`).
    pub code: Arc<str>,
    /// Official title.
    pub title: Arc<str>,
    /// What kind of entry it is.
    pub kind: NodeKind,
    /// Whether it is valid on a claim.
    pub billable: bool,
}

/// The kinds of instructional notes of the ICD-10-CM tabular list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// An inclusion term: a synonym or example of the code's condition.
    InclusionTerm,
    /// "Includes": further defines the content of the category.
    Includes,
    /// "Excludes1": never coded together with this code.
    Excludes1,
    /// "Excludes2": not included here, but may be coded together.
    Excludes2,
    /// "Code first": the underlying condition is sequenced first.
    CodeFirst,
    /// "Use additional code".
    UseAdditionalCode,
    /// "Code also".
    CodeAlso,
    /// The 7th-character note of a category ("The appropriate 7th character is to be added...").
    SevenChrNote,
    /// One 7th character and its meaning ("A: initial encounter for closed fracture").
    SevenChrDef,
    /// A general note (`<notes>` in the tabular XML).
    Note,
}

impl NoteKind {
    /// The stable snake_case name (`excludes1`, `code_first`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::InclusionTerm => "inclusion_term",
            NoteKind::Includes => "includes",
            NoteKind::Excludes1 => "excludes1",
            NoteKind::Excludes2 => "excludes2",
            NoteKind::CodeFirst => "code_first",
            NoteKind::UseAdditionalCode => "use_additional_code",
            NoteKind::CodeAlso => "code_also",
            NoteKind::SevenChrNote => "seven_chr_note",
            NoteKind::SevenChrDef => "seven_chr_def",
            NoteKind::Note => "note",
        }
    }

    /// Parses [`NoteKind::as_str`].
    pub fn parse(s: &str) -> Option<NoteKind> {
        use NoteKind::*;
        [InclusionTerm, Includes, Excludes1, Excludes2, CodeFirst, UseAdditionalCode, CodeAlso, SevenChrNote, SevenChrDef, Note]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An instructional note that applies to a code, its own or inherited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// What kind of note.
    pub kind: NoteKind,
    /// The note's text as printed in the tabular list.
    pub text: Arc<str>,
    /// Where the note is printed: the code itself, or the category, section (`E08-E13`) or
    /// chapter (`Chapter 4`) it is inherited from.
    pub source: Arc<str>,
    /// True when the note is printed at an ancestor and applies to this code by inheritance.
    pub inherited: bool,
}

/// The instructional notes of a record, read as one list: the code's own first, then those
/// inherited from each ancestor, nearest first.
///
/// The book keeps one shared list per code that prints notes, so a record holds a few shared
/// parts instead of a copy of each note. Read it like a slice: [`Notes::iter`] (or `for note in
/// &record.notes`), [`Notes::len`], [`Notes::get`]; it compares and serialises as one list, and
/// [`Notes::to_vec`] copies it out.
///
/// ```
/// let book = codelookup::Book::open_default()?;
/// let rec = book.lookup("E11.9", None)?;
/// // The code's own notes first, then those it inherits from E11 and from Chapter 4.
/// assert!(rec.notes.iter().take_while(|n| !n.inherited).all(|n| &*n.source == "E11.9"));
/// let inherited: Vec<&str> = rec.notes.iter().filter(|n| n.inherited).map(|n| &*n.source).collect();
/// assert_eq!((inherited.first(), inherited.last()), (Some(&"E11"), Some(&"Chapter 4")));
/// assert_eq!(rec.notes.len(), rec.notes.iter().count());
/// # Ok::<(), codelookup::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Notes {
    /// The code's own notes.
    own: Option<Arc<[Note]>>,
    /// The notes inherited from each ancestor that prints some, nearest first.
    inherited: Arc<[Arc<[Note]>]>,
}

impl Notes {
    /// Notes made of shared parts: the code's own, then the inherited ones.
    pub(crate) fn from_parts(own: Option<Arc<[Note]>>, inherited: Arc<[Arc<[Note]>]>) -> Notes {
        Notes { own, inherited }
    }

    /// Every note, in order.
    pub fn iter(&self) -> NotesIter<'_> {
        NotesIter { parts: self.inherited.iter(), part: self.own.as_deref().unwrap_or_default().iter() }
    }

    /// The number of notes.
    pub fn len(&self) -> usize {
        self.own.as_ref().map_or(0, |o| o.len()) + self.inherited.iter().map(|p| p.len()).sum::<usize>()
    }

    /// Whether there are no notes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The note at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&Note> {
        self.iter().nth(index)
    }

    /// A copy of every note, in order.
    pub fn to_vec(&self) -> Vec<Note> {
        self.iter().cloned().collect()
    }
}

impl From<Vec<Note>> for Notes {
    fn from(notes: Vec<Note>) -> Notes {
        Notes { own: (!notes.is_empty()).then(|| notes.into()), inherited: Arc::from([]) }
    }
}

impl FromIterator<Note> for Notes {
    fn from_iter<I: IntoIterator<Item = Note>>(iter: I) -> Notes {
        Notes::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for Notes {
    fn eq(&self, other: &Notes) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Notes {}

impl<'a> IntoIterator for &'a Notes {
    type Item = &'a Note;
    type IntoIter = NotesIter<'a>;
    fn into_iter(self) -> NotesIter<'a> {
        self.iter()
    }
}

impl Serialize for Notes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Notes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Notes, D::Error> {
        Vec::<Note>::deserialize(deserializer).map(Notes::from)
    }
}

/// The iterator of [`Notes::iter`].
#[derive(Clone, Debug)]
pub struct NotesIter<'a> {
    parts: std::slice::Iter<'a, Arc<[Note]>>,
    part: std::slice::Iter<'a, Note>,
}

impl<'a> Iterator for NotesIter<'a> {
    type Item = &'a Note;
    fn next(&mut self) -> Option<&'a Note> {
        loop {
            if let Some(note) = self.part.next() {
                return Some(note);
            }
            self.part = self.parts.next()?.iter();
        }
    }
}

/// The meaning of the 7th character of an ICD-10-CM code (`S72.001A`: `A`, "initial encounter
/// for closed fracture").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeventhCharacter {
    /// The character.
    pub character: String,
    /// Its meaning, from the category's 7th-character definitions.
    pub meaning: String,
    /// The code whose definitions apply (`S72`).
    pub source: String,
}

/// One of the seven characters of an ICD-10-PCS code, in plain language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcsAxis {
    /// 1 to 7.
    pub position: u8,
    /// The axis name: Section, Body System, Operation (or Root Operation), Body Part, Approach,
    /// Device, Qualifier (names vary by section).
    pub name: Arc<str>,
    /// The character at this position.
    pub value: Arc<str>,
    /// What the character means here (`Resection`, `Percutaneous Endoscopic`).
    pub label: Arc<str>,
    /// The official definition, where the book has one (root operations, approaches).
    pub definition: Option<Arc<str>>,
}

/// HCPCS Level II administrative data from the CMS quarterly (ANWEB) file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HcpcsInfo {
    /// Date the code was added.
    pub added: Option<NaiveDate>,
    /// Date the latest action took effect.
    pub action_effective: Option<NaiveDate>,
    /// Termination date: the last date the code may be used. `None` for active codes.
    pub terminated: Option<NaiveDate>,
    /// The action code (`A` add, `C` long description change, `D` discontinue, `N` no
    /// maintenance, ...).
    pub action_code: Option<String>,
    /// Medicare coverage code (`C` carrier judgment, `D` special coverage instructions, `I` not
    /// payable by Medicare, `M` non-covered, `S` non-covered by statute).
    pub coverage_code: Option<String>,
    /// Pricing indicators (up to four two-character codes, `11` physician fee schedule, `51`
    /// drugs, ...).
    pub pricing_indicators: Vec<String>,
    /// Multiple pricing indicator.
    pub multiple_pricing_indicator: Option<String>,
    /// BETOS code.
    pub betos: Option<String>,
    /// CMS type of service codes.
    pub type_of_service: Vec<String>,
    /// Cross-reference codes.
    pub cross_references: Vec<String>,
    /// Processing note number.
    pub processing_note: Option<String>,
}

/// Where a code stands in the book's code set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeStatus {
    /// In the current code set.
    Active,
    /// Was in an earlier code set, is in none now (or was terminated).
    Deleted,
}

/// A title a code had from a fiscal year (ICD-10) or date on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleChange {
    /// First date the title applied (October 1 of the fiscal year's first calendar year).
    pub from: NaiveDate,
    /// The title.
    pub title: String,
}

/// Validity of a code over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Active or deleted.
    pub status: CodeStatus,
    /// First date of service on which the code was valid on a claim, if it ever was.
    pub valid_from: Option<NaiveDate>,
    /// Last date of service on which it was valid; `None` while it still is.
    pub valid_until: Option<NaiveDate>,
    /// ICD-10 fiscal years in which the code was valid on a claim (FY N runs from October 1 of
    /// N-1 to September 30 of N). Empty for HCPCS and CPT.
    pub valid_fiscal_years: Vec<u16>,
    /// Earlier titles, oldest first (the current title is the record's `title`).
    pub title_changes: Vec<TitleChange>,
    /// Codes that replaced this one.
    pub replaced_by: Vec<String>,
    /// Codes this one replaced.
    pub replaces: Vec<String>,
}

/// Everything the book knows about one code of one system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// Canonical spelling (`E11.9`, `0DTJ4ZZ`, `J1100`).
    pub code: String,
    /// The code system.
    pub system: System,
    /// What kind of entry it is.
    pub kind: NodeKind,
    /// Official long title (long description).
    pub title: String,
    /// Official short title (short description); equal to the title where the source has none.
    pub short_title: String,
    /// Whether the code is valid on a claim (the order file's flag; for HCPCS, not terminated).
    pub billable: bool,
    /// Ancestors from the top (chapter or table) down to the direct parent; shared by every
    /// record with the same parent.
    pub parents: Arc<[CodeRef]>,
    /// Direct children.
    pub children: Vec<CodeRef>,
    /// For a header: every billable code below it, in tabular order. Empty for billable codes.
    pub billable_descendants: Vec<String>,
    /// Instructional notes: the code's own first, then those inherited from each ancestor,
    /// nearest first.
    pub notes: Notes,
    /// For ICD-10-CM codes with a 7th character: what it means.
    pub seventh_character: Option<SeventhCharacter>,
    /// For ICD-10-PCS codes: the seven characters in plain language (each shared with the
    /// book's label of that character).
    pub pcs_axes: Vec<Arc<PcsAxis>>,
    /// For HCPCS codes: the administrative data of the quarterly file.
    pub hcpcs: Option<HcpcsInfo>,
    /// A plain-language description (the CPT consumer descriptor), where the source has one.
    pub description: Option<String>,
    /// CPT clinician descriptors (several per code), where the source has them.
    pub clinician_descriptors: Vec<String>,
    /// Validity over time: when the code could be used on a claim, its title changes, and what
    /// replaced it or what it replaced.
    pub history: Option<History>,
    /// Other code systems in which the same characters are also a code (`B20` is an
    /// ICD-10-CM category and an ICD-10-PCS table); `Book::lookup_all` returns each record.
    pub also_in: Vec<System>,
}
