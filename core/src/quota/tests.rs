//! Unit tests of the quota rules and of the SQLite store's error paths. Rules that depend on the
//! time run on a [`ManualClock`]; only the checkpointer's test waits (for its thread).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, TimeZone};
use chrono_tz::America::New_York;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid test time")
}

fn quota_at(plans: Plans, t: DateTime<Utc>) -> (Quota, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t));
    let quota = Quota::open_with_clock(":memory:", plans, clock.clone()).expect("open :memory:");
    (quota, clock)
}

fn default_quota() -> (Quota, Arc<ManualClock>) {
    quota_at(Plans::default(), utc(2025, 1, 15, 12, 0))
}

fn one_plan(limit: Option<u64>, window: Window) -> Plans {
    Plans::new([Plan::new("p", limit, window)], "p").expect("valid plans")
}

fn storage_message(r: Result<impl fmt::Debug>) -> String {
    match r {
        Err(Error::Storage(m)) => m,
        other => panic!("expected Error::Storage, got {other:?}"),
    }
}

#[test]
fn quota_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Quota>();
    check::<SqliteStore>();
}

#[test]
fn guest_gets_one_view_and_a_reason_to_register() {
    let (q, _) = default_quota();
    let d = q.view("g", "E11.9", None).expect("view");
    assert!(d.allowed && d.charged && !d.replayed);
    assert_eq!((d.used, d.remaining, d.limit), (1, Some(0), Some(1)));
    assert_eq!(d.plan, "guest");
    assert_eq!(d.reset_at, None);
    assert_eq!(d.reason, "1 of 1 code page view used; 0 remaining. Register to get 5 more views.");

    let d = q.view("g", "I10", None).expect("view");
    assert!(!d.allowed && !d.charged);
    assert_eq!((d.used, d.remaining, d.limit), (1, Some(0), Some(1)));
    assert_eq!(d.reason, "0 code page views remaining. Register to get 5 more views.");
    match d.into_result() {
        Err(Error::QuotaExceeded { subject, remaining, limit, message }) => {
            assert_eq!((subject.as_str(), remaining, limit), ("g", 0, Some(1)));
            assert_eq!(message, "0 code page views remaining. Register to get 5 more views.");
        }
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    assert_eq!(q.remaining("g").expect("remaining"), Some(0));
}

#[test]
fn denied_views_are_in_the_ledger_as_not_charged() {
    let (q, clock) = default_quota();
    q.view("g", "A", Some("k1")).expect("view");
    clock.advance(Duration::seconds(1));
    q.view("g", "B", Some("k2")).expect("view");
    q.view("g", "A", None).expect("view");
    let ledger = q.ledger("g").expect("ledger");
    let rows: Vec<_> = ledger.iter().map(|e| (e.code.as_str(), e.allowed, e.charged, e.request_key.as_deref(), e.used)).collect();
    assert_eq!(rows, [("A", true, true, Some("k1"), 1), ("B", false, false, Some("k2"), 1), ("A", true, false, None, 1)]);
    assert_eq!(ledger[0].at, utc(2025, 1, 15, 12, 0));
    assert_eq!(ledger[1].at, utc(2025, 1, 15, 12, 0) + Duration::seconds(1));
    assert_eq!(ledger.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(q.usage("g").expect("usage").used, 1);
    assert!(q.ledger("nobody").expect("ledger").is_empty());
}

#[test]
fn re_view_is_free_and_allowed_even_at_the_limit() {
    let (q, _) = default_quota();
    assert!(q.view("g", "A", None).expect("view").charged);
    for _ in 0..3 {
        let d = q.view("g", "A", None).expect("view");
        assert!(d.allowed && !d.charged);
        assert_eq!(d.used, 1);
        assert!(d.reason.starts_with("Already unlocked; not charged. "), "{}", d.reason);
    }
    assert_eq!(q.usage("g").expect("usage").used, 1);
}

#[test]
fn re_view_is_charged_when_the_switch_is_off() {
    let plans = one_plan(Some(3), Window::Lifetime).with_free_reviews(false);
    let (q, _) = quota_at(plans, utc(2025, 1, 1, 0, 0));
    for used in 1..=3 {
        let d = q.view("s", "A", None).expect("view");
        assert!(d.allowed && d.charged);
        assert_eq!(d.used, used);
    }
    let d = q.view("s", "A", None).expect("view");
    assert!(!d.allowed && !d.charged);
}

#[test]
fn guest_who_registers_keeps_the_view_used() {
    let (q, _) = default_quota();
    q.view("s", "A", None).expect("view");
    assert!(!q.view("s", "B", None).expect("view").allowed);
    let u = q.set_plan("s", "registered").expect("set_plan");
    assert_eq!((u.plan.as_str(), u.used, u.limit, u.remaining), ("registered", 1, Some(6), Some(5)));
    // The code unlocked as a guest is still unlocked.
    assert!(!q.view("s", "A", None).expect("view").charged);
    for (i, code) in ["B", "C", "D", "E", "F"].iter().enumerate() {
        let d = q.view("s", code, None).expect("view");
        assert!(d.allowed && d.charged, "{code}");
        assert_eq!(d.used, 2 + i as u64);
    }
    let d = q.view("s", "G", None).expect("view");
    assert!(!d.allowed);
    assert_eq!(d.reason, "0 code page views remaining. Upgrade for unlimited views.");
}

#[test]
fn downgrade_keeps_used_and_denies_new_codes() {
    let (q, _) = default_quota();
    q.set_plan("s", "registered").expect("set_plan");
    for code in ["A", "B", "C", "D"] {
        assert!(q.view("s", code, None).expect("view").charged);
    }
    let u = q.set_plan("s", "guest").expect("set_plan");
    assert_eq!((u.used, u.limit, u.remaining), (4, Some(1), Some(0)));
    assert!(!q.view("s", "E", None).expect("view").allowed);
    // Codes unlocked before the downgrade stay readable.
    assert!(q.view("s", "B", None).expect("view").allowed);
    // Unlimited counts views too, so a later downgrade still knows them.
    let u = q.set_plan("s", "unlimited").expect("set_plan");
    assert_eq!((u.used, u.limit, u.remaining), (4, None, None));
    let d = q.view("s", "E", None).expect("view");
    assert!(d.allowed && d.charged);
    assert_eq!((d.used, d.remaining, d.reason.as_str()), (5, None, "Unlimited code page views."));
}

#[test]
fn grant_adds_views_to_the_current_window() {
    let (q, _) = default_quota();
    q.view("s", "A", None).expect("view");
    let u = q.grant("s", 5).expect("grant");
    assert_eq!((u.used, u.limit, u.granted, u.remaining), (1, Some(6), 5, Some(5)));
    for code in ["B", "C", "D", "E", "F"] {
        assert!(q.view("s", code, None).expect("view").allowed, "{code}");
    }
    let d = q.view("s", "G", None).expect("view");
    assert!(!d.allowed);
    assert_eq!(d.limit, Some(6));
    // A grant to a subject never seen starts it on the default plan.
    let u = q.grant("new", 2).expect("grant");
    assert_eq!((u.plan.as_str(), u.used, u.limit), ("guest", 0, Some(3)));
    // Grants saturate instead of overflowing.
    let u = q.grant("new", u64::MAX).expect("grant");
    assert_eq!(u.granted, MAX_COUNT);
}

#[test]
fn reset_starts_a_new_epoch() {
    let (q, _) = default_quota();
    q.view("s", "A", None).expect("view");
    q.grant("s", 1).expect("grant");
    q.view("s", "B", None).expect("view");
    let u = q.reset("s").expect("reset");
    assert_eq!((u.used, u.granted, u.limit, u.epoch), (0, 0, Some(1), 1));
    // A was unlocked in the old epoch: viewing it again is charged.
    let d = q.view("s", "A", None).expect("view");
    assert!(d.allowed && d.charged);
    let epochs: Vec<u64> = q.ledger("s").expect("ledger").iter().map(|e| e.epoch).collect();
    assert_eq!(epochs, [0, 0, 1]);
}

#[test]
fn day_window_rolls_over_at_utc_midnight() {
    let (q, clock) = quota_at(one_plan(Some(2), Window::DAY_UTC), utc(2025, 6, 30, 23, 58));
    let d = q.view("s", "A", None).expect("view");
    assert_eq!(d.reset_at, Some(utc(2025, 7, 1, 0, 0)));
    q.view("s", "B", None).expect("view");
    let d = q.view("s", "C", None).expect("view");
    assert!(!d.allowed);
    assert_eq!(d.reason, "0 code page views remaining. Views reset at 2025-07-01 00:00 UTC.");
    clock.set(utc(2025, 7, 1, 0, 0));
    let d = q.view("s", "C", None).expect("view");
    assert!(d.allowed && d.charged);
    assert_eq!((d.used, d.reset_at), (1, Some(utc(2025, 7, 2, 0, 0))));
    // A was unlocked yesterday: today it costs a view again.
    assert!(q.view("s", "A", None).expect("view").charged);
    assert!(!q.view("s", "B", None).expect("view").allowed);
    assert_eq!(q.usage("s").expect("usage").epoch, 1);
}

#[test]
fn month_window_rolls_over_on_the_first() {
    let (q, clock) = quota_at(one_plan(Some(1), Window::MONTH_UTC), utc(2025, 1, 31, 23, 59));
    q.view("s", "A", None).expect("view");
    assert!(!q.view("s", "B", None).expect("view").allowed);
    clock.set(utc(2025, 2, 1, 0, 0));
    let d = q.view("s", "B", None).expect("view");
    assert!(d.allowed);
    assert_eq!(d.reset_at, Some(utc(2025, 3, 1, 0, 0)));
    // Months of 28 days roll over on time too.
    clock.set(utc(2025, 2, 28, 23, 59));
    assert!(!q.view("s", "C", None).expect("view").allowed);
    clock.set(utc(2025, 3, 1, 0, 0));
    assert!(q.view("s", "C", None).expect("view").allowed);
}

#[test]
fn day_window_in_new_york_across_dst() {
    let plans = one_plan(Some(1), Window::Day { tz: New_York });
    // 2025-03-08 23:30 EST = 2025-03-09 04:30 UTC; DST starts at 02:00 local on March 9.
    let (q, clock) = quota_at(plans, utc(2025, 3, 9, 4, 30));
    let d = q.view("s", "A", None).expect("view");
    assert_eq!(d.reset_at, Some(utc(2025, 3, 9, 5, 0)));
    // 00:00 UTC on March 9 is a UTC midnight but still March 8 in New York.
    clock.set(utc(2025, 3, 9, 4, 59));
    let d = q.view("s", "B", None).expect("view");
    assert!(!d.allowed);
    assert_eq!(d.reason, "0 code page views remaining. Views reset at 2025-03-09 00:00 EST.");
    clock.set(utc(2025, 3, 9, 5, 0));
    let d = q.view("s", "B", None).expect("view");
    assert!(d.allowed);
    // The day of the change is 23 hours long: the next reset is midnight EDT.
    assert_eq!(d.reset_at, Some(utc(2025, 3, 10, 4, 0)));
    clock.set(utc(2025, 3, 10, 3, 59));
    assert!(!q.view("s", "C", None).expect("view").allowed);
    clock.set(utc(2025, 3, 10, 4, 0));
    let d = q.view("s", "C", None).expect("view");
    assert!(d.allowed);
    assert_eq!(d.reason, "1 of 1 code page view used; 0 remaining. Views reset at 2025-03-11 00:00 EDT.");
    // Fall back: 2025-11-02 is 25 hours long in New York.
    clock.set(utc(2025, 11, 2, 4, 0));
    let d = q.view("s", "D", None).expect("view");
    assert!(d.allowed);
    assert_eq!(d.reset_at, Some(utc(2025, 11, 3, 5, 0)));
    clock.set(utc(2025, 11, 3, 4, 59));
    assert!(!q.view("s", "E", None).expect("view").allowed);
    clock.set(utc(2025, 11, 3, 5, 0));
    assert!(q.view("s", "E", None).expect("view").allowed);
}

#[test]
fn month_window_in_new_york() {
    let plans = one_plan(Some(1), Window::Month { tz: New_York });
    // 2025-03-31 23:00 EDT.
    let (q, clock) = quota_at(plans, utc(2025, 4, 1, 3, 0));
    let d = q.view("s", "A", None).expect("view");
    assert_eq!(d.reset_at, Some(utc(2025, 4, 1, 4, 0)));
    clock.set(utc(2025, 4, 1, 3, 59));
    assert!(!q.view("s", "B", None).expect("view").allowed);
    clock.set(utc(2025, 4, 1, 4, 0));
    assert!(q.view("s", "B", None).expect("view").allowed);
}

#[test]
fn clock_going_backwards_never_opens_a_new_window() {
    let (q, clock) = quota_at(one_plan(Some(1), Window::DAY_UTC), utc(2025, 5, 2, 0, 30));
    q.view("s", "A", None).expect("view");
    clock.set(utc(2025, 5, 1, 23, 59)); // NTP stepped back over midnight
    assert!(!q.view("s", "B", None).expect("view").allowed);
    clock.set(utc(2025, 5, 2, 0, 31));
    assert!(!q.view("s", "B", None).expect("view").allowed);
    assert_eq!(q.usage("s").expect("usage").epoch, 0);
}

#[test]
fn grants_end_with_the_window_and_plan_changes_keep_the_window() {
    let plans = Plans::new([Plan::new("daily", Some(1), Window::DAY_UTC), Plan::new("monthly", Some(3), Window::MONTH_UTC)], "daily")
        .expect("plans");
    let (q, clock) = quota_at(plans, utc(2025, 5, 10, 9, 0));
    q.view("s", "A", None).expect("view");
    q.grant("s", 2).expect("grant");
    q.view("s", "B", None).expect("view");
    let u = q.set_plan("s", "monthly").expect("set_plan");
    assert_eq!((u.used, u.limit, u.reset_at), (2, Some(5), Some(utc(2025, 6, 1, 0, 0))));
    // The next day is in the same month: nothing resets.
    clock.set(utc(2025, 5, 11, 9, 0));
    let u = q.usage("s").expect("usage");
    assert_eq!((u.used, u.granted, u.epoch), (2, 2, 0));
    // A new month drops the grant.
    clock.set(utc(2025, 6, 1, 0, 0));
    let u = q.usage("s").expect("usage");
    assert_eq!((u.used, u.granted, u.limit, u.epoch), (0, 0, Some(3), 1));
}

#[test]
fn request_key_replays_the_first_decision_without_charging() {
    let (q, _) = quota_at(one_plan(Some(2), Window::Lifetime), utc(2025, 1, 1, 0, 0));
    let first = q.view("s", "A", Some("req-1")).expect("view");
    assert!(first.charged && !first.replayed);
    let again = q.view("s", "A", Some("req-1")).expect("retry");
    assert_eq!(again, Decision { replayed: true, ..first.clone() });
    assert_eq!(q.usage("s").expect("usage").used, 1);
    assert_eq!(q.ledger("s").expect("ledger").len(), 1);

    // Use up the limit, then retry the first call: still its own (allowed) decision.
    q.view("s", "B", Some("req-2")).expect("view");
    let denied = q.view("s", "C", Some("req-3")).expect("view");
    assert!(!denied.allowed);
    let late = q.view("s", "A", Some("req-1")).expect("late retry");
    assert_eq!(late, Decision { replayed: true, ..first });
    // A retried denial stays a denial and is not re-decided.
    let retry_denied = q.view("s", "C", Some("req-3")).expect("retry");
    assert_eq!(retry_denied, Decision { replayed: true, ..denied });
    assert_eq!(q.usage("s").expect("usage").used, 2);
    assert_eq!(q.ledger("s").expect("ledger").len(), 3);
}

#[test]
fn request_key_replay_survives_a_reset_and_a_new_window() {
    let (q, clock) = quota_at(one_plan(Some(1), Window::DAY_UTC), utc(2025, 1, 1, 10, 0));
    let first = q.view("s", "A", Some("k")).expect("view");
    q.reset("s").expect("reset");
    clock.advance(Duration::days(3));
    assert_eq!(q.view("s", "A", Some("k")).expect("retry"), Decision { replayed: true, ..first });
    assert_eq!(q.usage("s").expect("usage").used, 0);
}

#[test]
fn request_key_reused_for_another_code_is_rejected() {
    let (q, _) = default_quota();
    q.view("s", "A", Some("k")).expect("view");
    match q.view("s", "B", Some("k")) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("already used for code \"A\""), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    assert_eq!(q.ledger("s").expect("ledger").len(), 1);
}

#[test]
fn request_keys_are_scoped_to_their_subject() {
    let (q, _) = default_quota();
    let a = q.view("s", "A", Some("k")).expect("view");
    let b = q.view("t", "B", Some("k")).expect("view");
    assert!(a.charged && b.charged && !b.replayed);
    assert_eq!(q.ledger("t").expect("ledger")[0].request_key.as_deref(), Some("k"));
    // A keyless view never collides with a key, even one that looks like a sequence number.
    q.view("u", "A", None).expect("view");
    assert!(!q.view("u", "B", Some("1")).expect("view").replayed);
}

#[test]
fn unknown_plan_is_invalid_argument() {
    let (q, _) = default_quota();
    match q.set_plan("s", "gold") {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("\"gold\"") && m.contains("guest, registered, unlimited"), "{m}")
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    // Nothing was stored.
    assert_eq!(q.usage("s").expect("usage").plan, "guest");
}

#[test]
fn subject_on_a_plan_the_host_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let t = utc(2025, 1, 1, 0, 0);
    {
        let q = Quota::open_with_clock(&path, Plans::default(), Arc::new(ManualClock::new(t))).expect("open");
        q.set_plan("s", "registered").expect("set_plan");
        q.view("s", "A", None).expect("view");
    }
    let plans = Plans::new([Plan::new("guest", Some(1), Window::Lifetime)], "guest").expect("plans");
    let q = Quota::open_with_clock(&path, plans, Arc::new(ManualClock::new(t))).expect("reopen");
    match q.view("s", "B", None) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("\"registered\""), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    // set_plan moves it off the removed plan, keeping its counters.
    let u = q.set_plan("s", "guest").expect("set_plan");
    assert_eq!((u.used, u.limit), (1, Some(1)));
}

#[test]
fn bad_keys_are_invalid_arguments() {
    let (q, _) = default_quota();
    let long = "x".repeat(MAX_KEY_LEN + 1);
    for (s, c, k) in [("", "A", None), ("s", "", None), ("s", "A", Some("")), (long.as_str(), "A", None), ("s", "A", Some(long.as_str()))] {
        assert!(matches!(q.view(s, c, k), Err(Error::InvalidArgument(_))), "{s:?} {c:?} {k:?}");
    }
    assert!(matches!(q.usage(""), Err(Error::InvalidArgument(_))));
    assert!(matches!(q.grant("", 1), Err(Error::InvalidArgument(_))));
    assert!(matches!(q.ledger(""), Err(Error::InvalidArgument(_))));
    // Any other string is a fine key, SQL included.
    assert!(q.view("'; DROP TABLE ledger; --", "é\u{0}\"", Some("k\n")).expect("view").allowed);
}

#[test]
fn usage_of_an_unseen_subject_stores_nothing() {
    let (q, _) = default_quota();
    let u = q.usage("nobody").expect("usage");
    assert_eq!((u.plan.as_str(), u.used, u.limit, u.remaining), ("guest", 0, Some(1), Some(1)));
    assert_eq!(q.store.load("nobody").expect("load"), None);
}

#[test]
fn zero_limit_plan_denies_everything() {
    let (q, _) = quota_at(one_plan(Some(0), Window::Lifetime), utc(2025, 1, 1, 0, 0));
    let d = q.view("s", "A", None).expect("view");
    assert!(!d.allowed && !d.charged);
    assert_eq!(d.remaining, Some(0));
}

#[test]
fn decisions_serialize_for_bindings() {
    let (q, _) = quota_at(one_plan(Some(1), Window::DAY_UTC), utc(2025, 1, 1, 0, 0));
    let d = q.view("s", "A", Some("k")).expect("view");
    let json = serde_json::to_value(&d).expect("json");
    assert_eq!(json["allowed"], true);
    assert_eq!(json["remaining"], 0);
    assert_eq!(json["reset_at"], "2025-01-02T00:00:00Z");
}

#[test]
fn state_persists_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let clock = Arc::new(ManualClock::new(utc(2025, 1, 1, 0, 0)));
    {
        let q = Quota::open_with_clock(&path, Plans::default(), clock.clone()).expect("open");
        q.view("s", "A", Some("k")).expect("view");
    }
    let q = Quota::open_with_clock(&path, Plans::default(), clock).expect("reopen");
    assert_eq!(q.usage("s").expect("usage").used, 1);
    assert!(q.view("s", "A", Some("k")).expect("retry").replayed);
    assert!(!q.view("s", "B", None).expect("view").allowed);
}

