//! The call behind a metered code page: look the code up in the book, then charge the view.

use super::{Decision, Quota};
use crate::book::Book;
use crate::code::System;
use crate::error::Result;
use crate::record::CodeRecord;

/// Looks `code` up in `book` and charges `subject` one view of it: the one call a metered code
/// page makes.
///
/// The code is looked up first, so a malformed or unknown code ([`crate::Error::InvalidCode`],
/// [`crate::Error::NotFound`]) costs no view, and every spelling of a code (`e119`, `E11.9`)
/// is the same unlock: the view is recorded under the canonical code ([`CodeRecord::code`]).
/// A denied view is an [`crate::Error::QuotaExceeded`] (see [`Decision::into_result`]);
/// otherwise the record and the decision are returned. Cost: a lookup plus [`Quota::view`].
///
/// ```
/// use codelookup::{quota::{view_code, Plans, Quota}, Book, Error};
/// let book = Book::open_default()?;
/// let quota = Quota::open(":memory:", Plans::default())?;
/// let (rec, decision) = view_code(&book, &quota, "guest:1", "e119", None, None)?;
/// assert_eq!((rec.code.as_str(), decision.code.as_str(), decision.remaining), ("E11.9", "E11.9", Some(0)));
/// assert!(!view_code(&book, &quota, "guest:1", "E11.9", None, None)?.1.charged, "same code, other spelling: free");
/// assert!(matches!(view_code(&book, &quota, "guest:1", "I10", None, None), Err(Error::QuotaExceeded { .. })));
/// assert!(matches!(view_code(&book, &quota, "guest:2", "E11.99", None, None), Err(Error::NotFound { .. })));
/// assert_eq!(quota.usage("guest:2")?.used, 0, "an unknown code costs no view");
/// # Ok::<(), codelookup::Error>(())
/// ```
pub fn view_code(
    book: &Book,
    quota: &Quota,
    subject: &str,
    code: &str,
    system: Option<System>,
    request_key: Option<&str>,
) -> Result<(CodeRecord, Decision)> {
    let record = book.lookup(code, system)?;
    let decision = quota.view(subject, &record.code, request_key)?.into_result()?;
    Ok((record, decision))
}
