//! What a lookup returns: [`CodeRecord`] and its parts. Plain data, serialisable with serde;
//! the JSON field names of the CLI and the attribute names of the Python binding are these
//! names, and the Node binding uses the same names in camelCase (`billable_descendants` is
//! `billableDescendants`), as JavaScript code expects.
//!
//! Texts that many records repeat (the codes and titles of parents, note texts and their
//! sources, PCS axis names and labels) are `Arc<str>` shared with the book, so a lookup does
//! not copy them; they serialise, compare and print like strings (`&*note.text` is a `&str`).

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
    /// Ancestors from the top (chapter or table) down to the direct parent.
    pub parents: Vec<CodeRef>,
    /// Direct children.
    pub children: Vec<CodeRef>,
    /// For a header: every billable code below it, in tabular order. Empty for billable codes.
    pub billable_descendants: Vec<String>,
    /// Instructional notes: the code's own first, then those inherited from each ancestor,
    /// nearest first.
    pub notes: Vec<Note>,
    /// For ICD-10-CM codes with a 7th character: what it means.
    pub seventh_character: Option<SeventhCharacter>,
    /// For ICD-10-PCS codes: the seven characters in plain language.
    pub pcs_axes: Vec<PcsAxis>,
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
