//! Unit tests of search on a small hand-made book: each ranking rule, filter and hostile input.
//! The relevance set over the real book is `core/tests/search_cases.rs`.

use super::*;
use crate::book::BookData;
use crate::record::NoteKind;

/// (system, kind, key, title, short title, billable, parent index, inclusion terms)
type Row = (System, NodeKind, &'static str, &'static str, &'static str, bool, Option<u32>, &'static [&'static str]);

fn book() -> Book {
    use NodeKind::*;
    use System::*;
    let rows: &[Row] = &[
        (Icd10cm, Chapter, "7", "Diseases of the eye and adnexa (H00-H59)", "", false, None, &[]),
        (Icd10cm, Header, "H4005", "Ocular hypertension", "", false, Some(0), &[]),
        (Icd10cm, Chapter, "9", "Diseases of the circulatory system (I00-I99)", "", false, None, &[]),
        (Icd10cm, Section, "I10-I16", "Hypertensive diseases (I10-I16)", "", false, Some(2), &[]),
        (
            Icd10cm,
            Code,
            "I10",
            "Essential (primary) hypertension",
            "",
            true,
            Some(3),
            &["High blood pressure", "Hypertension (arterial) (benign) (essential) (malignant) (primary) (systemic)"],
        ),
        (Icd10cm, Header, "I11", "Hypertensive heart disease", "", false, Some(3), &[]),
        (
            Icd10cm,
            Code,
            "I110",
            "Hypertensive heart disease with heart failure",
            "Hypertensive heart disease w heart failure",
            true,
            Some(5),
            &[],
        ),
        (
            Icd10cm,
            Code,
            "I119",
            "Hypertensive heart disease without heart failure",
            "Hypertensive heart disease w/o heart failure",
            true,
            Some(5),
            &[],
        ),
        (Icd10cm, Section, "I30-I5A", "Other forms of heart disease (I30-I5A)", "", false, Some(2), &[]),
        (Icd10cm, Code, "I429", "Disease of heart muscle, unspecified", "", true, Some(8), &[]),
        (Icd10cm, Header, "I50", "Heart failure", "", false, Some(8), &[]),
        (Icd10cm, Code, "I501", "Left ventricular failure, unspecified", "", true, Some(10), &[]),
        (Icd10cm, Header, "I502", "Systolic (congestive) heart failure", "", false, Some(10), &[]),
        (
            Icd10cm,
            Code,
            "I5020",
            "Unspecified systolic (congestive) heart failure",
            "Unsp systolic (congestive) heart failure",
            true,
            Some(12),
            &[],
        ),
        (Icd10cm, Code, "I509", "Heart failure, unspecified", "", true, Some(10), &["Congestive heart failure NOS"]),
        (Icd10cm, Code, "I519", "Heart disease, unspecified", "", true, Some(8), &[]),
        (Icd10cm, Chapter, "11", "Diseases of the digestive system (K00-K95)", "", false, None, &[]),
        (
            Icd10cm,
            Code,
            "K219",
            "Gastro-esophageal reflux disease without esophagitis",
            "Gastro-esoph reflux dis w/o esophagitis",
            true,
            Some(16),
            &[],
        ),
        (Icd10cm, Code, "K766", "Portal hypertension", "", true, Some(16), &[]),
        (Icd10cm, Chapter, "18", "Symptoms, signs and abnormal findings (R00-R99)", "", false, None, &[]),
        (
            Icd10cm,
            Code,
            "R030",
            "Elevated blood-pressure reading, without diagnosis of hypertension",
            "Elevated blood-pressure reading, w/o diagnosis of htn",
            true,
            Some(19),
            &[],
        ),
        (Icd10cm, Code, "R12", "Heartburn", "", true, Some(19), &[]),
        (Icd10cm, Chapter, "22", "Codes for special purposes (U00-U85)", "", false, None, &[]),
        (Icd10cm, Code, "U071", "COVID-19", "", true, Some(22), &[]),
        (Icd10cm, Code, "B20", "Human immunodeficiency virus [HIV] disease", "", true, Some(22), &[]),
        (Icd10pcs, Header, "B20", "Imaging, Heart, Plain Radiography", "", false, None, &[]),
        (Icd10pcs, Header, "0DT", "Medical and Surgical, Gastrointestinal System, Resection", "", false, None, &[]),
        (
            Icd10pcs,
            Code,
            "0DTJ4ZZ",
            "Resection of Appendix, Percutaneous Endoscopic Approach",
            "Resection of Appendix, Perc Endo Approach",
            true,
            Some(26),
            &[],
        ),
        (Icd10pcs, Code, "0DTJ0ZZ", "Resection of Appendix, Open Approach", "", true, Some(26), &[]),
        (Hcpcs, Code, "J1100", "Injection, dexamethasone sodium phosphate, 1 mg", "Dexamethasone sodium phos", true, None, &[]),
        (
            Hcpcs,
            Modifier,
            "LT",
            "Left side (used to identify procedures performed on the left side of the body)",
            "Left side",
            false,
            None,
            &[],
        ),
        (Hcpcs, Code, "S9999", "Postal delivery of medical supplies", "", true, None, &[]),
    ];
    let mut data = BookData::default();
    for (i, &(system, kind, key, title, short, billable, parent, terms)) in rows.iter().enumerate() {
        data.nodes.push(system, kind, key, title, short, billable, parent).unwrap();
        if !terms.is_empty() {
            data.notes.insert(i as NodeId, terms.iter().map(|t| (NoteKind::InclusionTerm, (*t).into())).collect());
        }
    }
    Book::from_data(data).unwrap()
}

fn opts() -> SearchOptions {
    SearchOptions::default()
}

fn codes(book: &Book, q: &str, o: &SearchOptions) -> Vec<String> {
    book.search(q, o).unwrap().into_iter().map(|h| h.code).collect()
}

fn top(book: &Book, q: &str) -> Vec<String> {
    codes(book, q, &opts())
}

#[test]
fn exact_code_first_then_its_prefix_in_code_order() {
    let b = book();
    for q in ["I50", "i50", " I50 ", "I50."] {
        let hits = b.search(q, &opts()).unwrap();
        let got: Vec<_> = hits.iter().map(|h| (h.code.as_str(), h.score, h.matched)).collect();
        assert_eq!(
            got,
            [
                ("I50", 1000, MatchField::Code),
                ("I50.1", 900, MatchField::Code),
                ("I50.2", 900, MatchField::Code),
                ("I50.20", 900, MatchField::Code),
                ("I50.9", 900, MatchField::Code)
            ],
            "{q:?}"
        );
    }
    assert_eq!(top(&b, "0dtj"), ["0DTJ0ZZ", "0DTJ4ZZ"]);
    assert_eq!(top(&b, "I11.")[0], "I11");
    assert_eq!(top(&b, "i1"), ["I10", "I11", "I11.0", "I11.9"], "a prefix of codes that is no code itself");
}

#[test]
fn code_spans_cover_the_typed_prefix_with_the_dot() {
    let b = book();
    let hits = b.search("i5020", &opts()).unwrap();
    assert_eq!((&*hits[0].matched_text, hits[0].spans.clone()), ("I50.20", vec![(0, 6)]));
    let hits = b.search("I502", &opts()).unwrap();
    assert_eq!(hits[1].code, "I50.20");
    assert_eq!(hits[1].spans, [(0, 5)]);
}

#[test]
fn billable_first_among_equal_codes() {
    let b = book();
    let hits = b.search("B20", &opts()).unwrap();
    let got: Vec<_> = hits.iter().map(|h| (h.code.as_str(), h.system, h.billable)).collect();
    assert_eq!(got[..2], [("B20", System::Icd10cm, true), ("B20", System::Icd10pcs, false)]);
}

#[test]
fn letters_alone_are_words_not_code_prefixes() {
    let b = book();
    // "LT" is a modifier: an exact code, first; no prefix walk for a word without digits.
    let hits = b.search("lt", &opts()).unwrap();
    assert_eq!(hits[0].code, "LT");
    assert_eq!(hits[0].score, 1000);
    assert!(top(&b, "left").contains(&"LT".to_string()));
}

#[test]
fn the_text_that_is_the_query_outranks_a_title_phrase() {
    let b = book();
    let hits = b.search("hypertension", &opts()).unwrap();
    assert_eq!(hits[0].code, "I10", "{hits:#?}");
    assert_eq!(hits[0].matched, MatchField::InclusionTerm);
    assert_eq!(&*hits[0].matched_text, "Hypertension (arterial) (benign) (essential) (malignant) (primary) (systemic)");
    assert_eq!(hits[0].spans, [(0, 12)]);
    // Then the title phrases, billable first at equal length: K76.6 before the header H40.05.
    let codes: Vec<_> = hits.iter().map(|h| h.code.as_str()).collect();
    let pos = |c: &str| codes.iter().position(|x| *x == c).unwrap();
    assert!(pos("K76.6") < pos("H40.05"), "{codes:?}");
    // A title that is the query: `Heart failure, unspecified` is named by "heart failure".
    assert_eq!(top(&b, "heart failure")[..2], ["I50.9", "I50"], "billable first at equal relevance and length");
}

#[test]
fn title_phrase_then_title_words_then_synonyms() {
    let b = book();
    let hits = b.search("heart disease", &opts()).unwrap();
    let got: Vec<_> = hits.iter().map(|h| (h.code.as_str(), h.score)).collect();
    // I51.9 is named by the query; I11 holds the phrase; I42.9 has both words apart.
    assert_eq!(got[0].0, "I51.9");
    let score = |c: &str| got.iter().find(|g| g.0 == c).unwrap().1;
    assert!(score("I51.9") > score("I11") && score("I11") > score("I42.9"), "{got:?}");
    assert!(score("I11") == score("I11.0") && got.iter().position(|g| g.0 == "I11") < got.iter().position(|g| g.0 == "I11.0"));

    // Title words (R03.0, a phrase even) before the inclusion term of I10.
    let hits = b.search("blood pressure", &opts()).unwrap();
    assert_eq!((hits[0].code.as_str(), hits[0].matched), ("R03.0", MatchField::Title));
    assert_eq!((hits[1].code.as_str(), hits[1].matched), ("I10", MatchField::InclusionTerm));
    assert_eq!(&*hits[1].matched_text, "High blood pressure");
    assert_eq!(hits[1].spans, [(5, 19)]);
}

#[test]
fn short_title_words_count() {
    let b = book();
    // `w` is only in the short title.
    let hits = b.search("hypertensive w heart failure", &opts()).unwrap();
    assert_eq!(hits[0].code, "I11.0");
    assert_eq!(hits[0].matched, MatchField::ShortTitle);
    assert_eq!(&*hits[0].matched_text, "Hypertensive heart disease w heart failure");
    assert_eq!(hits[0].spans, [(0, 18), (27, 42)]);
    assert!(hits[0].score < 440, "below any title match");
    // Abbreviated short-title words that complete title words match the title.
    let hits = b.search("perc endo appendix", &opts()).unwrap();
    assert_eq!((hits[0].code.as_str(), hits[0].matched), ("0DTJ4ZZ", MatchField::Title));
    assert_eq!(hits[0].spans, [(13, 21), (23, 27), (36, 40)], "the comma stays unhighlighted");
}

#[test]
fn every_word_must_match() {
    let b = book();
    assert_eq!(top(&b, "heart failure systolic"), ["I50.20", "I50.2"]);
    assert!(top(&b, "heart failure zebra").is_empty());
}

#[test]
fn last_word_is_a_prefix_unless_the_query_ends_in_a_space() {
    let b = book();
    let hits = b.search("hypertensive hea", &opts()).unwrap();
    assert_eq!(hits[0].code, "I11");
    assert_eq!(hits[0].spans, [(0, 16)], "one span over the phrase and the typed part");
    assert!(top(&b, "heart").contains(&"R12".to_string()), "heartburn completes heart");
    let finished = codes(&b, "heart ", &SearchOptions { limit: 5, ..opts() });
    assert!(!finished.contains(&"R12".to_string()), "a finished word is exact while exact hits fill the page");
    // A whole word ranks above a completion.
    let hits = b.search("heart", &opts()).unwrap();
    let r12 = hits.iter().find(|h| h.code == "R12").unwrap();
    assert!(hits[0].score > r12.score);
}

#[test]
fn case_punctuation_and_compounds_fold() {
    let b = book();
    for q in ["covid-19", "COVID 19", "covid19", "Covid-19!", "covid"] {
        assert_eq!(top(&b, q).first().map(String::as_str), Some("U07.1"), "{q:?}");
    }
    for q in ["gastroesophageal reflux", "GASTRO-ESOPHAGEAL reflux", "gastro esophageal", "Gastro-esophageal"] {
        assert_eq!(top(&b, q).first().map(String::as_str), Some("K21.9"), "{q:?}");
    }
    let hits = b.search("Gastro-esophageal reflux", &opts()).unwrap();
    assert_eq!(hits[0].spans, [(0, 24)]);
    assert_eq!(top(&b, "human immunodeficiency virus hiv")[0], "B20");
}

#[test]
fn typos_are_tolerated_by_length_and_rank_below_exact() {
    let b = book();
    assert_eq!(top(&b, "hypertenson")[0], "I10", "one edit from 5 letters");
    assert_eq!(top(&b, "hipertenson")[0], "I10", "two edits from 9 letters");
    assert_eq!(top(&b, "hypretension")[0], "I10", "a transposition is one edit");
    assert_eq!(top(&b, "failre")[0], "I50.9");
    assert!(top(&b, "falre").is_empty(), "two edits in 5 letters are too many");
    assert!(top(&b, "hrat").is_empty(), "no typos below 5 letters");
    // Exact before fuzzy: "portal" is a word, "postal" one edit away.
    let hits = b.search("portal", &opts()).unwrap();
    let got: Vec<_> = hits.iter().map(|h| (h.code.as_str(), h.score)).collect();
    assert_eq!(got.first().map(|g| g.0), Some("K76.6"));
    assert_eq!(got.last().map(|g| g.0), Some("S9999"), "{got:?}");
    assert!(got[0].1 >= 400 && got.last().unwrap().1 < 400);
    // A typo in the highlighted word is highlighted whole.
    let hits = b.search("portl hypertension", &opts()).unwrap();
    assert_eq!((hits[0].code.as_str(), hits[0].spans.clone()), ("K76.6", vec![(0, 19)]));
}

#[test]
fn typo_searches_stop_at_a_word_nothing_satisfies() {
    let b = book();
    let index = b.search_index();
    let expanded = |query: &str| {
        let mut q = query::parse(index, query, &mut tokenize::Tokens::default()).unwrap();
        query::add_fuzzy(index, &mut q, 2);
        q.slots.iter().map(|s| (s.word.clone(), s.fuzzy_edits)).collect::<Vec<_>>()
    };
    // The longest word first: it has expansions, and so does the next.
    assert_eq!(expanded("hypertenson failre"), [("hypertenson".into(), 2), ("failre".into(), 1)]);
    // Gibberish (longest, so searched first) has none, and no text can match: the other words
    // are not searched.
    assert_eq!(
        expanded("hypertenson xqzvwkjhgfdpl failre"),
        [("hypertenson".into(), 0), ("xqzvwkjhgfdpl".into(), 2), ("failre".into(), 0)]
    );
    // Nor when the dead word has no typo budget.
    assert_eq!(expanded("hypertenson xq failre"), [("hypertenson".into(), 0), ("xq".into(), 0), ("failre".into(), 0)]);
    assert!(top(&b, "hypertenson xqzvwkjhgfdpl failre").is_empty());
}

#[test]
fn inclusion_terms_and_abbreviations_are_synonyms() {
    let b = book();
    let hits = b.search("high blood pressure", &opts()).unwrap();
    assert_eq!((hits[0].code.as_str(), hits[0].matched), ("I10", MatchField::InclusionTerm));

    let hits = b.search("CHF", &opts()).unwrap();
    assert_eq!(hits[0].code, "I50.9");
    assert_eq!(hits[0].matched, MatchField::Abbreviation);
    assert_eq!(&*hits[0].matched_text, "Congestive heart failure NOS");
    assert_eq!(hits[0].spans, [(0, 24)]);
    // HTN is in a short title literally, but means hypertension: I10 first.
    assert_eq!(top(&b, "htn")[0], "I10");
    assert_eq!(top(&b, "gerd")[0], "K21.9");
}

#[test]
fn ties_are_deterministic() {
    let b = book();
    for q in ["heart", "hypertension", "h", "disease", "I1"] {
        let first = b.search(q, &opts()).unwrap();
        for _ in 0..3 {
            assert_eq!(b.search(q, &opts()).unwrap(), first, "{q:?}");
        }
        for w in first.windows(2) {
            assert!(w[0].score >= w[1].score, "{q:?}: scores never rise");
        }
    }
}

#[test]
fn filters() {
    let b = book();
    let o = |f: fn(&mut SearchOptions)| {
        let mut o = opts();
        f(&mut o);
        o
    };
    assert_eq!(codes(&b, "left", &o(|o| o.systems = vec![System::Hcpcs])), ["LT"]);
    assert!(codes(&b, "left", &o(|o| o.systems = vec![System::Icd10pcs])).is_empty());
    assert_eq!(codes(&b, "B20", &o(|o| o.systems = vec![System::Icd10pcs])), ["B20"]);
    let billable = codes(&b, "heart", &o(|o| o.billable = Some(true)));
    assert!(!billable.is_empty() && !billable.contains(&"I50".to_string()) && !billable.contains(&"I11".to_string()));
    let headers = codes(&b, "heart", &o(|o| o.billable = Some(false)));
    assert!(headers.contains(&"I50".to_string()) && !headers.contains(&"I50.9".to_string()));
    assert_eq!(codes(&b, "I5", &o(|o| o.billable = Some(true))), ["I50.1", "I50.20", "I50.9", "I51.9"]);
    let ranged = codes(&b, "heart", &o(|o| o.range = Some(("I10".into(), "i11".into()))));
    assert_eq!(ranged, ["I11", "I11.0", "I11.9"]);
    let ranged = codes(&b, "hypertension", &o(|o| o.range = Some(("H00".into(), "I10".into()))));
    assert_eq!(ranged, ["I10", "H40.05"]);
    let chapter = codes(&b, "hypertension", &o(|o| o.chapter = Some(11)));
    assert_eq!(chapter, ["K76.6"]);
    assert!(codes(&b, "I50", &o(|o| o.chapter = Some(11))).is_empty());
    // Paging: pages are slices of one ranking.
    let all = codes(&b, "heart", &opts());
    assert!(all.len() > 6);
    let page = |offset, limit| codes(&b, "heart", &SearchOptions { offset, limit, ..opts() });
    assert_eq!([page(0, 3), page(3, 3)].concat(), all[..6]);
    assert!(page(1000, 5).is_empty());
    assert!(page(0, 0).is_empty());
}

#[test]
fn bad_options_are_clear_errors() {
    let b = book();
    let err = |o: SearchOptions| b.search("heart", &o).unwrap_err().kind();
    assert_eq!(err(SearchOptions { limit: MAX_LIMIT + 1, ..opts() }), "INVALID_ARGUMENT");
    assert_eq!(err(SearchOptions { offset: MAX_OFFSET + 1, ..opts() }), "INVALID_ARGUMENT");
    assert_eq!(err(SearchOptions { chapter: Some(99), ..opts() }), "INVALID_ARGUMENT");
    assert_eq!(err(SearchOptions { range: Some(("I50".into(), "I10".into())), ..opts() }), "INVALID_ARGUMENT");
    assert_eq!(err(SearchOptions { range: Some(("E11..9".into(), "I10".into())), ..opts() }), "INVALID_ARGUMENT");
    assert!(b.search("heart", &SearchOptions { limit: MAX_LIMIT, offset: MAX_OFFSET, ..opts() }).is_ok());
}

#[test]
fn hostile_input_is_an_empty_result_or_a_clear_error() {
    let b = book();
    for q in ["", "   ", "\t\n", "!!!", "...,,,;;--''", "\u{0}\u{1}\u{7f}\u{1b}[31m", "😀🔥🎉", "of the and", "\u{202e}\u{200b}"] {
        assert_eq!(b.search(q, &opts()).unwrap(), [], "{q:?}");
    }
    let long = "a".repeat(10 * 1024);
    assert_eq!(b.search(&long, &opts()).unwrap_err().kind(), "INVALID_ARGUMENT");
    let thousand = "heart ".repeat(1000);
    assert_eq!(b.search(&thousand, &opts()).unwrap_err().kind(), "INVALID_ARGUMENT");
    let many = "ab ".repeat(MAX_QUERY_WORDS + 1);
    assert!(many.len() <= MAX_QUERY_BYTES);
    assert_eq!(b.search(&many, &opts()).unwrap_err().kind(), "INVALID_ARGUMENT");
    // Words hidden among control characters and emoji still match.
    assert_eq!(top(&b, "\u{0}heart\u{7}failure😀")[0], "I50.9");
    assert_eq!(top(&b, "hyper😀tension"), Vec::<String>::new(), "an emoji splits words");
    // Pseudo-random strings over a hostile alphabet never panic.
    let alphabet: Vec<char> = "aeiouhrtnsl0123456789 .-'()[]/\\\u{0}\u{7f}é😀\u{300}\u{fffd}ßﬁ".chars().collect();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..2000 {
        let mut s = String::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for i in 0..(x % 40) {
            s.push(alphabet[((x >> (i % 50)) as usize + i as usize * 7) % alphabet.len()]);
        }
        let _ = b.search(&s, &opts());
    }
}

#[test]
fn hits_serialise_with_their_field_names() {
    let b = book();
    let hit = b.search("I10", &opts()).unwrap().remove(0);
    let json = serde_json::to_value(&hit).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"code": "I10", "system": "icd10cm", "title": "Essential (primary) hypertension", "billable": true,
            "score": 1000, "matched": "code", "matched_text": "I10", "spans": [[0, 3]]})
    );
    let back: Hit = serde_json::from_value(json).unwrap();
    assert_eq!(back, hit);
    let o: SearchOptions = serde_json::from_str(r#"{"systems": ["icd10cm", "hcpcs"], "billable": true, "range": ["A00", "B99"]}"#).unwrap();
    assert_eq!((o.systems.len(), o.limit, o.range.as_ref().map(|r| r.0.as_str())), (2, 20, Some("A00")));
}

