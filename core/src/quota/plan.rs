//! Plans and windows: how many code page views a subject may use, over which period, and the
//! time zone arithmetic that finds the start of the current period and the next reset.
//!
//! Nothing here touches storage; every function is pure and takes the current time as an
//! argument.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// The period over which a plan's views are counted.
///
/// Day and month boundaries are local midnights in the window's time zone: a `Day` window in
/// `America/New_York` starts at 00:00 New York time (05:00 UTC in winter, 04:00 UTC in summer).
/// When a zone skips midnight (a daylight-saving change at 00:00), the day starts at the first
/// instant that exists on that local date.
///
/// ```
/// use codelookup::quota::Window;
/// let w: Window = "day:America/New_York".parse()?;
/// assert_eq!(w, Window::Day { tz: chrono_tz::America::New_York });
/// assert_eq!(w.to_string(), "day:America/New_York");
/// assert_eq!("month".parse::<Window>()?, Window::Month { tz: chrono_tz::UTC });
/// assert_eq!("lifetime".parse::<Window>()?, Window::Lifetime);
/// # Ok::<(), codelookup::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// Views are counted forever; the counter never resets by itself.
    Lifetime,
    /// Views are counted per calendar day in the zone `tz`.
    Day {
        /// The zone whose local midnight starts a new day.
        tz: Tz,
    },
    /// Views are counted per calendar month in the zone `tz`.
    Month {
        /// The zone whose local midnight of the 1st starts a new month.
        tz: Tz,
    },
}

impl Window {
    /// A day window in UTC.
    pub const DAY_UTC: Window = Window::Day { tz: Tz::UTC };
    /// A calendar-month window in UTC.
    pub const MONTH_UTC: Window = Window::Month { tz: Tz::UTC };

    /// The start of the window that contains `now` (`None` for [`Window::Lifetime`]).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use codelookup::quota::Window;
    /// let now = Utc.with_ymd_and_hms(2025, 3, 9, 3, 30, 0).unwrap();
    /// // 03:30 UTC is still March 8 in New York (UTC-5 until 2025-03-09 07:00 UTC).
    /// let w: Window = "day:America/New_York".parse()?;
    /// assert_eq!(w.start(now), Some(Utc.with_ymd_and_hms(2025, 3, 8, 5, 0, 0).unwrap()));
    /// assert_eq!(Window::Lifetime.start(now), None);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match *self {
            Window::Lifetime => None,
            Window::Day { tz } => Some(local_midnight(tz, local_date(tz, now))),
            Window::Month { tz } => Some(local_midnight(tz, first_of_month(local_date(tz, now)))),
        }
    }

    /// The end of the window that contains `now`, which is when the views reset (`None` for
    /// [`Window::Lifetime`]).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use codelookup::quota::Window;
    /// let now = Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap();
    /// assert_eq!(Window::MONTH_UTC.reset_at(now), Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
    /// ```
    pub fn reset_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match *self {
            Window::Lifetime => None,
            Window::Day { tz } => {
                let today = local_date(tz, now);
                Some(local_midnight(tz, today.succ_opt().unwrap_or(today)))
            }
            Window::Month { tz } => Some(local_midnight(tz, next_first_of_month(local_date(tz, now)))),
        }
    }

    /// The time zone of the window (`None` for [`Window::Lifetime`]).
    pub fn tz(&self) -> Option<Tz> {
        match *self {
            Window::Lifetime => None,
            Window::Day { tz } | Window::Month { tz } => Some(tz),
        }
    }
}

impl fmt::Display for Window {
    /// `lifetime`, `day`, `month` (UTC), or `day:ZONE`, `month:ZONE` with an IANA zone name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, tz) = match *self {
            Window::Lifetime => return f.write_str("lifetime"),
            Window::Day { tz } => ("day", tz),
            Window::Month { tz } => ("month", tz),
        };
        if tz == Tz::UTC {
            f.write_str(kind)
        } else {
            write!(f, "{kind}:{}", tz.name())
        }
    }
}

impl FromStr for Window {
    type Err = Error;

