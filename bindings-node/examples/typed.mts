// A typed tour of the API: `tsc --noEmit -p examples` checks it against index.d.ts (the
// package imports itself by name through package.json "exports").
import { Book, Quota, open, openAsync } from 'codelookup'
import type { CodeRecord, CodeRef, Decision, LedgerEntry, PlanInfo, System, Usage, CodeView, CodeEntry, Hit, MatchField, SearchOptions } from 'codelookup'
import type { LookupOptions, Validity, ValidityStatus, ClaimLine, CheckClaimOptions, ClaimCheck, PtpEdit, Mue, MueResult, Mapping } from 'codelookup'

declare function show(...values: unknown[]): void

// Books: the embedded one, or a file.
const book: Book = open()
const other: Book = await openAsync('/path/to/my.book').catch(() => book)
const same: Book = new Book()
show(book.path, other.systems, same.metadata['format'])

// Lookups.
const rec: CodeRecord = book.lookup('e119')
const system: System = rec.system
const narrowed = book.lookup('B20', 'icd10pcs')
const parents: string[] = rec.parents.map((p: CodeRef) => p.code)
const title: string | null = book.title('E11.9')
const seventh = book.lookup('S72.001A').seventhCharacter?.meaning ?? ''
const hcpcsAdded: string | null = book.lookup('J1100', 'hcpcs').hcpcs?.added ?? null
const all: CodeRecord[] = book.lookupAll('B20')
const many: Array<CodeRecord | undefined | null> = book.lookupMany(['E11.9', 'nope'])
const manyAsync = await book.lookupManyAsync(['E11.9'], 'icd10cm')
const valid: boolean = book.isValid('E11.9') && book.isBillable('E11.9', 'ICD-10-CM')
const codes: CodeEntry[] = book.codes('hcpcs')
if (system === 'icd10cm' && rec.kind === 'code') show(rec.shortTitle, rec.alsoIn, rec.notes[0]?.kind)
show(narrowed, parents, title, seventh, hcpcsAdded, all, many, manyAsync, valid, codes.length)

// Dates of service.
const lookupOptions: LookupOptions = { system: 'icd10cm', on: '2021-09-30' }
const onDate: CodeRecord = book.lookup('M54.5', lookupOptions)
const onlyDate: CodeRecord = book.lookup('M54.50', { on: '2021-10-01' })
const validity: Validity = book.validOn('M54.5', '2021-10-01')
const validityPcs: Validity = book.validOn('0DTJ4ZZ', '2024-05-01', 'icd10pcs')
const status: ValidityStatus = validity.status
const until: string | null = validity.validUntil
if (status === 'no_longer_valid') show(validity.replacedBy.join(', '), validity.message, until)
try {
  book.lookup('M54.5', { on: '2021-10-01' })
} catch (err) {
  const e = err as Error & { code?: string; date?: string; replacedBy?: string[] }
  if (e.code === 'NOT_VALID_ON_DATE') show(e.date, e.replacedBy)
}
// @ts-expect-error a date is a "YYYY-MM-DD" string
book.validOn('M54.5', new Date())
// @ts-expect-error `on` is a string
book.lookup('M54.5', { on: 20211001 })
show(onDate, onlyDate, validityPcs.valid)

// Claims: NCCI edits and MUEs.
const lines: Array<string | ClaimLine> = ['99213-25', { code: '20610', units: 1, modifiers: ['RT'] }, '36415x2']
const claimOptions: CheckClaimOptions = { date: '2026-05-01' }
const check: ClaimCheck = book.checkClaim(lines, claimOptions)
const edit: PtpEdit | undefined = check.ptp[0]
if (edit) show(edit.column1, edit.column2, edit.column1Line, edit.modifierIndicator, edit.bypassed, edit.bypassModifier, edit.effective)
const mueResults: MueResult[] = check.mue
const denied: number[] = check.deniedLines
show(check.clean, check.editsDated, check.dateOfService, mueResults[0]?.exceeds, denied, book.checkClaim(['99213', '20610']).clean)
const edits: PtpEdit[] = book.ptpEdits(['99214', '99213'])
const mue: Mue | null = book.mue('36415')
show(edits.length, mue?.mueValue, mue?.adjudicationIndicator)
// @ts-expect-error a claim line is a string or an object with a code
book.checkClaim([99213])
// @ts-expect-error units are a number
book.checkClaim([{ code: '99213', units: '2' }])

// Crosswalk (GEMs).
const maps: Mapping[] = book.crosswalk('250.00', 'icd9_to_icd10')
const target: string | null = maps[0]?.target ?? null
show(target, maps.filter((m) => m.combination).map((m) => [m.scenario, m.choiceList, m.noMap, m.approximate]))

// Search.
const options: SearchOptions = { systems: ['icd10cm'], billable: true, range: ['E08', 'E13'], chapter: 4, date: '2024-10-01', limit: 5, offset: 0 }
const hits: Hit[] = book.search('type 2 diab', options)
const first: Hit | undefined = hits[0]
if (first) {
  const matched: MatchField = first.matched
  const highlighted: string[] = first.spans.map(([start, end]) => first.matchedText.slice(start, end))
  show(first.code, first.score, matched, highlighted)
}
const typos: Hit[] = await book.searchAsync('hypertenson', { billable: null })
show(typos.length, book.search('e11'))

// Errors carry a code (and data).
try {
  book.lookup('W21.89A')
} catch (err) {
  const e = err as Error & { code?: string; suggestions?: string[] }
  if (e.code === 'NOT_FOUND') show(e.suggestions)
}

// Quotas.
const quota = new Quota('/tmp/quota.db', {
  plans: [
    { name: 'free', limit: 2, window: 'day:America/New_York', hint: 'Come back tomorrow.' },
    { name: 'paid', limit: null },
  ],
  defaultPlan: 'free',
  freeReviews: true,
  busyTimeoutMs: 2000,
  synchronous: 'normal',
})
const d: Decision = quota.view('user:1', 'E11.9', 'request-1')
const remaining: number | null = d.remaining
const resetAt: Date | null = d.resetAt === null ? null : new Date(d.resetAt)
const d2: Decision = await quota.viewAsync('user:1', 'I10')
const u: Usage = quota.usage('user:1')
const u2: Usage = await quota.usageAsync('user:1')
const granted: Usage = await quota.grantAsync('user:1', 5)
const moved: Usage = quota.setPlan('user:1', 'paid')
const reset: Usage = await quota.resetAsync('user:1')
const ledger: LedgerEntry[] = await quota.ledgerAsync('user:1')
const plans: PlanInfo[] = quota.plans
const view: CodeView = book.viewCode(quota, 'user:2', 'e119', { requestKey: 'r2' })
const viewAsync: CodeView = await book.viewCodeAsync(quota, 'user:2', 'e119')
show(d, remaining, resetAt, d2, u, u2, granted, moved, reset, ledger, plans, view.record.title, viewAsync.decision.charged)
show(quota.remaining('user:1'), quota.grant('user:1', 1), quota.reset('user:1'), quota.ledger('user:1'), await quota.setPlanAsync('user:1', 'free'))
show(quota.path, quota.defaultPlan, quota.freeReviews, quota.closed)
quota.close()
