// The quota concurrency scenario, as core/tests/quota_concurrency.rs runs it: a few subjects on
// mixed plans, many writers on one file, re-views and retried request keys; afterwards every
// subject's ledger replays row by row to what a serial run decides, the counters equal the
// ledger, nobody went past a limit, and the ledger holds exactly the decisions returned.
import assert from 'node:assert/strict'

export const PLANS = [
  { name: 'guest', limit: 1 },
  { name: 'registered', limit: 6 },
  { name: 'metered', limit: 25 },
  { name: 'unlimited', limit: null },
]
export const CODES = 40

/** Twelve subjects, three on each plan. */
export const SUBJECTS = Array.from({ length: 12 }, (_, i) => [`subject-${i}`, PLANS[i % PLANS.length].name])

/** A small seeded generator (Lehmer), so runs are repeatable. */
export function rng(seed) {
  let s = (seed * 48271) % 2147483647 || 1
  return () => (s = (s * 48271) % 2147483647)
}

/** Puts every subject on its plan. */
export function setup(quota) {
  for (const [subject, plan] of SUBJECTS) quota.setPlan(subject, plan)
}

function checkSubject(quota, subject, plan) {
  const limit = PLANS.find((p) => p.name === plan).limit
  const ledger = quota.ledger(subject)
  const used = new Map()
  const unlocked = new Set()
  for (const e of ledger) {
    assert.equal(e.plan, plan, `${subject}: ${JSON.stringify(e)}`)
    assert.equal(e.limit, limit)
    const u = used.get(e.epoch) ?? 0
    const expected = unlocked.has(`${e.epoch}/${e.code}`)
      ? [true, false]
      : limit === null || u < limit
        ? [true, true]
        : [false, false]
    assert.deepEqual([e.allowed, e.charged], expected, `${subject}: row ${JSON.stringify(e)} is not what a serial run decides`)
    const now = e.charged ? u + 1 : u
    used.set(e.epoch, now)
    if (e.charged) unlocked.add(`${e.epoch}/${e.code}`)
    assert.equal(e.used, now, `${subject}: row ${JSON.stringify(e)} has the wrong count`)
    if (limit !== null) assert.ok(e.used <= limit, `${subject} went past its limit`)
  }
  const usage = quota.usage(subject)
  const charged = ledger.filter((e) => e.charged && e.epoch === usage.epoch).length
  assert.equal(usage.used, charged, `${subject}: counter differs from the ledger`)
  if (limit !== null) assert.ok(usage.used <= limit)
  return ledger
}

/** Checks every subject, and that the ledger holds exactly the fresh decisions returned. */
export function checkAll(quota, seen) {
  const byKey = new Map()
  let rows = 0
  let chargedRows = 0
  for (const [subject, plan] of SUBJECTS) {
    for (const e of checkSubject(quota, subject, plan)) {
      rows++
      if (e.charged) chargedRows++
      if (e.requestKey !== null) {
        assert.ok(!byKey.has(e.requestKey), `key ${e.requestKey} twice in the ledger`)
        byKey.set(e.requestKey, e)
      }
    }
  }
  const fresh = seen.filter((s) => !s.replayed)
  assert.equal(rows, fresh.length, 'ledger rows != fresh decisions returned')
  assert.equal(chargedRows, fresh.filter((s) => s.charged).length, 'charged rows != charged decisions returned')
  for (const s of seen) {
    if (s.key === null) continue
    const e = byKey.get(s.key)
    assert.ok(e, `returned key ${s.key} missing from the ledger`)
    assert.deepEqual([e.code, e.allowed, e.charged], [s.code, s.allowed, s.charged], `key ${s.key}`)
  }
  assert.ok(
    seen.some((s) => s.replayed),
    'no retries',
  )
  assert.ok(
    fresh.some((s) => s.allowed && !s.charged),
    'no free re-views',
  )
  assert.ok(
    fresh.some((s) => !s.allowed),
    'no denials',
  )
}
