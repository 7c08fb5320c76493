//! The one conversion of a core [`codelookup::Error`] into a JavaScript `Error`.
//!
//! Every error thrown by the package (or rejecting one of its promises) is an `Error` instance
//! with a stable `code` property to branch on (`NOT_FOUND`, `INVALID_CODE`, `UNKNOWN_SYSTEM`,
//! `INVALID_ARGUMENT`, `NOT_VALID_ON_DATE`, `QUOTA_EXCEEDED`, `BOOK_ERROR`, `STORAGE_ERROR`,
//! `IO_ERROR`: the core's [`codelookup::Error::kind`]) and a message that carries the whole
//! cause chain. Some codes carry data:
//!
//! - `NOT_FOUND`: `suggestions`, the nearest real codes, best first;
//! - `NOT_VALID_ON_DATE`: `date` (the date of service, `"YYYY-MM-DD"`) and `replacedBy` (the
//!   codes that replaced the code, maybe none); the message says when the code was valid;
//! - `QUOTA_EXCEEDED`: `subject`, `remaining`, `limit` (`null`: unlimited) and `reason` (the
//!   sentence to show the user).
//!
//! Wrong argument types are not core errors: `index.js` turns napi-rs' argument conversion
//! failures into `TypeError`s.

use std::error::Error as _;

use codelookup::Error;
use napi::bindgen_prelude::*;

/// Builds the JavaScript error for a core error: an `Error` with `message`, `code` and the
/// data of its variant. Needs the JS thread (`env`): sync calls and `Task::resolve` have it.
pub fn js_error(env: &Env, err: &Error) -> napi::Error {
    build(env, err).unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, format!("{}: {}", err.kind(), message(err))))
}

/// `Result<T, core error>` into a napi result, converting the error with [`js_error`].
pub fn or_throw<T>(env: &Env, result: codelookup::Result<T>) -> napi::Result<T> {
    result.map_err(|e| js_error(env, &e))
}

fn build(env: &Env, err: &Error) -> napi::Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::from_reason(message(err)))?;
    obj.set("code", err.kind())?;
    match err {
        Error::NotFound { suggestions, .. } => obj.set("suggestions", suggestions.clone())?,
        Error::NotValidOnDate { date, replaced_by, .. } => {
            obj.set("date", crate::record::date(*date))?;
            obj.set("replacedBy", replaced_by.clone())?;
        }
        Error::QuotaExceeded { subject, remaining, limit, message } => {
            obj.set("subject", subject.as_str())?;
            obj.set("remaining", count(*remaining))?;
            obj.set("limit", limit.map(count))?;
            obj.set("reason", message.as_str())?;
        }
        _ => {}
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The error's message followed by each cause that it does not already spell out.
fn message(err: &Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = cause.source();
    }
    msg
}

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A whole number from JavaScript (a count, a page size, a chapter, milliseconds), at most
/// `max` (which is at most [`MAX_SAFE_INTEGER`]). JavaScript has only doubles, and napi's
/// integer conversions would silently truncate `1.5` to 1 (and wrap `-1` into a `u32`), so the
/// binding takes an `f64` and refuses fractions, negatives, NaN and infinities with the core's
/// `INVALID_ARGUMENT`.
pub fn whole(what: &str, n: f64, max: u64) -> codelookup::Result<u64> {
    if n.fract() != 0.0 || n < 0.0 {
        return Err(Error::InvalidArgument(format!("{what} must be a whole number, 0 or more, not {n}")));
    }
    if n > max as f64 {
        return Err(Error::InvalidArgument(format!("{what} must be at most {max}, not {n}")));
    }
    Ok(n as u64)
}

/// A count for JavaScript: counts never exceed 2^63 - 1 in the core; JS numbers are exact up
/// to 2^53, which no real count reaches.
pub fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