// ---- storage error paths ----

#[test]
fn read_only_file_is_a_clear_storage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    Quota::open(&path, Plans::default()).expect("create");
    let uri = format!("file:{}?mode=ro", path.display());
    let msg = storage_message(Quota::open(&uri, Plans::default()));
    assert!(msg.contains("read-only"), "{msg}");

    // File permissions too, where they apply (root ignores them).
    let mut perms = std::fs::metadata(&path).expect("metadata").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).expect("chmod");
    if std::fs::OpenOptions::new().write(true).open(&path).is_err() {
        let msg = storage_message(Quota::open(&path, Plans::default()));
        assert!(msg.contains("read-only"), "{msg}");
    }
}

#[test]
fn file_that_is_not_sqlite_is_a_clear_storage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not the pages you are looking for\n".repeat(200)).expect("write");
    let msg = storage_message(Quota::open(&path, Plans::default()));
    assert!(msg.contains("is not a SQLite database"), "{msg}");
    assert!(msg.contains("notes.txt"), "{msg}");
}

#[test]
fn another_applications_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY)").expect("create");
    drop(conn);
    let msg = storage_message(Quota::open(&path, Plans::default()));
    assert!(msg.contains("another application"), "{msg}");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    drop(Quota::open(&path, Plans::default()).expect("create"));
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).expect("bump version");
    drop(conn);
    let msg = storage_message(Quota::open(&path, Plans::default()));
    assert!(msg.contains("newer") && msg.contains("upgrade codelookup"), "{msg}");
}

