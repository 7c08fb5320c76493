// A typed tour of the API: `tsc --noEmit -p examples` checks it against index.d.ts (the
// package imports itself by name through package.json "exports").
import { Book, Quota, open, openAsync } from 'codelookup'
import type { CodeRecord, CodeRef, Decision, LedgerEntry, PlanInfo, System, Usage, CodeView, CodeEntry, Hit, MatchField, SearchOptions } from 'codelookup'

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