    /// Parses `lifetime`, `day`, `month` (UTC), `day:ZONE` or `month:ZONE` (IANA zone name such
    /// as `Europe/Paris`); case-insensitive for the kind, `daily` and `monthly` accepted too.
    fn from_str(s: &str) -> Result<Window> {
        let s = s.trim();
        let (kind, zone) = match s.split_once(':') {
            Some((k, z)) => (k.trim(), Some(z.trim())),
            None => (s, None),
        };
        let tz = match zone {
            None => Tz::UTC,
            Some(z) => z.parse::<Tz>().map_err(|_| {
                Error::InvalidArgument(format!("unknown time zone {z:?} in window {s:?} (use an IANA name like America/New_York)"))
            })?,
        };
        match kind.to_ascii_lowercase().as_str() {
            "lifetime" if zone.is_none() => Ok(Window::Lifetime),
            "day" | "daily" => Ok(Window::Day { tz }),
            "month" | "monthly" => Ok(Window::Month { tz }),
            _ => Err(Error::InvalidArgument(format!("unknown window {s:?} (expected lifetime, day, month, day:ZONE or month:ZONE)"))),
        }
    }
}

/// A plan: how many code page views a subject on it may use per window.
///
/// ```
/// use codelookup::quota::{Plan, Window};
/// let pro = Plan::new("pro", Some(100), Window::DAY_UTC).with_hint("Upgrade for unlimited views.");
/// assert_eq!(pro.limit, Some(100));
/// let free = Plan::unlimited("staff");
/// assert_eq!(free.limit, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The plan's name, as stored for each subject and passed to `Quota::set_plan`.
    pub name: String,
    /// Views allowed per window; `None` means unlimited.
    pub limit: Option<u64>,
    /// The period over which views are counted.
    pub window: Window,
    /// What the host tells a subject who has no views left, after "0 code page views remaining."
    /// (for a guest: "Register to get 5 more views.").
    pub hint: Option<String>,
}

impl Plan {
    /// A plan with a limit (`None`: unlimited) and a window, without a hint.
    pub fn new(name: impl Into<String>, limit: Option<u64>, window: Window) -> Plan {
        Plan { name: name.into(), limit, window, hint: None }
    }

    /// An unlimited plan (lifetime window, no hint).
    pub fn unlimited(name: impl Into<String>) -> Plan {
        Plan::new(name, None, Window::Lifetime)
    }

    /// The same plan with a hint shown when no views are left.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Plan {
        self.hint = Some(hint.into());
        self
    }
}

/// The set of plans a host offers, the plan of a subject never seen before, and whether
/// re-viewing an unlocked code is free.
///
/// `Plans::default()` matches common code sites:
///
/// | plan | limit | window | hint |
/// | --- | --- | --- | --- |
/// | `guest` (default) | 1 | lifetime | "Register to get 5 more views." |
/// | `registered` | 6 (the guest's 1 plus 5 more) | lifetime | "Upgrade for unlimited views." |
/// | `unlimited` | none | lifetime | |
///
/// ```
/// use codelookup::quota::{Plan, Plans, Window};
/// let plans = Plans::default();
/// assert_eq!(plans.default_plan().name, "guest");
/// assert_eq!(plans.get("registered").and_then(|p| p.limit), Some(6));
///
/// let custom = Plans::new([Plan::new("free", Some(3), Window::DAY_UTC), Plan::unlimited("paid")], "free")?
///     .with_free_reviews(false);
/// assert!(!custom.free_reviews());
/// # Ok::<(), codelookup::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plans {
    plans: Vec<Plan>,
    default: usize,
    free_reviews: bool,
}

impl Plans {
    /// Plans from a list; `default_plan` names the plan of subjects never seen before.
    ///
    /// Errors with [`Error::InvalidArgument`] when a name is empty or repeated, or when
    /// `default_plan` is not in the list.
    pub fn new(plans: impl IntoIterator<Item = Plan>, default_plan: &str) -> Result<Plans> {
        let plans: Vec<Plan> = plans.into_iter().collect();
        for (i, p) in plans.iter().enumerate() {
            if p.name.trim().is_empty() {
                return Err(Error::InvalidArgument("a plan name is empty".into()));
            }
            if plans[..i].iter().any(|q| q.name == p.name) {
                return Err(Error::InvalidArgument(format!("plan {:?} is defined twice", p.name)));
            }
        }
        let default = plans
            .iter()
            .position(|p| p.name == default_plan)
            .ok_or_else(|| Error::InvalidArgument(format!("default plan {default_plan:?} is not defined")))?;
        Ok(Plans { plans, default, free_reviews: true })
    }

