//! The 7th characters the codes below a node may take, as the records of those codes read them:
//! each character's meaning and the code whose definitions give it, packed in one allocation.
//!
//! Packed because a cold record reads them at the end of a chain of cache misses (key table,
//! node, the parent's shared lists): with the texts in the same allocation as the list, and
//! the list's length known from the shared lists, every line of it is prefetched at once,
//! instead of the list first and its texts after.

use std::sync::Arc;

/// A list of (character, meaning, source code), each character once, nearest definition
/// first. Cloning shares it.
///
/// Layout of each entry: the character (4 bytes, little-endian), the meaning's and the
/// source's lengths in bytes (2 bytes each, little-endian), then both texts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SeventhDefs(Arc<[u8]>);

/// The bytes before an entry's texts.
const HEAD: usize = 8;

impl SeventhDefs {
    /// Packs the definitions, in order. A text longer than 65,535 bytes (no 7th-character
    /// meaning is near that) is cut at a character boundary.
    pub fn new<'a>(defs: impl IntoIterator<Item = (char, &'a str, &'a str)>) -> SeventhDefs {
        let mut out = Vec::new();
        for (c, meaning, source) in defs {
            let (meaning, source) = (clip(meaning), clip(source));
            out.extend_from_slice(&u32::from(c).to_le_bytes());
            out.extend_from_slice(&(meaning.len() as u16).to_le_bytes());
            out.extend_from_slice(&(source.len() as u16).to_le_bytes());
            out.extend_from_slice(meaning.as_bytes());
            out.extend_from_slice(source.as_bytes());
        }
        SeventhDefs(out.into())
    }

    /// Every definition, in order: (character, meaning, source code).
    pub fn iter(&self) -> impl Iterator<Item = (char, &str, &str)> + '_ {
        self.entries().map_while(|(c, meaning, source)| Some((c, text(meaning)?, text(source)?)))
    }

    /// The meaning of `c` and the code that defines it. Only that entry's texts are checked,
    /// not those it passes over.
    pub fn get(&self, c: char) -> Option<(&str, &str)> {
        let (_, meaning, source) = self.entries().find(|(d, ..)| *d == c)?;
        Some((text(meaning)?, text(source)?))
    }

    /// Every entry, in order, with its texts as bytes.
    fn entries(&self) -> impl Iterator<Item = (char, &[u8], &[u8])> + '_ {
        let mut rest: &[u8] = &self.0;
        std::iter::from_fn(move || {
            let head = rest.get(..HEAD)?;
            let c = char::from_u32(u32::from_le_bytes([head[0], head[1], head[2], head[3]]))?;
            let meaning_len = usize::from(u16::from_le_bytes([head[4], head[5]]));
            let source_len = usize::from(u16::from_le_bytes([head[6], head[7]]));
            let meaning = rest.get(HEAD..HEAD + meaning_len)?;
            let source = rest.get(HEAD + meaning_len..HEAD + meaning_len + source_len)?;
            rest = &rest[HEAD + meaning_len + source_len..];
            Some((c, meaning, source))
        })
    }

    /// Starts loading all of the list (see [`super::memory`]).
    pub fn prefetch(&self) {
        super::memory::prefetch_whole(&*self.0);
    }
}

/// An entry's text. Written from `&str`s by `new`, so the check cannot fail; it keeps a damaged
/// list from becoming a panic or invalid text.
fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// `text`, cut to fit a 16-bit length.
fn clip(text: &str) -> &str {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_come_back_in_order() {
        let defs = SeventhDefs::new([('A', "initial encounter", "S72"), ('D', "subsequent encounter", "S72.0"), ('é', "", "X")]);
        let got: Vec<_> = defs.iter().collect();
        assert_eq!(got, [('A', "initial encounter", "S72"), ('D', "subsequent encounter", "S72.0"), ('é', "", "X")]);
        assert_eq!(defs.get('D'), Some(("subsequent encounter", "S72.0")));
        assert_eq!(defs.get('S'), None);
        assert_eq!(SeventhDefs::default().iter().count(), 0);
    }

    #[test]
    fn an_overlong_text_is_cut_at_a_character_boundary() {
        let long = "é".repeat(40_000);
        let defs = SeventhDefs::new([('A', long.as_str(), "S72")]);
        let (meaning, source) = defs.get('A').unwrap();
        assert_eq!((meaning.len(), source), (65_534, "S72"));
        assert!(long.starts_with(meaning));
    }

    #[test]
    fn a_damaged_list_ends_early_instead_of_failing() {
        let whole = SeventhDefs::new([('A', "initial", "S72"), ('D', "subsequent", "S72")]);
        let cut = SeventhDefs(whole.0[..whole.0.len() - 2].into());
        assert_eq!(cut.iter().map(|(c, ..)| c).collect::<String>(), "A");
    }
}
