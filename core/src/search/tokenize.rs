//! Folding and tokenising: the one set of rules applied to the book's texts when the index is
//! built and to a query when it is searched, so that both sides agree on what a word is.
//!
//! - Case and common Latin diacritics are folded (`Ménière` → `meniere`); any other letter or
//!   digit is kept (lower-cased); everything else (punctuation, control characters, emoji,
//!   white space) separates words.
//! - A hyphen or apostrophe between two letters or digits joins the *parts* of a compound:
//!   `Gastro-esophageal` gives the parts `gastro`, `esophageal` and the compound
//!   `gastroesophageal`; `COVID-19` gives `covid`, `19` and `covid19`; a possessive `'s` is not a
//!   part of its own (`Crohn's` gives `crohn` and `crohns`).
//! - A few English function words (`of`, `the`, `and`, ...) are not words for search: they are
//!   neither indexed nor required in a query, and positions skip them, so `fracture femur` is a
//!   phrase of `Fracture of femur`.
//! - A word is *core* unless it is inside parentheses or brackets (ICD-10-CM's nonessential
//!   modifiers: `Essential (primary) hypertension`), is `NOS` or `unspecified`, or is in a comma
//!   clause (after the first) that says what is not specified (`Sepsis, unspecified organism`,
//!   `Urinary tract infection, site not specified`). A text whose core words are all matched by
//!   the query is the query's *name* (the strongest text match): `sepsis` names A41.9.
//!
//! Spans are in `char`s (Unicode scalar values) of the original text.

/// Function words that are neither indexed nor required in a query.
const STOP_WORDS: [&str; 13] = ["an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to"];

/// Words that never make a text longer for ranking: `Heart failure, unspecified` is named by
/// `heart failure`.
const NON_CORE_WORDS: [&str; 2] = ["nos", "unspecified"];

/// Longest word (in bytes, after folding) that is indexed or searched; longer runs are ignored.
pub(crate) const MAX_WORD_LEN: usize = 40;

/// Most parts a compound may have (more, and only the parts are words).
const MAX_COMPOUND_PARTS: usize = 4;

/// Most words taken from one text (positions are kept in a byte-sized range).
pub(crate) const MAX_TEXT_TOKENS: usize = 255;

/// One word of a text or query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    /// Byte range of the folded word in the tokeniser's buffer.
    pub word: (u32, u32),
    /// Char range in the original text.
    pub chars: (u32, u32),
    /// Position: words of the text, counted without function words. A compound has the
    /// position of its first part.
    pub pos: u16,
    /// 0 for a plain word; for a compound, how many of its parts are words (positions it covers).
    pub parts: u8,
    /// Outside parentheses and brackets, and not `NOS` / `unspecified`.
    pub core: bool,
}

/// Tokens of one text, with their folded words in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub buf: String,
    pub list: Vec<Token>,
    /// Token index where each comma clause (at depth 0) begins (kept to reuse its buffer).
    clauses: Vec<usize>,
    /// The run being read (kept to reuse its buffers: a hit's spans tokenise its text).
    run: Run,
}

impl Tokens {
    /// Drops the buffers that a long text left large (the tokens are kept between searches).
    pub fn trim(&mut self) {
        if self.buf.capacity() > 4096 || self.list.capacity() > super::rank::KEEP_ENTRIES {
            *self = Tokens::default();
        }
    }

    /// The folded word of a token.
    pub fn word(&self, t: &Token) -> &str {
        self.buf.get(t.word.0 as usize..t.word.1 as usize).unwrap_or("")
    }

    /// Tokenises `text`, replacing what was held before.
    pub fn tokenize(&mut self, text: &str) {
        self.buf.clear();
        self.list.clear();
        let mut run = std::mem::take(&mut self.run);
        run.reset();
        let mut depth: u32 = 0;
        let mut pos: u16 = 0;
        let mut clauses = std::mem::take(&mut self.clauses);
        clauses.clear();
        clauses.push(0);
        let mut chars = text.chars().enumerate().peekable();
        while let Some((ci, c)) = chars.next() {
            let ci = ci as u32;
            if fold_into(c, &mut run.text) {
                if run.parts.is_empty() && run.part_start.is_none() {
                    run.start = ci;
                    run.core = depth == 0;
                }
                run.part_start.get_or_insert(ci);
                run.end = ci + 1;
                continue;
            }
            let joiner = matches!(c, '-' | '\'' | '\u{2019}' | '\u{2010}' | '\u{2011}');
            let next_is_word = chars.peek().is_some_and(|&(_, n)| n.is_alphanumeric());
            if joiner && run.part_start.is_some() && next_is_word {
                run.close_part(c != '-');
                continue;
            }
            self.flush(&mut run, &mut pos);
            match c {
                '(' | '[' | '{' => depth = depth.saturating_add(1),
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                ',' | ';' if depth == 0 && clauses.len() < MAX_TEXT_TOKENS => clauses.push(self.list.len()),
                _ => {}
            }
            if self.list.len() >= MAX_TEXT_TOKENS {
                break;
            }
        }
        self.flush(&mut run, &mut pos);
        self.list.truncate(MAX_TEXT_TOKENS);
        self.qualifier_clauses(&clauses);
        self.clauses = clauses;
        self.run = run;
    }

