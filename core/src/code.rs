//! Code systems and code spellings: which systems exist, how a user's spelling of a code
//! (`e119`, ` E11.9 `, `0dtj4zz`) becomes the one normalised key the book is indexed by, and how
//! a key is shown again in each system's official spelling (`E11.9`).
//!
//! Nothing here touches the book: these are pure, allocation-free string rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A code system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// ICD-10-CM diagnoses (CDC/NCHS), codes like `E11.9`, `S72.001A`.
    Icd10cm,
    /// ICD-10-PCS inpatient procedures (CMS), seven characters like `0DTJ4ZZ`.
    Icd10pcs,
    /// HCPCS Level II (CMS): a letter and four digits like `J1100`, and two-character modifiers.
    Hcpcs,
    /// CPT (AMA), imported from a licensee's AMA data files; never embedded.
    Cpt,
    /// A local code set or payer list imported from a CSV/TSV file (two to seven letters and
    /// digits per code).
    Local,
}

impl System {
    /// Every system, in the order results are listed when a code exists in several.
    pub const ALL: [System; 5] = [System::Icd10cm, System::Icd10pcs, System::Hcpcs, System::Cpt, System::Local];

    /// The stable lower-case name (`icd10cm`, `icd10pcs`, `hcpcs`, `cpt`).
    pub fn as_str(self) -> &'static str {
        match self {
            System::Icd10cm => "icd10cm",
            System::Icd10pcs => "icd10pcs",
            System::Hcpcs => "hcpcs",
            System::Cpt => "cpt",
            System::Local => "local",
        }
    }

    /// Whether a normalised key has the shape of a code (or header, or modifier) of this system.
    pub fn accepts(self, key: &Key) -> bool {
        let b = key.as_bytes();
        let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        match self {
            // A letter, then 2 to 6 letters or digits (mostly a digit second, but FY2026 added
            // the QA0 categories).
            System::Icd10cm => (3..=7).contains(&b.len()) && b[0].is_ascii_uppercase() && b[1..].iter().all(alnum),
            // Seven characters (three for a table), digits and letters without I and O.
            System::Icd10pcs => (b.len() == 7 || b.len() == 3) && b.iter().all(|c| alnum(c) && *c != b'I' && *c != b'O'),
            // A letter and four digits, or a two-character modifier.
            System::Hcpcs => {
                (b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit))
                    || (b.len() == 2 && b.iter().all(alnum))
            }
            // Five characters (four digits then a digit or F/T/U/M), or a two-character modifier.
            System::Cpt => (b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && alnum(&b[4])) || (b.len() == 2 && b.iter().all(alnum)),
            System::Local => b.len() >= 2 && b.iter().all(alnum),
        }
    }

    /// The official spelling of a key in this system: ICD-10-CM puts a dot after the third
    /// character (`E119` → `E11.9`); the other systems use the key as it is.
    pub fn display(self, key: &str) -> String {
        if self.dotted(key) {
            let mut s = String::with_capacity(key.len() + 1);
            s.push_str(&key[..3]);
            s.push('.');
            s.push_str(&key[3..]);
            s
        } else {
            key.to_string()
        }
    }

    /// Whether the official spelling of `key` has a dot after its third character.
    pub(crate) fn dotted(self, key: &str) -> bool {
        self == System::Icd10cm && key.len() > 3 && key.is_char_boundary(3)
    }

    /// Whether `text` is [`System::display`] of `key`, ignoring ASCII case (without building
    /// the display string).
    pub(crate) fn spells(self, key: &str, text: &str) -> bool {
        let dotted = self.dotted(key);
        let (key, text) = (key.as_bytes(), text.as_bytes());
        if dotted {
            text.len() == key.len() + 1
                && text[3] == b'.'
                && text[..3].eq_ignore_ascii_case(&key[..3])
                && text[4..].eq_ignore_ascii_case(&key[3..])
        } else {
            text.eq_ignore_ascii_case(key)
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for System {
    type Err = Error;

    /// Parses a system name; case and the spellings `icd-10-cm`, `icd_10_pcs`, `hcpcs2` are
    /// accepted.
    fn from_str(s: &str) -> Result<Self> {
        let folded: String = s.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).map(|c| c.to_ascii_lowercase()).collect();
        match folded.as_str() {
            "icd10cm" | "cm" => Ok(System::Icd10cm),
            "icd10pcs" | "pcs" => Ok(System::Icd10pcs),
            "hcpcs" | "hcpcs2" | "hcpcsii" | "hcpcslevelii" => Ok(System::Hcpcs),
            "cpt" | "cpt4" => Ok(System::Cpt),
            "local" => Ok(System::Local),
            _ => Err(Error::UnknownSystem(s.to_string())),
        }
    }
}

/// The longest normalised key (ICD-10-CM and ICD-10-PCS codes have seven characters).
pub const MAX_KEY_LEN: usize = 7;

/// A normalised code: upper case, no dot, no surrounding white space, at most seven ASCII
/// letters and digits. It lives on the stack, so normalising never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    len: u8,
    bytes: [u8; MAX_KEY_LEN],
}