#[test]
fn corrupt_file_is_a_clear_storage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    {
        let q = Quota::open(&path, Plans::default()).expect("create");
        for i in 0..200 {
            q.view(&format!("s{i}"), "A", Some(&format!("k{i}"))).expect("view");
        }
    } // the last connection checkpoints the WAL into the file
    let mut bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() > 8192, "{} bytes", bytes.len());
    // Keep the header page, scribble over every page after it.
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).expect("write");
    let msg = match Quota::open(&path, Plans::default()) {
        Err(e) => storage_message(Err::<(), _>(e)),
        Ok(q) => storage_message(q.view("s1", "B", None)),
    };
    assert!(msg.contains("is corrupt") && msg.contains("restore it from a backup"), "{msg}");
}

#[test]
fn lock_held_past_the_busy_timeout_is_a_clear_storage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let opts = SqliteOptions { busy_timeout: StdDuration::from_millis(50), ..Default::default() };
    let q = Quota::with_store(
        SqliteStore::open_with(&path, &opts).expect("open"),
        Plans::default(),
        Arc::new(ManualClock::new(utc(2025, 1, 1, 0, 0))),
    );
    let other = rusqlite::Connection::open(&path).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let msg = storage_message(q.view("s", "A", None));
    assert!(msg.contains("locked") && msg.contains("50 ms"), "{msg}");
    assert!(storage_message(q.grant("s", 1)).contains("locked"));
    // Reads do not need the write lock (WAL).
    assert_eq!(q.usage("s").expect("usage").used, 0);
    other.execute_batch("ROLLBACK").expect("unlock");
    assert!(q.view("s", "A", None).expect("view").allowed);
}

