// A worker process of the quota concurrency test (quota.test.mjs): `n` views on a shared quota
// file, mostly with fresh request keys, some without, some retries of an earlier key (which
// must replay the first decision exactly). Writes one JSON line per returned decision to
// `<db>.node-<id>.log`. Usage: node quota_worker.mjs ID DB N
import { writeFileSync } from 'node:fs'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import { PLANS, SUBJECTS, CODES, rng } from './quota_scenario.mjs'

const { Quota } = createRequire(import.meta.url)('../index.js')
const [id, db, n] = process.argv.slice(2)
const quota = new Quota(db, { plans: PLANS, defaultPlan: 'guest', busyTimeoutMs: 60000 })
const next = rng(Number(id) + 1)
const seen = []
const firsts = []
for (let i = 0; i < Number(n); i++) {
  const roll = next() % 10
  if (roll === 0 && firsts.length > 0) {
    const [key, first] = firsts[next() % firsts.length]
    const d = quota.view(first.subject, first.code, key)
    assert.deepEqual(d, { ...first, replayed: true }, `retry of ${key} changed its decision`)
    seen.push({ key, subject: d.subject, code: d.code, allowed: d.allowed, charged: d.charged, replayed: true })
    continue
  }
  const subject = SUBJECTS[next() % SUBJECTS.length][0]
  const code = `C${String(next() % CODES).padStart(2, '0')}`
  const key = roll === 1 ? null : `node${id}-${i}`
  const d = quota.view(subject, code, key)
  assert.equal(d.replayed, false, 'a fresh key was replayed')
  seen.push({ key, subject, code, allowed: d.allowed, charged: d.charged, replayed: false })
  if (key) firsts.push([key, d])
}
quota.close()
writeFileSync(`${db}.node-${id}.log`, seen.map((s) => JSON.stringify(s)).join('\n') + '\n')