/// What parsing a spelling finds besides its [`Key`], for the look-ups that follow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spelling {
    pub key: Key,
    /// [`base37`] of the key, made while parsing.
    pub packed: u64,
    /// Whether the spelling has the dot (`E11.9`), which only ICD-10-CM codes are written with.
    pub dotted: bool,
}

/// A code of one to seven ASCII upper-case letters and digits as a number below 37^7 (2^37):
/// its characters in base 37 (0 for "no character", digits 1-10, letters 11-36), left-aligned
/// so that `E11` and `E110` differ. `None` for anything else, which no code is.
pub(crate) fn base37(key: &[u8]) -> Option<u64> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return None;
    }
    let mut n: u64 = 0;
    for &b in key {
        n = n * 37 + u64::from(digit37(b)?);
    }
    Some(n * ALIGN[key.len()])
}

/// The base-37 digit of an upper-case letter or a digit.
const fn digit37(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0' + 1),
        b'A'..=b'Z' => Some(b - b'A' + 11),
        _ => None,
    }
}

/// [`digit37`] of every byte, letters of either case (0: not a letter or digit): parsing a key
/// reads one entry a character.
const DIGITS: [u8; 256] = {
    let mut digits = [0; 256];
    let mut b = 0;
    while b < 256 {
        if let Some(d) = digit37((b as u8).to_ascii_uppercase()) {
            digits[b] = d;
        }
        b += 1;
    }
    digits
};

/// `ALIGN[len]` = 37^(7 - len): what left-aligns a code of `len` characters.
const ALIGN: [u64; MAX_KEY_LEN + 1] = {
    let mut powers = [1; MAX_KEY_LEN + 1];
    let mut len = MAX_KEY_LEN;
    while len > 0 {
        powers[len - 1] = powers[len] * 37;
        len -= 1;
    }
    powers
};