#[test]
fn missing_directory_is_a_clear_storage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no/such/dir/q.db");
    let msg = storage_message(Quota::open(&path, Plans::default()));
    assert!(msg.contains("cannot open"), "{msg}");
}

#[test]
fn new_files_get_2_kib_pages_and_older_files_keep_theirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page_size = |store: &SqliteStore| -> i64 { store.conn().pragma_query_value(None, "page_size", |r| r.get(0)).expect("page size") };
    let new = SqliteStore::open(dir.path().join("new.db")).expect("open new");
    assert_eq!(page_size(&new), 2048);
    // A file started by an earlier release, with 1 KiB pages (its header written, no tables yet).
    let old_path = dir.path().join("old.db");
    let raw = rusqlite::Connection::open(&old_path).expect("open raw");
    raw.pragma_update(None, "page_size", 1024).expect("page size");
    raw.pragma_update(None, "application_id", super::sqlite::APPLICATION_ID).expect("application id");
    drop(raw);
    let old = SqliteStore::open(&old_path).expect("open old");
    assert_eq!(page_size(&old), 1024);
    let q = Quota::with_store(old, one_plan(Some(2), Window::Lifetime), Arc::new(SystemClock));
    assert!(q.view("s", "A", Some("k")).expect("view").charged);
    assert!(q.view("s", "A", Some("k")).expect("replay").replayed);
}

#[test]
fn durability_setting_is_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    for (sync, expected) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
        let opts = SqliteOptions { synchronous: sync, ..Default::default() };
        let store = SqliteStore::open_with(&path, &opts).expect("open");
        let conn = store.conn();
        let got: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).expect("pragma");
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).expect("pragma");
        assert_eq!((got, mode.as_str()), (expected, "wal"));
    }
}

// ---- view_many ----

/// A small seeded generator (xorshift), so the random mixes repeat.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The default plans plus a daily one, so that windows roll over between batches.
fn mixed_plans() -> Plans {
    let mut list: Vec<Plan> = Plans::default().iter().cloned().collect();
    list.push(Plan::new("daily", Some(3), Window::DAY_UTC));
    Plans::new(list, "guest").expect("plans")
}

const MIX_SUBJECTS: [(&str, &str); 6] =
    [("g1", "guest"), ("g2", "guest"), ("r1", "registered"), ("r2", "registered"), ("u1", "unlimited"), ("d1", "daily")];

/// Random batches: several subjects, a few codes (so re-views), keyless views, new keys, and
/// keys repeated from earlier batches and from earlier in the same batch.
fn random_batches(seed: u64) -> Vec<Vec<(String, String, Option<String>)>> {
    let mut rng = Rng(seed);
    let mut keyed: Vec<(String, String, Option<String>)> = Vec::new();
    let mut batches = Vec::new();
    for b in 0..30 {
        let mut batch = Vec::new();
        for i in 0..1 + rng.below(25) {
            let req = match rng.below(6) {
                0 if !keyed.is_empty() => keyed[rng.below(keyed.len())].clone(),
                roll => {
                    let subject = MIX_SUBJECTS[rng.below(MIX_SUBJECTS.len())].0.to_string();
                    let code = format!("C{}", rng.below(9));
                    let key = (roll % 2 == 0).then(|| format!("b{b}-{i}"));
                    (subject, code, key)
                }
            };
            if req.2.is_some() {
                keyed.push(req.clone());
            }
            batch.push(req);
        }
        batches.push(batch);
    }
    batches
}

fn requests(batch: &[(String, String, Option<String>)]) -> Vec<ViewRequest<'_>> {
    batch.iter().map(|(s, c, k)| ViewRequest::new(s, c, k.as_deref())).collect()
}