    /// Whether viewing a code the subject already unlocked in the current window is free
    /// (`true` unless turned off with [`Plans::with_free_reviews`]).
    pub fn free_reviews(&self) -> bool {
        self.free_reviews
    }

    /// The same plans, with re-views of unlocked codes free (`true`, the default) or charged
    /// like any other view (`false`).
    pub fn with_free_reviews(mut self, free: bool) -> Plans {
        self.free_reviews = free;
        self
    }

    /// The plan called `name`, if defined.
    pub fn get(&self, name: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.name == name)
    }

    /// The plan called `name`, or [`Error::InvalidArgument`] naming the known plans.
    pub fn require(&self, name: &str) -> Result<&Plan> {
        self.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.plans.iter().map(|p| p.name.as_str()).collect();
            Error::InvalidArgument(format!("unknown plan {name:?} (known: {})", known.join(", ")))
        })
    }

    /// The plan of subjects never seen before.
    pub fn default_plan(&self) -> &Plan {
        // `default` is an index checked in `Plans::new` (and fixed in `Default`), and `plans`
        // never shrinks, so it is in bounds.
        &self.plans[self.default]
    }

    /// Every plan, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &Plan> {
        self.plans.iter()
    }
}

impl Default for Plans {
    fn default() -> Plans {
        Plans {
            plans: vec![
                Plan::new("guest", Some(1), Window::Lifetime).with_hint("Register to get 5 more views."),
                Plan::new("registered", Some(6), Window::Lifetime).with_hint("Upgrade for unlimited views."),
                Plan::unlimited("unlimited"),
            ],
            default: 0,
            free_reviews: true,
        }
    }
}

fn local_date(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_first_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}