    /// A comma clause after the first that says what is *not* specified (`Sepsis, unspecified
    /// organism`; `Urinary tract infection, site not specified`; `..., NOS`) only qualifies the
    /// entry: its words are not core.
    fn qualifier_clauses(&mut self, clauses: &[usize]) {
        for (i, &start) in clauses.iter().enumerate().skip(1) {
            let end = clauses.get(i + 1).copied().unwrap_or(self.list.len()).min(self.list.len());
            let Some(clause) = self.list.get(start..end) else { continue };
            let qualifier = clause.iter().enumerate().any(|(j, t)| {
                let w = self.word(t);
                NON_CORE_WORDS.contains(&w) || (w == "not" && clause.get(j + 1).is_some_and(|n| self.word(n) == "specified"))
            });
            if qualifier {
                for t in &mut self.list[start..end] {
                    t.core = false;
                }
            }
        }
    }

    /// Emits the parts (and the compound) of a finished run.
    fn flush(&mut self, run: &mut Run, pos: &mut u16) {
        run.close_part(false);
        if run.parts.is_empty() {
            run.reset();
            return;
        }
        let first_pos = *pos;
        let mut emitted: u8 = 0;
        let whole_ok = run.parts.len() <= MAX_COMPOUND_PARTS && run.parts.len() > 1;
        for (i, &(ws, we, possessive, cs, ce)) in run.parts.iter().enumerate() {
            let word = run.text.get(ws as usize..we as usize).unwrap_or("");
            // A possessive `'s` is not a word of its own.
            if i > 0 && possessive && word == "s" {
                continue;
            }
            if word.len() > MAX_WORD_LEN || STOP_WORDS.contains(&word) {
                continue;
            }
            let core = run.core && !NON_CORE_WORDS.contains(&word);
            self.push(word, (cs, ce), *pos, 0, core);
            *pos = pos.saturating_add(1);
            emitted += 1;
        }
        // The parts are contiguous in `run.text`: the compound is all of it.
        if whole_ok && emitted > 0 && run.text.len() <= MAX_WORD_LEN {
            let compound = std::mem::take(&mut run.text);
            self.push(&compound, (run.start, run.end), first_pos, emitted, run.core);
            run.text = compound;
        }
        run.reset();
    }

    fn push(&mut self, word: &str, chars: (u32, u32), pos: u16, parts: u8, core: bool) {
        let start = self.buf.len() as u32;
        self.buf.push_str(word);
        self.list.push(Token { word: (start, self.buf.len() as u32), chars, pos, parts, core });
    }
}