impl Key {
    /// Normalises a user's spelling of a code.
    ///
    /// Surrounding white space is trimmed, letters are upper-cased, and one dot is allowed after
    /// the third character (`E11.9`). Anything else (an empty string, other punctuation, more
    /// than seven characters) is an [`Error::InvalidCode`].
    ///
    /// ```
    /// use codelookup::Key;
    /// assert_eq!(Key::parse(" e11.9 ").unwrap().as_str(), "E119");
    /// assert_eq!(Key::parse("0dtj4zz").unwrap().as_str(), "0DTJ4ZZ");
    /// assert!(Key::parse("E11..9").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Key> {
        Key::parse_spelling(input).map(|s| s.key)
    }

    /// [`Key::parse`], with what else the parse found.
    pub(crate) fn parse_spelling(input: &str) -> Result<Spelling> {
        // Most input is a bare code: trimming (which knows every Unicode space) only when an
        // end is not a letter or digit saves most of a validity check's work.
        let bare = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
        let trimmed = if bare(input.as_bytes().first()) && bare(input.as_bytes().last()) { input } else { input.trim() };
        let invalid = |reason: &str| Error::InvalidCode { input: truncate_for_message(input), reason: reason.to_string() };
        let bytes = trimmed.as_bytes();
        if bytes.is_empty() {
            return Err(invalid("empty code"));
        }
        let mut key = Key { len: 0, bytes: [0; MAX_KEY_LEN] };
        let mut len = 0;
        let mut packed: u64 = 0;
        for (i, &c) in bytes.iter().enumerate() {
            let d = DIGITS[usize::from(c)];
            if d != 0 {
                let Some(slot) = key.bytes.get_mut(len) else { return Err(invalid("longer than any code (7 characters)")) };
                *slot = c.to_ascii_uppercase();
                packed = packed * 37 + u64::from(d);
                len += 1;
            } else if c != b'.' {
                return Err(invalid("codes contain only letters, digits and one dot"));
            } else if i != 3 || bytes.len() <= 4 {
                return Err(invalid("a dot may only follow the third character"));
            }
        }
        if len < 2 {
            return Err(invalid("shorter than any code"));
        }
        key.len = len as u8;
        // Every byte but a dot went into the key.
        Ok(Spelling { key, packed: packed * ALIGN[len], dotted: bytes.len() != len })
    }

    /// Parses and checks the shape against one system (or against every system when `system`
    /// is `None`).
    pub fn parse_for(input: &str, system: Option<System>) -> Result<Key> {
        Key::parse_spelling_for(input, system).map(|s| s.key)
    }

    /// [`Key::parse_for`], with what else the parse found.
    pub(crate) fn parse_spelling_for(input: &str, system: Option<System>) -> Result<Spelling> {
        let spelling = Key::parse_spelling(input)?;
        let key = spelling.key;
        let fits = match system {
            Some(s) => s.accepts(&key),
            None => System::ALL.iter().any(|s| s.accepts(&key)),
        };
        if fits {
            Ok(spelling)
        } else {
            let what = system.map_or("any supported code system".to_string(), |s| s.to_string());
            Err(Error::InvalidCode { input: truncate_for_message(input), reason: format!("not the shape of a code of {what}") })
        }
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters and digits are ever stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The normalised bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", self.as_str())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `key == "E119"` compares the normalised spelling.
impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// A key is written as its normalised string (`"E119"`).
impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A key is read from any spelling [`Key::parse`] accepts.
impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Key, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Key::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Keeps error messages short when a caller passes a huge string.
pub(crate) fn truncate_for_message(input: &str) -> String {
    const MAX: usize = 40;
    match input.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &input[..i]),
        None => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_normalise_to_one_key() {
        for s in ["E11.9", "e119", " E11.9 ", "e11.9", "\tE119\n"] {
            assert_eq!(Key::parse(s).unwrap().as_str(), "E119", "{s:?}");
        }
        assert_eq!(Key::parse("0dtj4zz").unwrap().as_str(), "0DTJ4ZZ");
        assert_eq!(Key::parse("j1100").unwrap().as_str(), "J1100");
        assert_eq!(Key::parse("S72.001A").unwrap().as_str(), "S72001A");
    }

    #[test]
    fn malformed_input_is_invalid_code() {
        for s in ["", "   ", "E", "E11..9", "E1.19", "E11.", "E11-9", "E11.9999999", "💥", "E11 9", "J1100;DROP"] {
            let err = Key::parse(s).unwrap_err();
            assert!(matches!(err, Error::InvalidCode { .. }), "{s:?} gave {err:?}");
        }
    }

    #[test]
    fn shapes_per_system() {
        let k = |s| Key::parse(s).unwrap();
        assert!(System::Icd10cm.accepts(&k("E119")));
        assert!(!System::Icd10cm.accepts(&k("0DTJ4ZZ")));
        assert!(System::Icd10cm.accepts(&k("QA00101")), "FY2026 QA0 codes");
        assert!(System::Icd10pcs.accepts(&k("0DTJ4ZZ")));
        assert!(!System::Icd10pcs.accepts(&k("0DTJ4IZ")), "PCS never uses I or O");
        assert!(System::Hcpcs.accepts(&k("J1100")));
        assert!(System::Hcpcs.accepts(&k("LT")));
        assert!(System::Cpt.accepts(&k("99213")) && System::Cpt.accepts(&k("0042T")));
        assert!(Key::parse_for("99999999", None).is_err());
        assert!(matches!(Key::parse_for("J1100", Some(System::Icd10pcs)), Err(Error::InvalidCode { .. })));
    }

    #[test]
    fn a_parsed_key_is_packed_as_its_bytes_are() {
        for input in ["e11.9", " E119 ", "0dtj4zz", "J1100", "A0", "zzzzzzz", "S72.001A", "00", "\tj11.00 "] {
            let spelling = Key::parse_spelling(input).unwrap();
            assert_eq!(Some(spelling.packed), base37(spelling.key.as_bytes()), "{input}");
            assert_eq!(spelling.dotted, input.contains('.'), "{input}");
        }
        assert_ne!(Key::parse_spelling("E11").unwrap().packed, Key::parse_spelling("E110").unwrap().packed);
        assert_eq!(base37(b"e11"), None);
        assert_eq!(base37(b"E11.9"), None);
        assert_eq!(base37(b""), None);
        assert_eq!(base37(b"12345678"), None);
    }

    #[test]
    fn display_puts_the_dot_back() {
        assert_eq!(System::Icd10cm.display("E119"), "E11.9");
        assert_eq!(System::Icd10cm.display("E11"), "E11");
        assert_eq!(System::Icd10pcs.display("0DTJ4ZZ"), "0DTJ4ZZ");
    }

    #[test]
    fn spells_agrees_with_display() {
        for (system, key) in [(System::Icd10cm, "E119"), (System::Icd10cm, "E11"), (System::Hcpcs, "J1100"), (System::Icd10pcs, "0DTJ4ZZ")]
        {
            for text in ["E11.9", "e11.9", "E119", "E11", "e11", "J1100", "j1100", "J11.00", "0dtj4zz", "0DT.J4ZZ", "", "E11.", "E1.19"] {
                assert_eq!(system.spells(key, text), system.display(key).eq_ignore_ascii_case(text), "{system:?} {key} {text}");
            }
        }
    }

    #[test]
    fn system_names() {
        assert_eq!("ICD-10-CM".parse::<System>().unwrap(), System::Icd10cm);
        assert_eq!("hcpcs".parse::<System>().unwrap(), System::Hcpcs);
        assert!(matches!("snomed".parse::<System>(), Err(Error::UnknownSystem(_))));
    }
}