#[test]
fn the_index_round_trips_through_a_book_file() {
    let b = book();
    let index = b.search_index();
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE blobs(name TEXT PRIMARY KEY, data BLOB NOT NULL)").unwrap();
    index.write(&conn).unwrap();
    let back = SearchIndex::read(&conn, b.data()).unwrap();
    assert_eq!(back.term_count(), index.term_count());
    assert_eq!(back.heap_bytes(), index.heap_bytes());
    // A corrupt blob is a clear book error, never a panic.
    conn.execute("UPDATE blobs SET data = x'FFFF' WHERE name = 'search.forward'", []).unwrap();
    assert_eq!(SearchIndex::read(&conn, b.data()).unwrap_err().kind(), "BOOK_ERROR");
    conn.execute("DELETE FROM blobs WHERE name = 'search.postings'", []).unwrap();
    assert_eq!(SearchIndex::read(&conn, b.data()).unwrap_err().kind(), "BOOK_ERROR");
}

/// Every query of the relevance set and a few broad ones, with the search options of the set.
fn relevance_queries() -> Vec<(String, SearchOptions)> {
    let text = include_str!("../../../tests/cases/search.json");
    let all: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut out: Vec<(String, SearchOptions)> = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let o = c.get("options").map(|o| serde_json::from_value(o.clone()).unwrap()).unwrap_or_default();
            (c["query"].as_str().unwrap().to_string(), o)
        })
        .collect();
    for q in ["heart", "hyp", "fracture", "pain", "covid 19", "crohn's", "left", "a", "essential hypertension", "diabetis"] {
        out.push((q.to_string(), opts()));
    }
    out
}