/// Everything a quota holds about the mix's subjects.
fn snapshot(q: &Quota) -> Vec<(Usage, Vec<LedgerEntry>)> {
    MIX_SUBJECTS.iter().map(|(s, _)| (q.usage(s).expect("usage"), q.ledger(s).expect("ledger"))).collect()
}

/// A store that only forwards, so `view_many` is the trait's default (one `view` per request).
struct Forwarding(SqliteStore);

impl QuotaStore for Forwarding {
    fn view(&self, subject: &str, code: &str, request_key: Option<&str>, decide: &DecideFn<'_>) -> Result<Decision> {
        self.0.view(subject, code, request_key, decide)
    }
    fn update(&self, subject: &str, at: DateTime<Utc>, change: &ChangeFn<'_>) -> Result<SubjectState> {
        self.0.update(subject, at, change)
    }
    fn load(&self, subject: &str) -> Result<Option<SubjectState>> {
        self.0.load(subject)
    }
    fn ledger(&self, subject: &str) -> Result<Vec<LedgerEntry>> {
        self.0.ledger(subject)
    }
}

#[test]
fn view_many_decides_as_views_one_after_another() {
    for seed in [1, 7, 2025] {
        let clock = Arc::new(ManualClock::new(utc(2025, 3, 1, 20, 0)));
        let batched = Quota::open_with_clock(":memory:", mixed_plans(), clock.clone()).expect("open");
        let serial = Quota::open_with_clock(":memory:", mixed_plans(), clock.clone()).expect("open");
        let store = Forwarding(SqliteStore::open(":memory:").expect("open"));
        let forwarded = Quota::with_store(store, mixed_plans(), clock.clone());
        for q in [&batched, &serial, &forwarded] {
            for (s, plan) in MIX_SUBJECTS {
                q.set_plan(s, plan).expect("set_plan");
            }
        }
        let mut rng = Rng(seed + 1);
        for batch in random_batches(seed) {
            let reqs = requests(&batch);
            let got = batched.view_many(&reqs).expect("view_many");
            let want: Vec<Decision> = reqs.iter().map(|r| serial.view(r.subject, r.code, r.request_key).expect("view")).collect();
            assert_eq!(got, want, "seed {seed}");
            assert_eq!(forwarded.view_many(&reqs).expect("default view_many"), want, "seed {seed}");
            // Between batches: time passes (the daily plan rolls over), and now and then a grant
            // or a reset.
            clock.advance(Duration::hours(rng.below(9) as i64));
            match rng.below(8) {
                0 => [&batched, &serial, &forwarded].iter().for_each(|q| drop(q.grant("g1", 1).expect("grant"))),
                1 => [&batched, &serial, &forwarded].iter().for_each(|q| drop(q.reset("r1").expect("reset"))),
                _ => {}
            }
        }
        let all = snapshot(&batched);
        assert_eq!(all, snapshot(&serial), "seed {seed}");
        assert_eq!(all, snapshot(&forwarded), "seed {seed}");
        // The mix did exercise every path.
        let rows: Vec<&LedgerEntry> = all.iter().flat_map(|(_, l)| l).collect();
        assert!(rows.iter().any(|e| e.allowed && !e.charged), "no free re-views");
        assert!(rows.iter().any(|e| !e.allowed), "no denials");
        assert!(rows.iter().any(|e| e.epoch > 0), "no new windows");
        assert!(all.iter().any(|(u, _)| u.limit.is_none() && u.used > 0), "no unlimited views");
    }
}

#[test]
fn view_many_within_one_batch() {
    let (q, _) = default_quota();
    let d = q
        .view_many(&[
            ViewRequest::new("g", "A", Some("k1")),
            ViewRequest::new("g", "A", None),
            ViewRequest::new("g", "B", Some("k2")),
            ViewRequest::new("g", "A", Some("k1")),
            ViewRequest::new("h", "B", Some("k2")),
        ])
        .expect("view_many");
    let seen: Vec<_> = d.iter().map(|d| (d.allowed, d.charged, d.replayed, d.used)).collect();
    assert_eq!(
        seen,
        [(true, true, false, 1), (true, false, false, 1), (false, false, false, 1), (true, true, true, 1), (true, true, false, 1)]
    );
    assert_eq!(d[3], Decision { replayed: true, ..d[0].clone() });
    assert_eq!(q.ledger("g").expect("ledger").len(), 3, "a replay adds no ledger row");
}

#[test]
fn view_many_error_mid_batch_charges_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q =
        Quota::open_with_clock(dir.path().join("q.db"), Plans::default(), Arc::new(ManualClock::new(utc(2025, 1, 1, 0, 0)))).expect("open");
    q.set_plan("s", "registered").expect("set_plan");
    q.view("s", "A", Some("k")).expect("view");
    let before = (q.usage("s").expect("usage"), q.ledger("s").expect("ledger"), q.usage("t").expect("usage"));
    // Request 3 reuses key "k" (of code A) for code B: the two charged views before it roll back.
    let batch = [
        ViewRequest::new("s", "B", Some("k2")),
        ViewRequest::new("t", "A", None),
        ViewRequest::new("s", "C", None),
        ViewRequest::new("s", "B", Some("k")),
    ];
    match q.view_many(&batch) {
        Err(Error::InvalidArgument(m)) => assert!(m.starts_with("requests[3]: ") && m.contains("already used for code \"A\""), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    let after = (q.usage("s").expect("usage"), q.ledger("s").expect("ledger"), q.usage("t").expect("usage"));
    assert_eq!(after, before);
    assert!(q.ledger("t").expect("ledger").is_empty());
    // An invalid request is refused before anything runs, and named.
    match q.view_many(&[ViewRequest::new("s", "D", None), ViewRequest::new("s", "", None)]) {
        Err(Error::InvalidArgument(m)) => assert_eq!(m, "requests[1]: the code is empty"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    assert_eq!(q.ledger("s").expect("ledger"), before.1);
    // The key "k2" was rolled back with its batch: it is free to use again.
    assert!(!q.view("s", "E", Some("k2")).expect("view").replayed);
}

#[test]
fn view_many_of_nothing_touches_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let opts = SqliteOptions { busy_timeout: StdDuration::from_millis(20), ..Default::default() };
    let q = Quota::with_store(SqliteStore::open_with(&path, &opts).expect("open"), Plans::default(), Arc::new(SystemClock));
    let other = rusqlite::Connection::open(&path).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    // No transaction for an empty batch: the lock held elsewhere does not matter.
    assert_eq!(q.view_many(&[]).expect("empty batch"), []);
    assert!(storage_message(q.view_many(&[ViewRequest::new("s", "A", None)])).contains("locked"));
    other.execute_batch("ROLLBACK").expect("unlock");
    assert_eq!(q.view_many(&[ViewRequest::new("s", "A", None)]).expect("view_many").len(), 1);
}

// ---- the background checkpointer ----

fn wal_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(format!("{}-wal", path.display())).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn background_checkpoints_keep_the_wal_small() {
    use super::checkpoint::FALLBACK_FACTOR;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let threshold = 64;
    let store = SqliteStore::open_checkpointing_at(&path, &SqliteOptions::default(), threshold).expect("open");
    let autocheckpoint: i64 = store.conn().pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0)).expect("pragma");
    assert_eq!(autocheckpoint, 0, "the caller does not checkpoint");
    let page_size: i64 = store.conn().pragma_query_value(None, "page_size", |r| r.get(0)).expect("pragma");
    let wal = store.checkpointer.as_ref().expect("checkpointer").wal.clone();
    let q = Quota::with_store(store, one_plan(None, Window::Lifetime), Arc::new(SystemClock));
    // 3,000 views write about 22 MB of WAL without checkpoints.
    for i in 0..3000 {
        let s = format!("s{}", i % 50);
        q.view(&s, &format!("C{i}"), Some(&format!("k{i}"))).expect("view");
    }
    // How far the WAL grows while a round runs depends on how the threads are scheduled; what
    // is certain is the state once the thread has served its last wake-up: the checkpoint is
    // complete, so the next commit restarts the WAL from its beginning and truncates the file
    // to `journal_size_limit`.
    let deadline = std::time::Instant::now() + StdDuration::from_secs(60);
    while wal.round_pending() {
        assert!(std::time::Instant::now() < deadline, "the checkpointer never finished its round");
        std::thread::sleep(StdDuration::from_millis(5));
    }
    q.view("s0", "last", None).expect("view");
    let bound = u64::try_from(threshold * page_size * FALLBACK_FACTOR).expect("bound");
    assert!(wal_len(&path) <= bound, "WAL of {} bytes, more than {bound}", wal_len(&path));
    drop(q);
    // Everything is in the file, once.
    let q = Quota::open(&path, one_plan(None, Window::Lifetime)).expect("reopen");
    assert_eq!(q.ledger("s7").expect("ledger").len(), 60);
    assert_eq!(q.usage("s7").expect("usage").used, 60);
    assert_eq!(q.usage("s0").expect("usage").used, 61);
}

