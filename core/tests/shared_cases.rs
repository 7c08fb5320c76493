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
            let got: Vec<_> = rec.parents.iter().map(|p| p.code.to_string()).collect();
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
            let got: Vec<_> = rec.pcs_axes.iter().map(|a| a.label.to_string()).collect();
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

fn case_file(name: &str) -> Value {
    let path = format!("{}/../tests/cases/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read case file")).expect("parse case file")
}

fn date(case: &Value) -> chrono::NaiveDate {
    case["date"].as_str().unwrap().parse().unwrap()
}

/// `tests/cases/validity.json`: `valid_on` and `lookup_on`.
#[test]
fn date_of_service_cases() {
    let book = Book::open_default().unwrap();
    let all = case_file("validity.json");
    let cases = all["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        let system = case["system"].as_str().map(|s| s.parse::<System>().unwrap());
        let on = date(case);
        match case["lookup_error"].as_str() {
            Some(kind) => assert_eq!(book.lookup_on(input, system, on).expect_err(name).kind(), kind, "{name}"),
            None if case.get("error").is_none() => assert!(book.lookup_on(input, system, on).is_ok(), "{name}"),
            None => {}
        }
        let result = book.valid_on(input, system, on);
        if let Some(kind) = case["error"].as_str() {
            assert_eq!(result.expect_err(name).kind(), kind, "{name}");
            continue;
        }
        let v = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = serde_json::to_value(&v).unwrap();
        for (field, want) in case["expect"].as_object().unwrap() {
            assert_eq!(&json[field], want, "{name}: field {field}");
        }
        if let Some(want) = case.get("replaced_by") {
            assert_eq!(v.replaced_by, strs(want), "{name}: replaced_by");
        }
        assert!(!v.message.is_empty() && v.message.contains(&v.code), "{name}: {}", v.message);
    }
}

/// `tests/cases/billing.json`: `check_claim` and `crosswalk`.
#[test]
fn billing_cases() {
    use codelookup::billing::ClaimLine;
    let book = Book::open_default().unwrap();
    let all = case_file("billing.json");
    for case in all["claims"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let on = case.get("date").map(|_| date(case));
        let result = strs(&case["lines"])
            .iter()
            .map(|l| ClaimLine::parse(l))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|lines| book.check_claim(&lines, on));
        if let Some(kind) = case["error"].as_str() {
            assert_eq!(result.expect_err(name).kind(), kind, "{name}");
            continue;
        }
        let check = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(check.date_of_service, on, "{name}");
        let ptp: Vec<Value> = check
            .ptp
            .iter()
            .map(|e| serde_json::json!([e.column1, e.column2, e.modifier_indicator, e.bypassed, e.bypass_modifier]))
            .collect();
        assert_eq!(Value::Array(ptp), case["ptp"], "{name}: ptp");
        if let Some(want) = case.get("mue") {
            let mue: Vec<Value> = check.mue.iter().map(|m| serde_json::json!([m.code, m.units, m.mue_value, m.exceeds])).collect();
            assert_eq!(&Value::Array(mue), want, "{name}: mue");
        }
        assert_eq!(serde_json::json!(check.denied_lines), case["denied_lines"], "{name}: denied_lines");
        assert_eq!(Value::Bool(check.clean), case["clean"], "{name}: clean");
    }
    for case in all["crosswalks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let result = case["direction"]
            .as_str()
            .unwrap()
            .parse::<codelookup::crosswalk::Direction>()
            .and_then(|d| book.crosswalk(case["input"].as_str().unwrap(), d));
        if let Some(kind) = case["error"].as_str() {
            assert_eq!(result.expect_err(name).kind(), kind, "{name}");
            continue;
        }
        let maps = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(want) = case.get("targets") {
            assert_eq!(serde_json::json!(maps.iter().map(|m| &m.target).collect::<Vec<_>>()), *want, "{name}: targets");
        }
        if let Some(want) = case.get("approximate") {
            assert!(maps.iter().all(|m| Value::Bool(m.approximate) == *want), "{name}: approximate");
        }
        if let Some(want) = case.get("scenario_2") {
            let got: Vec<Value> =
                maps.iter().filter(|m| m.combination && m.scenario == 2).map(|m| serde_json::json!([m.choice_list, m.target])).collect();
            assert_eq!(&Value::Array(got), want, "{name}: scenario 2");
        }
    }
}