/// Skipping the candidates that cannot reach the page gives the very hits of ranking them all.
fn assert_pruning_changes_nothing(b: &Book, queries: &[(String, SearchOptions)], pages: &[(usize, usize)]) {
    for (q, o) in queries {
        for &(limit, offset) in pages {
            let o = SearchOptions { limit, offset, ..o.clone() };
            assert_eq!(b.search_with(q, &o, true).unwrap(), b.search_with(q, &o, false).unwrap(), "{q:?} {limit} {offset}");
        }
    }
}

#[test]
fn pruning_keeps_every_hit_on_the_small_book() {
    let queries: Vec<(String, SearchOptions)> = [
        "heart",
        "heart failure",
        "hypertension",
        "hypertensive heart",
        "hyp",
        "chf",
        "gastro-esophageal",
        "gastroesophageal reflux",
        "failure",
        "disease",
        "heart disease",
        "portal",
        "hypertenson",
        "unspecified",
        "congestive",
    ]
    .iter()
    .map(|q| (q.to_string(), opts()))
    .collect();
    assert_pruning_changes_nothing(&book(), &queries, &[(1, 0), (2, 0), (3, 0), (1, 1), (2, 2), (20, 0)]);
}

#[test]
fn pruning_keeps_every_hit_on_the_default_book() {
    let b = Book::open_default().unwrap();
    assert_pruning_changes_nothing(&b, &relevance_queries(), &[(10, 0), (1, 0), (3, 2), (50, 0)]);
}