/// A new file store checkpointing every `pages` frames of WAL (the directory goes with it).
fn checkpointing_store(pages: i64) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_checkpointing_at(&dir.path().join("q.db"), &SqliteOptions::default(), pages).expect("open");
    (dir, store)
}

#[test]
fn checkpointer_rounds_stop_when_caught_up_or_falling_behind() {
    use super::checkpoint::{CATCH_UP_FRAMES, FALLBACK_FACTOR};
    let threshold = 16 << 10;
    let (_dir, store) = checkpointing_store(threshold);
    let wal = &store.checkpointer.as_ref().expect("checkpointer").wal;
    let frames = threshold + 1000;
    wal.committed(frames as std::ffi::c_int);
    // Little left to copy: the last step (writers held off) can start.
    assert!(wal.rounds_done(frames));
    assert!(wal.rounds_done(frames - CATCH_UP_FRAMES));
    // More: another round alongside the writers.
    assert!(!wal.rounds_done(frames - CATCH_UP_FRAMES - 1));
    assert!(!wal.rounds_done(0));
    // The WAL keeps growing faster than the rounds copy: stop before the callers would
    // checkpoint themselves.
    wal.committed(((FALLBACK_FACTOR - 1) * threshold) as std::ffi::c_int);
    assert!(wal.rounds_done(0));
}

#[test]
fn caller_checkpoints_when_the_wal_outgrows_the_checkpointer() {
    let threshold = 16;
    let (_dir, store) = checkpointing_store(threshold);
    let wal = &store.checkpointer.as_ref().expect("checkpointer").wal;
    // Past 4 thresholds: once, then again only a threshold later.
    let hook = |frames: i64| wal.committed(frames as std::ffi::c_int);
    hook(3 * threshold);
    assert!(!wal.caller_should_checkpoint());
    hook(4 * threshold);
    assert!(wal.caller_should_checkpoint());
    hook(4 * threshold + 3);
    assert!(!wal.caller_should_checkpoint());
    hook(5 * threshold);
    assert!(wal.caller_should_checkpoint());
    // After a restart of the WAL the bound starts again.
    hook(2);
    assert!(!wal.caller_should_checkpoint());
    hook(4 * threshold);
    assert!(wal.caller_should_checkpoint());
}

#[test]
fn in_memory_stores_have_no_checkpointer() {
    let store = SqliteStore::open(":memory:").expect("open");
    assert!(store.checkpointer.is_none());
}

#[test]
fn store_closes_cleanly_when_its_file_vanished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let store = SqliteStore::open_checkpointing_at(&path, &SqliteOptions::default(), 8).expect("open");
    let q = Quota::with_store(store, one_plan(None, Window::Lifetime), Arc::new(SystemClock));
    q.view_many(
        &(0..200).map(|i| ("s", format!("C{i}"))).collect::<Vec<_>>().iter().map(|(s, c)| ViewRequest::new(s, c, None)).collect::<Vec<_>>(),
    )
    .expect("view_many");
    drop(dir); // the directory and the files go; the open connections keep working on them
    for i in 0..200 {
        let _ = q.view("s", &format!("D{i}"), None);
    }
    drop(q); // joins the checkpointer; no panic
}

// ---- the schema and its migrations ----