/// The words [`Tokens::tokenize`] gives an ASCII text, with their char ranges, in the same order
/// (parts, then the compound), without positions, core flags or buffers: a hit's spans need
/// only these. `f` gets each word *unfolded* (compare it ignoring ASCII case; a compound comes
/// folded) and its `[start, end)`. False, and no word, for a text that is not ASCII (tokenise
/// it with [`Tokens`]).
pub(crate) fn ascii_words(text: &str, mut f: impl FnMut(&[u8], (u32, u32))) -> bool {
    let b = text.as_bytes();
    if !b.is_ascii() {
        return false;
    }
    let is_word = |i: usize| b.get(i).is_some_and(|&c| ASCII_WORD[usize::from(c)]);
    let mut whole = [0u8; MAX_WORD_LEN];
    let mut tokens = 0;
    let mut i = 0;
    while i < b.len() && tokens < MAX_TEXT_TOKENS {
        if !is_word(i) {
            i += 1;
            continue;
        }
        let start = i;
        let (mut parts, mut emitted, mut whole_len, mut after_apostrophe) = (0, 0, 0, false);
        loop {
            let from = i;
            while is_word(i) {
                i += 1;
            }
            let word = &b[from..i];
            whole_len += word.len();
            // As `Tokens::flush`: a possessive `s`, an over-long word and a function word are
            // not words.
            let skip = (parts > 0 && after_apostrophe && word.eq_ignore_ascii_case(b"s"))
                || word.len() > MAX_WORD_LEN
                || (word.len() <= 4 && STOP_WORDS.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(word)));
            if !skip {
                if tokens < MAX_TEXT_TOKENS {
                    f(word, (from as u32, i as u32));
                }
                tokens += 1;
                emitted += 1;
            }
            parts += 1;
            // A hyphen or apostrophe between two word chars joins the next part.
            if matches!(b.get(i), Some(b'-' | b'\'')) && is_word(i + 1) {
                after_apostrophe = b[i] == b'\'';
                i += 1;
                continue;
            }
            break;
        }
        if (2..=MAX_COMPOUND_PARTS).contains(&parts) && emitted > 0 && whole_len <= MAX_WORD_LEN {
            // The parts, folded, without their joiners.
            let run = b[start..i].iter().filter(|c| c.is_ascii_alphanumeric());
            for (d, c) in whole.iter_mut().zip(run) {
                *d = c.to_ascii_lowercase();
            }
            if tokens < MAX_TEXT_TOKENS {
                f(&whole[..whole_len], (start as u32, i as u32));
            }
            tokens += 1;
        }
    }
    true
}

/// Which bytes are ASCII letters or digits (a table: [`ascii_words`] asks for every byte).
const ASCII_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    t
};

/// A run of letters and digits, possibly joined by hyphens or apostrophes.
#[derive(Debug, Default)]
struct Run {
    /// The folded parts, one after the other (the part being read at the end).
    text: String,
    /// Finished parts: byte range in `text`, whether it followed an apostrophe, char range.
    parts: Vec<(u32, u32, bool, u32, u32)>,
    /// Where the part being read begins in `text`, and its first char.
    part_from: u32,
    part_start: Option<u32>,
    /// Whether the part being read follows an apostrophe.
    after_apostrophe: bool,
    start: u32,
    end: u32,
    core: bool,
}

impl Run {
    fn close_part(&mut self, next_after_apostrophe: bool) {
        if let Some(s) = self.part_start.take() {
            self.parts.push((self.part_from, self.text.len() as u32, self.after_apostrophe, s, self.end));
            self.part_from = self.text.len() as u32;
        }
        self.after_apostrophe = next_after_apostrophe;
    }

    fn reset(&mut self) {
        self.parts.clear();
        self.text.clear();
        self.part_from = 0;
        self.part_start = None;
        self.after_apostrophe = false;
    }
}

/// Folds one character into `out`; false when the character is not part of a word. (ASCII
/// inline, as nearly every char of the book is; the rest out of line.)
#[inline]
pub(crate) fn fold_into(c: char, out: &mut String) -> bool {
    if c.is_ascii_alphanumeric() {
        out.push(c.to_ascii_lowercase());
        return true;
    }
    !c.is_ascii() && fold_other(c, out)
}

/// [`fold_into`] for a char beyond ASCII.
#[inline(never)]
fn fold_other(c: char, out: &mut String) -> bool {
    if !c.is_alphanumeric() {
        return false;
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    let folded = match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ś' | 'š' => "s",
        'ź' | 'ż' | 'ž' => "z",
        'ł' => "l",
        'ř' => "r",
        'ť' => "t",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => {
            out.push(lower);
            return true;
        }
    };
    out.push_str(folded);
    true
}