/// A hit whose title matched holds one string for its title and matched text, and an inclusion
/// term's matched text is the book's own string (no copies to allocate).
#[test]
fn matched_text_shares_the_title_or_the_book_s_string() {
    let b = book();
    let hits = b.search("hypertensive heart", &opts()).unwrap();
    let title = hits.iter().find(|h| h.matched == MatchField::Title).unwrap();
    assert!(Arc::ptr_eq(&title.title, &title.matched_text));
    let term = &b.search("high blood pressure", &opts()).unwrap()[0];
    assert_eq!((term.code.as_str(), term.matched), ("I10", MatchField::InclusionTerm));
    let again = &b.search("high blood pressure", &opts()).unwrap()[0];
    assert!(Arc::ptr_eq(&term.matched_text, &again.matched_text));
}

/// The buffers a thread keeps from one search to the next change no hit: each query gives, after
/// a broad search with a deep page (whose large buffers are dropped) and after the other
/// queries, the hits it gives on a new thread.
#[test]
fn buffers_kept_between_searches_change_nothing() {
    let b = Book::open_default().unwrap();
    let queries = relevance_queries();
    let fresh: Vec<Vec<Hit>> =
        queries.iter().map(|(q, o)| std::thread::scope(|s| s.spawn(|| b.search(q, o).unwrap()).join().unwrap())).collect();
    let deep = SearchOptions { limit: 100, offset: 2000, ..opts() };
    for (i, ((q, o), want)) in queries.iter().zip(&fresh).enumerate() {
        if i % 8 == 0 {
            b.search("a", &deep).unwrap();
        }
        assert_eq!(&b.search(q, o).unwrap(), want, "{q:?} after a deep page");
    }
    for ((q, o), want) in queries.iter().zip(&fresh).rev() {
        assert_eq!(&b.search(q, o).unwrap(), want, "{q:?} after the other queries");
    }
}

