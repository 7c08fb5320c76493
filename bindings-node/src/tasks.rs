//! The work behind the Promise-returning calls: napi `Task`s whose `compute` runs a core call
//! on the libuv thread pool and whose `resolve` (on the JS thread) turns a core error into the
//! package's JS error. No async runtime is involved.
//!
//! Each task type is a [`Work`] (a boxed closure) with a fixed result type, so the generated
//! `index.d.ts` knows what each Promise resolves to.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::book::{Book, CodeView};
use crate::error::or_throw;
use crate::quota::{Decision, LedgerEntry, Usage};
use crate::record::CodeRecord;
use crate::search::Hit;

type Job<T> = Box<dyn FnOnce() -> codelookup::Result<T> + Send>;

/// A core call to run once on the thread pool.
pub struct Work<T>(Option<Job<T>>);

impl<T> Work<T> {
    /// Wraps the call.
    pub fn new(f: impl FnOnce() -> codelookup::Result<T> + Send + 'static) -> Work<T> {
        Work(Some(Box::new(f)))
    }

    /// Runs the call. A panic becomes an error instead of unwinding into libuv (which would
    /// abort the process).
    fn run(&mut self) -> Result<codelookup::Result<T>> {
        let job = self.0.take().ok_or_else(|| Error::from_reason("codelookup: task ran twice"))?;
        catch_unwind(AssertUnwindSafe(job)).map_err(|panic| {
            let what =
                panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            Error::from_reason(format!("codelookup: internal error (panic): {what}"))
        })
    }
}

macro_rules! tasks {
    ($($(#[$doc:meta])* $name:ident => $js:ty;)*) => {$(
        $(#[$doc])*
        pub struct $name(pub Work<$js>);

        #[napi]
        impl Task for $name {
            type Output = codelookup::Result<$js>;
            type JsValue = $js;

            fn compute(&mut self) -> Result<Self::Output> {
                self.0.run()
            }

            fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
                or_throw(&env, output)
            }
        }
    )*};
}

tasks! {
    /// Opens a book.
    BookTask => Book;
    /// Looks many codes up.
    RecordsTask => Vec<Option<CodeRecord>>;
    /// Looks a code up and charges its view.
    CodeViewTask => CodeView;
    /// Decides a view.
    DecisionTask => Decision;
    /// Decides a batch of views.
    DecisionsTask => Vec<Decision>;
    /// Reads or changes a subject's counters.
    UsageTask => Usage;
    /// Reads a subject's ledger.
    LedgerTask => Vec<LedgerEntry>;
    /// Searches.
    HitsTask => Vec<Hit>;
}
