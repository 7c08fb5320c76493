//! Runs the cross-language cases of `tests/cases/lookup.json` against the Rust API. The Python
//! and Node suites run the same file, so the three APIs cannot drift apart.

use codelookup::{Book, Error, System};
use serde_json::Value;

fn cases() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/lookup.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read lookup.json")).expect("parse lookup.json")
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

#[test]
fn lookup_cases() {
    let book = Book::open_default().unwrap();
    let all = cases();
    let cases = all["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        let result = match case["system"].as_str() {
            Some(s) => s.parse::<System>().and_then(|s| book.lookup(input, Some(s))),
            None => book.lookup(input, None),
        };
        if let Some(kind) = case["error"].as_str() {
            let err = result.expect_err(name);
            assert_eq!(err.kind(), kind, "{name}: {err}");
            if let Some(want) = case.get("suggestions_include") {
                let Error::NotFound { suggestions, .. } = &err else { panic!("{name}: {err:?}") };
                for s in strs(want) {
                    assert!(suggestions.contains(&s), "{name}: {s} not in {suggestions:?}");
                }
            }
            continue;
        }
        let rec = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = serde_json::to_value(&rec).unwrap();
        for (field, want) in case["expect"].as_object().unwrap() {
            assert_eq!(&json[field], want, "{name}: field {field}");
        }
        if let Some(want) = case.get("parents") {
            let got: Vec<_> = rec.parents.iter().map(|p| p.code.clone()).collect();
            assert_eq!(got, strs(want), "{name}: parents");
        }
        for (key, field) in [("billable_descendants_include", "billable_descendants"), ("children_include", "children")] {
            if let Some(want) = case.get(key) {
                let got: Vec<String> = json[field]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().map(String::from).unwrap_or_else(|| v["code"].as_str().unwrap().to_string()))
                    .collect();
                for w in strs(want) {
                    assert!(got.contains(&w), "{name}: {w} not in {field}");
                }
            }
        }
        if let Some(want) = case.get("notes_include") {
            for w in want.as_array().unwrap() {
                assert!(json["notes"].as_array().unwrap().contains(w), "{name}: note {w} missing");
            }
        }
        if let Some(want) = case.get("seventh_character") {
            assert_eq!(&json["seventh_character"], want, "{name}");
        }
        if let Some(want) = case.get("pcs_axes") {
            let got: Vec<_> = rec.pcs_axes.iter().map(|a| a.label.clone()).collect();
            assert_eq!(got, strs(want), "{name}: pcs axes");
        }
        if let Some(want) = case.get("hcpcs") {
            for (field, w) in want.as_object().unwrap() {
                assert_eq!(&json["hcpcs"][field], w, "{name}: hcpcs.{field}");
            }
        }
    }
}

#[test]
fn validity_cases() {
    let book = Book::open_default().unwrap();
    let v = &cases()["valid"];
    for c in strs(&v["valid"]) {
        assert!(book.is_valid(&c, None), "{c} should be valid");
    }
    for c in strs(&v["invalid"]) {
        assert!(!book.is_valid(&c, None), "{c} should not be valid");
    }
    for c in strs(&v["billable"]) {
        assert!(book.is_billable(&c, None), "{c} should be billable");
    }
    for c in strs(&v["not_billable"]) {
        assert!(!book.is_billable(&c, None), "{c} should not be billable");
    }
}

#[test]
fn batch_cases() {
    let book = Book::open_default().unwrap();
    let b = &cases()["batch"];
    let got: Vec<Value> = book.lookup_many(strs(&b["input"]), None).into_iter().map(|r| r.map_or(Value::Null, |r| r.code.into())).collect();
    assert_eq!(&Value::Array(got), &b["codes"]);
}