/// The spans of a hit read an ASCII text word by word: every title and synonym of the default
/// book gives the words of the full tokeniser.
#[test]
fn ascii_words_are_the_tokens_of_every_text() {
    let b = Book::open_default().unwrap();
    let data = b.data();
    for n in data.nodes.iter() {
        tokenize::tests::assert_ascii_words_agree(&n.title());
        if n.has_short_title() {
            tokenize::tests::assert_ascii_words_agree(&n.short_title());
        }
    }
    for (_, text) in data.notes.values().flatten() {
        tokenize::tests::assert_ascii_words_agree(text);
    }
}

/// The trie gives the term dictionary's term ids and prefix ranges: for every prefix of every
/// term, and for prefixes no term has.
#[test]
fn trie_prefix_ranges_are_the_dictionary_s() {
    let b = Book::open_default().unwrap();
    let index = b.search_index();
    let words = index.words();
    let mut prefixes: Vec<String> = Vec::new();
    for w in words.iter().cloned() {
        for (i, _) in w.char_indices().skip(1) {
            prefixes.push(w[..i].to_string());
        }
        prefixes.push(format!("{w}zz"));
        prefixes.push(w);
    }
    prefixes.extend(["", "~", "\u{7f}", "zzzz", "é", "0"].map(String::from));
    prefixes.sort_unstable();
    prefixes.dedup();
    for p in &prefixes {
        // Term ids are the words' ranks.
        assert_eq!(index.term(p), words.binary_search(p).ok().map(|i| i as index::TermId), "{p:?}");
        let (trie, fst) = (index.prefix_range(p), index.fst_prefix_range(p));
        assert_eq!(trie.is_empty(), fst.is_empty(), "{p:?}");
        if !fst.is_empty() {
            assert_eq!(trie, fst, "{p:?}");
        }
    }
}
