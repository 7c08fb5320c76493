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

    book.valid_on("M54.5", datetime.date(2021, 10, 1)).valid   # False: replaced by M54.50, ...
    book.lookup("M54.5", on="2021-10-01")     # raises NotValidOnDate (date, replaced_by)
    book.check_claim(["99213", "20610"]).denied_lines           # [0]: an NCCI edit denies 99213
    book.crosswalk("250.00", "icd9_to_icd10") # [Mapping(source='250.00', target='E11.9', ...)]

Every error is a ``CodeLookupError``; see the subclasses for what to catch.
"""

from codelookup._codelookup import (
    Book,
    BookError,
    ClaimCheck,
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
    Mapping,
    Mue,
    MueResult,
    Note,
    NotFound,
    NotValidOnDate,
    PcsAxis,
    Plan,
    PtpEdit,
    Quota,
    QuotaExceeded,
    SeventhCharacter,
    StorageError,
    TitleChange,
    UnknownSystem,
    Usage,
    Validity,
    __version__,
    open,
)

__all__ = [
    "Book",
    "BookError",
    "ClaimCheck",
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
    "Mapping",
    "Mue",
    "MueResult",
    "Note",
    "NotFound",
    "NotValidOnDate",
    "PcsAxis",
    "Plan",
    "PtpEdit",
    "Quota",
    "QuotaExceeded",
    "SeventhCharacter",
    "StorageError",
    "TitleChange",
    "UnknownSystem",
    "Usage",
    "Validity",
    "__version__",
    "open",
]