/// Folds a whole string the way words are folded (no tokenising): lower case, diacritics
/// removed, non-word characters dropped.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_into(c, &mut out);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, u16, u8, bool)> {
        let mut t = Tokens::default();
        t.tokenize(text);
        t.list.iter().map(|k| (t.word(k).to_string(), k.pos, k.parts, k.core)).collect()
    }

    #[test]
    fn case_punctuation_and_diacritics_fold() {
        let w = words("Ménière's DISEASE, left-ear");
        let got: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(got, ["meniere", "menieres", "disease", "left", "ear", "leftear"]);
    }

    #[test]
    fn compounds_keep_parts_and_whole() {
        assert_eq!(
            words("COVID-19"),
            [("covid".to_string(), 0, 0, true), ("19".to_string(), 1, 0, true), ("covid19".to_string(), 0, 2, true)]
        );
        assert_eq!(words("Crohn's disease")[..2], [("crohn".to_string(), 0, 0, true), ("crohns".to_string(), 0, 1, true)]);
    }

    #[test]
    fn function_words_are_skipped_and_positions_close_up() {
        let w = words("Fracture of shaft of the femur");
        assert_eq!(w.iter().map(|x| (x.0.as_str(), x.1)).collect::<Vec<_>>(), [("fracture", 0), ("shaft", 1), ("femur", 2)]);
    }

    #[test]
    fn nonessential_modifiers_are_not_core() {
        let w = words("Essential (primary) hypertension NOS");
        let core: Vec<_> = w.iter().map(|x| (x.0.as_str(), x.3)).collect();
        assert_eq!(core, [("essential", true), ("primary", false), ("hypertension", true), ("nos", false)]);
    }

    #[test]
    fn clauses_that_leave_things_unspecified_are_not_core() {
        let core = |text: &str| -> Vec<String> { words(text).into_iter().filter(|w| w.3 && w.2 == 0).map(|w| w.0).collect() };
        assert_eq!(core("Sepsis, unspecified organism"), ["sepsis"]);
        assert_eq!(core("Urinary tract infection, site not specified"), ["urinary", "tract", "infection"]);
        assert_eq!(core("Unspecified fracture of femur, initial encounter"), ["fracture", "femur", "initial", "encounter"]);
        assert_eq!(core("Other specified disorders of kidney, left side"), ["other", "specified", "disorders", "kidney", "left", "side"]);
    }

    #[test]
    fn spans_are_in_chars() {
        let mut t = Tokens::default();
        t.tokenize("é😀 Abc");
        assert_eq!(t.list.iter().map(|k| k.chars).collect::<Vec<_>>(), [(0, 1), (3, 6)]);
    }

    /// [`ascii_words`] against [`Tokens::tokenize`] on one text.
    pub(crate) fn assert_ascii_words_agree(text: &str) {
        let mut t = Tokens::default();
        t.tokenize(text);
        let want: Vec<(&str, (u32, u32))> = t.list.iter().map(|k| (t.word(k), k.chars)).collect();
        let mut got: Vec<(String, (u32, u32))> = Vec::new();
        let ascii = ascii_words(text, |w, chars| got.push((String::from_utf8_lossy(w).to_ascii_lowercase(), chars)));
        assert_eq!(ascii, text.is_ascii());
        let got: Vec<(&str, (u32, u32))> = got.iter().map(|(w, c)| (w.as_str(), *c)).collect();
        assert_eq!(got, if text.is_ascii() { want } else { Vec::new() }, "{text:?}");
    }

    #[test]
    fn ascii_words_are_the_tokens() {
        let long = "x".repeat(41);
        let many = "a ".repeat(300);
        let many_compounds = "a-b ".repeat(200);
        for text in [
            "",
            "Essential (primary) hypertension",
            "Crohn's disease of small intestine, NOS",
            "COVID-19, Gastro-esophageal reflux; Alzheimer's disease, unspecified",
            "a-b-c-d a-b-c-d-e o'-s x's X'S of-the the-of an-a",
            "-a- 'b' a--b a-'b a'-b 'tis ok'",
            "s's a's'b b'st word'",
            "Type 2 diabetes mellitus w/o complications [E11.9] {braces}",
            &format!("{long} a-{long} {long}-b ok-{}", "y".repeat(38)),
            &format!("{}-{} z", "p".repeat(20), "q".repeat(20)),
            &many,
            &many_compounds,
            "\u{0}\u{7}\t\n!!!---'''",
            "Ménière's disease",
        ] {
            assert_ascii_words_agree(text);
        }
    }

    #[test]
    fn hostile_text_is_bounded() {
        let mut t = Tokens::default();
        t.tokenize(&"a ".repeat(10_000));
        assert_eq!(t.list.len(), MAX_TEXT_TOKENS);
        t.tokenize(&"x".repeat(10_000));
        assert!(t.list.is_empty(), "an over-long run is not a word");
        t.tokenize("\u{0}\u{7}\t\n!!!---'''");
        assert!(t.list.is_empty());
        t.tokenize("-a- 'b' a--b");
        assert_eq!(t.list.iter().map(|k| t.word(k)).collect::<Vec<_>>(), ["a", "b", "a", "b"]);
    }
}