/// A file as version 1 of the schema wrote it (its DDL and rows as that version inserted them):
/// a guest who used its one view and was then denied, and a registered subject with a grant of
/// 3, two charged views and a free re-view.
#[test]
fn version_1_file_migrates_with_its_ledger_counters_and_unlocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v1.db");
    let t0 = utc(2025, 1, 1, 0, 0);
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(sqlite::MIGRATIONS[0]).expect("version 1 schema");
        conn.pragma_update(None, "user_version", 1).expect("user_version");
        conn.pragma_update(None, "application_id", sqlite::APPLICATION_ID).expect("application_id");
        let sql = "
            INSERT INTO subjects VALUES ('g', 'guest', NULL, 0, 1, 0, 2, {t}),
                                        ('r', 'registered', NULL, 0, 2, 3, 3, {t});
            INSERT INTO unlocks VALUES ('g', 'E11.9', 0), ('r', 'A00', 0), ('r', 'B00', 0);
            INSERT INTO ledger VALUES
              ('g', 'k1', 1, 'E11.9', {t}, 0, 1, 1, 1, 'guest', 1, 1, 0, NULL,
               '1 of 1 code page view used; 0 remaining. Register to get 5 more views.'),
              ('g', 2, 2, 'I10', {t}, 0, 0, 0, 0, 'guest', 1, 1, 0, NULL,
               '0 code page views remaining. Register to get 5 more views.'),
              ('r', 'kA', 1, 'A00', {t}, 0, 1, 1, 1, 'registered', 1, 9, 8, NULL,
               '1 of 9 code page views used; 8 remaining.'),
              ('r', 2, 2, 'B00', {t}, 0, 0, 1, 1, 'registered', 2, 9, 7, NULL,
               '2 of 9 code page views used; 7 remaining.'),
              ('r', 'kA2', 3, 'A00', {t}, 0, 1, 1, 0, 'registered', 2, 9, 7, NULL,
               'Already unlocked; not charged. 2 of 9 code page views used; 7 remaining.');";
        conn.execute_batch(&sql.replace("{t}", &t0.timestamp_micros().to_string())).expect("version 1 rows");
    }
    let clock = Arc::new(ManualClock::new(t0 + Duration::hours(1)));
    let q = Quota::open_with_clock(&path, Plans::default(), clock).expect("open and migrate");

    // Counters.
    let g = q.usage("g").expect("usage");
    assert_eq!((g.plan.as_str(), g.used, g.limit, g.remaining), ("guest", 1, Some(1), Some(0)));
    let r = q.usage("r").expect("usage");
    assert_eq!((r.plan.as_str(), r.used, r.limit, r.granted, r.remaining), ("registered", 2, Some(9), 3, Some(7)));

    // The ledger, row by row.
    let rows = |s: &str| -> Vec<_> {
        q.ledger(s)
            .expect("ledger")
            .into_iter()
            .map(|e| (e.seq, e.at, e.code, e.request_key, e.allowed, e.charged, e.plan, e.used, e.limit, e.remaining))
            .collect()
    };
    let k = |s: &str| Some(s.to_owned());
    assert_eq!(
        rows("g"),
        [
            (1, t0, "E11.9".into(), k("k1"), true, true, "guest".into(), 1, Some(1), Some(0)),
            (2, t0, "I10".into(), None, false, false, "guest".into(), 1, Some(1), Some(0)),
        ]
    );
    assert_eq!(
        rows("r"),
        [
            (1, t0, "A00".into(), k("kA"), true, true, "registered".into(), 1, Some(9), Some(8)),
            (2, t0, "B00".into(), None, true, true, "registered".into(), 2, Some(9), Some(7)),
            (3, t0, "A00".into(), k("kA2"), true, false, "registered".into(), 2, Some(9), Some(7)),
        ]
    );

    // Replays return the recorded decisions, reasons included.
    let d = q.view("g", "E11.9", Some("k1")).expect("replay");
    assert!(d.replayed && d.allowed && d.charged);
    assert_eq!((d.used, d.remaining, d.limit), (1, Some(0), Some(1)));
    assert_eq!(d.reason, "1 of 1 code page view used; 0 remaining. Register to get 5 more views.");
    let d = q.view("r", "A00", Some("kA")).expect("replay");
    assert_eq!((d.replayed, d.used, d.remaining, d.reason.as_str()), (true, 1, Some(8), "1 of 9 code page views used; 8 remaining."));
    let d = q.view("r", "A00", Some("kA2")).expect("replay");
    assert_eq!(
        (d.replayed, d.charged, d.reason.as_str()),
        (true, false, "Already unlocked; not charged. 2 of 9 code page views used; 7 remaining.")
    );

    // Unlocks: re-views are free; new codes are charged, and the ledger numbering goes on.
    assert!(!q.view("g", "I10", None).expect("view").allowed);
    let d = q.view("r", "B00", None).expect("re-view");
    assert!(d.allowed && !d.charged);
    let d = q.view("r", "C00", Some("kC")).expect("view");
    assert_eq!((d.charged, d.used, d.remaining), (true, 3, Some(6)));
    assert_eq!(q.ledger("r").expect("ledger").last().map(|e| e.seq), Some(5));
    drop(q);

    let conn = rusqlite::Connection::open(&path).expect("open");
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
}

/// Only the reasons that the counts do not rebuild are stored; a replay returns the recorded
/// sentence even after the host changed the plan's hint.
#[test]
fn replays_return_the_recorded_reason_after_the_plans_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let clock = Arc::new(ManualClock::new(utc(2025, 1, 1, 0, 0)));
    let (first, last) = {
        let q = Quota::open_with_clock(&path, Plans::default(), clock.clone()).expect("open");
        q.set_plan("r", "registered").expect("set_plan");
        let first = q.view("r", "A00", Some("k1")).expect("view");
        for i in 2..6 {
            q.view("r", &format!("C{i}"), None).expect("view");
        }
        let last = q.view("r", "Z00", Some("k6")).expect("view");
        assert_eq!(last.reason, "6 of 6 code page views used; 0 remaining. Upgrade for unlimited views.");
        (first, last)
    };
    let conn = rusqlite::Connection::open(&path).expect("open");
    let stored: Vec<String> = conn
        .prepare("SELECT reason FROM ledger ORDER BY seq")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("reasons");
    assert_eq!(stored.iter().filter(|r| !r.is_empty()).count(), 1, "{stored:?}");
    drop(conn);

    let plans = Plans::new(
        [
            Plan::new("guest", Some(1), Window::Lifetime),
            Plan::new("registered", Some(6), Window::Lifetime).with_hint("Now with a different hint."),
        ],
        "guest",
    )
    .expect("valid plans");
    let q = Quota::open_with_clock(&path, plans, clock).expect("reopen");
    assert_eq!(q.view("r", "A00", Some("k1")).expect("replay"), Decision { replayed: true, ..first });
    assert_eq!(q.view("r", "Z00", Some("k6")).expect("replay"), Decision { replayed: true, ..last });
}

/// The store decides whether to keep a reason with `is_rebuilt_reason`, which compares without
/// building the sentence: it must agree with comparing against `rebuilt_reason` exactly, for
/// the rebuilt sentences, near misses of them and the sentences of other counts.
#[test]
fn is_rebuilt_reason_agrees_with_the_rebuilt_sentence() {
    let limits = [None, Some(0), Some(1), Some(2), Some(9), Some(10), Some(11), Some(100), Some(u64::MAX)];
    let useds = [0, 1, 2, 9, 10, 11, 99, 100, u64::MAX - 1, u64::MAX];
    let flags = [(true, true), (true, false), (false, false), (false, true)];
    let mut candidates = vec![String::new(), "Unlimited code page views. ".to_owned()];
    for limit in limits {
        for used in useds {
            for (allowed, unlocked) in flags {
                let s = counts_reason(allowed, unlocked, used, limit);
                candidates.push(format!("{s} "));
                candidates.push(s[..s.len() - 1].to_owned());
                candidates.push(format!("{s} Register to get 5 more views."));
                candidates.push(s);
            }
        }
    }
    let mut matched = 0;
    for limit in limits {
        for used in useds {
            for (allowed, charged) in flags {
                let rebuilt = rebuilt_reason(allowed, charged, used, limit);
                for reason in &candidates {
                    let expected = rebuilt.as_deref() == Some(reason.as_str());
                    matched += usize::from(expected);
                    assert_eq!(
                        is_rebuilt_reason(reason, allowed, charged, used, limit),
                        expected,
                        "{reason:?} allowed={allowed} charged={charged} used={used} limit={limit:?}"
                    );
                }
            }
        }
    }
    assert!(matched > 100, "{matched}");
}

// ---- the quota VFS ----