/// The first instant of the local date `date` in `tz`, in UTC.
fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    let mut t = midnight;
    // A day has at most one gap; every real zone's transitions fall on whole minutes, so
    // stepping minute by minute finds the first existing local time after a gap at midnight.
    for _ in 0..=(26 * 60) {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) => return x.with_timezone(&Utc),
            // Midnight happens twice (clocks went back across it): the day starts at the first.
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    // Unreachable for real zones; fall back to midnight UTC rather than fail.
    Utc.from_utc_datetime(&midnight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::{New_York, Sao_Paulo};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid test time")
    }

    #[test]
    fn day_window_utc() {
        let w = Window::DAY_UTC;
        let now = utc(2025, 6, 30, 23, 59);
        assert_eq!(w.start(now), Some(utc(2025, 6, 30, 0, 0)));
        assert_eq!(w.reset_at(now), Some(utc(2025, 7, 1, 0, 0)));
        let next = utc(2025, 7, 1, 0, 0);
        assert_eq!(w.start(next), Some(next));
        assert_eq!(w.reset_at(next), Some(utc(2025, 7, 2, 0, 0)));
    }

    #[test]
    fn month_window_utc_and_year_end() {
        let w = Window::MONTH_UTC;
        assert_eq!(w.start(utc(2024, 2, 29, 12, 0)), Some(utc(2024, 2, 1, 0, 0)));
        assert_eq!(w.reset_at(utc(2024, 2, 29, 12, 0)), Some(utc(2024, 3, 1, 0, 0)));
        assert_eq!(w.start(utc(2025, 12, 31, 23, 59)), Some(utc(2025, 12, 1, 0, 0)));
        assert_eq!(w.reset_at(utc(2025, 12, 31, 23, 59)), Some(utc(2026, 1, 1, 0, 0)));
    }

    #[test]
    fn day_window_new_york_across_spring_forward() {
        // 2025-03-09: clocks go from 02:00 EST to 03:00 EDT; that day is 23 hours long.
        let w = Window::Day { tz: New_York };
        let before = utc(2025, 3, 9, 4, 59); // 23:59 EST on March 8
        assert_eq!(w.start(before), Some(utc(2025, 3, 8, 5, 0)));
        assert_eq!(w.reset_at(before), Some(utc(2025, 3, 9, 5, 0)));
        let during = utc(2025, 3, 9, 12, 0);
        assert_eq!(w.start(during), Some(utc(2025, 3, 9, 5, 0)));
        // Next midnight is EDT (UTC-4): 23 hours later.
        assert_eq!(w.reset_at(during), Some(utc(2025, 3, 10, 4, 0)));
    }

    #[test]
    fn day_window_new_york_across_fall_back() {
        // 2025-11-02: clocks go from 02:00 EDT back to 01:00 EST; that day is 25 hours long.
        let w = Window::Day { tz: New_York };
        let now = utc(2025, 11, 2, 6, 30); // 01:30 EST, the second 01:30 of the day
        assert_eq!(w.start(now), Some(utc(2025, 11, 2, 4, 0)));
        assert_eq!(w.reset_at(now), Some(utc(2025, 11, 3, 5, 0)));
    }

    #[test]
    fn month_window_new_york_across_dst() {
        let w = Window::Month { tz: New_York };
        // 2025-03-31 23:30 EDT = 2025-04-01 03:30 UTC: still March in New York.
        let now = utc(2025, 4, 1, 3, 30);
        assert_eq!(w.start(now), Some(utc(2025, 3, 1, 5, 0))); // March 1 00:00 EST
        assert_eq!(w.reset_at(now), Some(utc(2025, 4, 1, 4, 0))); // April 1 00:00 EDT
    }

    #[test]
    fn midnight_skipped_by_dst_starts_day_at_first_existing_instant() {
        // Sao Paulo 2018-11-04: clocks jumped from 00:00 to 01:00 (UTC-3 to UTC-2).
        let w = Window::Day { tz: Sao_Paulo };
        let now = utc(2018, 11, 4, 12, 0);
        assert_eq!(w.start(now), Some(utc(2018, 11, 4, 3, 0))); // 01:00 -02
        assert_eq!(w.reset_at(utc(2018, 11, 3, 12, 0)), Some(utc(2018, 11, 4, 3, 0)));
    }

    #[test]
    fn lifetime_has_no_bounds() {
        assert_eq!(Window::Lifetime.start(utc(2025, 1, 1, 0, 0)), None);
        assert_eq!(Window::Lifetime.reset_at(utc(2025, 1, 1, 0, 0)), None);
    }

    #[test]
    fn window_parse_and_display() {
        for s in ["lifetime", "day", "month", "day:America/New_York", "month:Europe/Paris"] {
            let w: Window = s.parse().expect("valid window");
            assert_eq!(w.to_string(), s);
        }
        assert_eq!("DAILY".parse::<Window>().ok(), Some(Window::DAY_UTC));
        assert!(matches!("weekly".parse::<Window>(), Err(Error::InvalidArgument(_))));
        assert!(matches!("day:Mars/Olympus".parse::<Window>(), Err(Error::InvalidArgument(_))));
        assert!(matches!("lifetime:UTC".parse::<Window>(), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn plans_validation() {
        let p = |n: &str| Plan::new(n, Some(1), Window::Lifetime);
        assert!(matches!(Plans::new([p("a"), p("a")], "a"), Err(Error::InvalidArgument(_))));
        assert!(matches!(Plans::new([p("a")], "b"), Err(Error::InvalidArgument(_))));
        assert!(matches!(Plans::new([p(" ")], " "), Err(Error::InvalidArgument(_))));
        let plans = Plans::new([p("a"), p("b")], "b").expect("valid plans");
        assert_eq!(plans.default_plan().name, "b");
        assert!(plans.free_reviews());
        match plans.require("c") {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("known: a, b"), "{m}"),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn default_plans_match_code_sites() {
        let plans = Plans::default();
        assert_eq!(plans.default_plan().name, "guest");
        assert_eq!(plans.get("guest").and_then(|p| p.limit), Some(1));
        assert_eq!(plans.get("registered").and_then(|p| p.limit), Some(6));
        assert_eq!(plans.get("unlimited").map(|p| p.limit), Some(None));
        // The default set is valid by the same rules as `Plans::new`.
        let rebuilt = Plans::new(plans.iter().cloned(), "guest").expect("valid");
        assert_eq!(rebuilt, plans);
    }
}
