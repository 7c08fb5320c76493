"""Medical code lookup, search and metered code page views, embedded and offline.

Quick start::

    import codelookup

    book = codelookup.open()                  # the embedded book (ICD-10-CM, ICD-10-PCS, HCPCS)
    rec = book.lookup("e119")
    rec.code, rec.title                       # ('E11.9', 'Type 2 diabetes mellitus without complications')
    book.is_valid("E11.99")                   # False
    book.lookup_many(["E11.9", "nope"])       # [CodeRecord(...), None]

    quota = codelookup.Quota("views.db")      # guest: 1 view, registered: 6, unlimited
    rec, decision = book.view_code(quota, "guest:1f3a", "E11.9")

Every error is a ``CodeLookupError``; see the subclasses for what to catch.
"""

from codelookup._codelookup import (
    Book,
    BookError,
    CodeLookupError,
    CodeRecord,
    CodeRef,
    Decision,
    FileError,
    HcpcsInfo,
    History,
    Hit,
    InvalidArgument,
    InvalidCode,
    LedgerEntry,
    Note,
    NotFound,
    NotValidOnDate,
    PcsAxis,
    Plan,
    Quota,
    QuotaExceeded,
    SeventhCharacter,
    StorageError,
    TitleChange,
    UnknownSystem,
    Usage,
    __version__,
    open,
)

__all__ = [
    "Book",
    "BookError",
    "CodeLookupError",
    "CodeRecord",
    "CodeRef",
    "Decision",
    "FileError",
    "HcpcsInfo",
    "History",
    "Hit",
    "InvalidArgument",
    "InvalidCode",
    "LedgerEntry",
    "Note",
    "NotFound",
    "NotValidOnDate",
    "PcsAxis",
    "Plan",
    "Quota",
    "QuotaExceeded",
    "SeventhCharacter",
    "StorageError",
    "TitleChange",
    "UnknownSystem",
    "Usage",
    "__version__",
    "open",
]