#[test]
fn frames_written_through_the_quota_vfs_are_read_by_the_default_vfs() {
    assert_eq!(vfs::name(), Some("codelookup-quota"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    let q = Quota::open(&path, one_plan(None, Window::Lifetime)).expect("open");
    for i in 0..500 {
        q.view(&format!("s{}", i % 7), &format!("C{i}"), Some(&format!("k{i}"))).expect("view");
    }
    // While the quota is open (its WAL not checkpointed away), a connection of the default VFS
    // sees every committed view, in this process or another.
    let plain = rusqlite::Connection::open(&path).expect("open with the default VFS");
    let rows: i64 = plain.query_row("SELECT count(*) FROM ledger", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 500);
    let check: String = plain.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
    // And writes of the default VFS are seen by the quota.
    plain.execute("UPDATE subjects SET used = used + 1000 WHERE subject = 's0'", []).expect("update");
    assert_eq!(q.usage("s0").expect("usage").used, 72 + 1000);
}

/// Rows in the ledger of the quota file at `path` (database and WAL), as a new process would
/// find them after a crash: both files copied to a new directory without the shared memory, so
/// that SQLite (the default VFS) rebuilds the WAL index from the WAL file and keeps only the
/// transactions whose frames are all there, commit frame included, with intact checksums.
fn ledger_rows_after_recovery(path: &std::path::Path) -> i64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).expect("copy the database");
    let wal = format!("{}-wal", path.display());
    if std::path::Path::new(&wal).exists() {
        std::fs::copy(&wal, format!("{}-wal", copy.display())).expect("copy the WAL");
    }
    let plain = rusqlite::Connection::open(&copy).expect("open the copy with the default VFS");
    let check: String = plain.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
    let (rows, charged, used): (i64, i64, i64) = plain
        .query_row(
            "SELECT (SELECT count(*) FROM ledger), (SELECT count(*) FROM ledger WHERE charged),
                    (SELECT coalesce(sum(used), 0) FROM subjects)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("count");
    assert_eq!(charged, used, "the counters equal the ledger");
    rows
}

#[test]
fn every_commit_is_whole_in_the_wal_file_when_the_call_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.db");
    // No checkpoints: everything stays in the WAL file, as written through the VFS.
    let store = SqliteStore::open_checkpointing_at(&path, &SqliteOptions::default(), 1 << 30).expect("open");
    let spill: bool = store.conn().pragma_query_value(None, "cache_spill", |r| r.get(0)).expect("cache_spill");
    assert!(!spill, "the VFS holds frames back: SQLite must write them only to commit");
    let q = Quota::with_store(store, one_plan(None, Window::Lifetime), Arc::new(SystemClock));
    // Another connection (the default VFS, as in another process) sees exactly the committed
    // views after each call.
    let reader = rusqlite::Connection::open(&path).expect("reader");
    let count = |c: &rusqlite::Connection| -> i64 { c.query_row("SELECT count(*) FROM ledger", [], |r| r.get(0)).expect("count") };
    let mut views = 0;
    for i in 0..300 {
        q.view(&format!("s{}", i % 13), &format!("C{i}"), Some(&format!("k{i}"))).expect("view");
        views += 1;
        assert_eq!(count(&reader), views);
        if [0, 1, 2, 9, 56, 299].contains(&i) {
            assert_eq!(ledger_rows_after_recovery(&path), views, "after view {i}");
        }
    }
    // Batches: one commit of many frames each, the last one larger than a run the VFS holds
    // (`MAX_RUN`), so that it is written in parts before its commit frame.
    for (n, size) in [(0, 40), (1, 600), (2, 6000)] {
        let reqs: Vec<(String, String)> = (0..size).map(|j| (format!("b{n}-{}", j % 997), format!("B{n}-{j}"))).collect();
        let reqs: Vec<ViewRequest<'_>> = reqs.iter().map(|(s, c)| ViewRequest::new(s, c, Some(c))).collect();
        q.view_many(&reqs).expect("view_many");
        views += size;
        assert_eq!(count(&reader), views);
        assert_eq!(ledger_rows_after_recovery(&path), views, "after batch {n}");
    }
    assert!(wal_len(&path) > 1 << 21, "the views are in the WAL, not checkpointed");
}

const VFS_KILL_ENV: &str = "CODELOOKUP_QUOTA_VFS_KILL";

/// The worker of `killed_while_writing_a_commit_keeps_exactly_the_commits_before_it`: views
/// (one per commit, or batches of 50) until the VFS kills the process at its 21st run write.
#[test]
fn vfs_kill_worker() {
    let Ok(spec) = std::env::var(VFS_KILL_ENV) else { return };
    let mut parts = spec.split('|');
    let (Some(path), Some(mode), Some(batch)) = (parts.next(), parts.next(), parts.next()) else { panic!("bad spec {spec:?}") };
    let (mode, batch): (u64, usize) = (mode.parse().expect("mode"), batch.parse().expect("batch"));
    let q = Quota::open(path, one_plan(None, Window::Lifetime)).expect("open");
    vfs::fault::kill_at_flush(21, mode);
    for i in 0..1000 {
        let reqs: Vec<(String, String)> = (0..batch).map(|j| (format!("s{}", (i * batch + j) % 7), format!("C{i}-{j}"))).collect();
        if let [(s, c)] = &reqs[..] {
            q.view(s, c, Some(c)).expect("view");
        } else {
            let reqs: Vec<ViewRequest<'_>> = reqs.iter().map(|(s, c)| ViewRequest::new(s, c, Some(c))).collect();
            q.view_many(&reqs).expect("view_many");
        }
    }
    panic!("not killed");
}

#[test]
fn killed_while_writing_a_commit_keeps_exactly_the_commits_before_it() {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().expect("current exe");
    // Killed before writing the commit's run, after half of it, after all but its last byte,
    // and after all of it (then the commit is in the file, and recovery keeps it).
    for (mode, commits) in [(0, 20), (1, 20), (2, 20), (3, 21)] {
        for batch in [1, 50] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("q.db");
            let status = std::process::Command::new(&exe)
                .args(["--exact", "quota::tests::vfs_kill_worker", "--nocapture", "--test-threads=1"])
                .env(VFS_KILL_ENV, format!("{}|{mode}|{batch}", path.display()))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("run the worker");
            assert_eq!(status.signal(), Some(libc::SIGKILL), "mode {mode}, batch {batch}: {status}");
            let expected = commits * batch as i64;
            assert_eq!(ledger_rows_after_recovery(&path), expected, "mode {mode}, batch {batch}");
            // The file itself opens (SQLite recovers the WAL), holds the same, and goes on.
            let q = Quota::open(&path, one_plan(None, Window::Lifetime)).expect("reopen");
            let rows: u64 = (0..7).map(|s| q.ledger(&format!("s{s}")).expect("ledger").len() as u64).sum();
            assert_eq!(rows, expected as u64, "mode {mode}, batch {batch}");
            let used: u64 = (0..7).map(|s| q.usage(&format!("s{s}")).expect("usage").used).sum();
            assert_eq!(used, rows, "mode {mode}, batch {batch}: counters equal the ledger");
            assert!(q.view("s0", "after", Some("after")).expect("view").charged);
            drop(q);
            assert_eq!(ledger_rows_after_recovery(&path), expected + 1);
        }
    }
}
