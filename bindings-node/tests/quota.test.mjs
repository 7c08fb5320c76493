// The quota API from Node: semantics, results, async variants, and several processes sharing
// one file (Node workers, and Python workers when the Python package is importable).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { codelookup, openBook, pkgDir, repoDir } from './helpers.mjs'
import { PLANS, SUBJECTS, rng, setup, checkAll } from './quota_scenario.mjs'

const { Quota } = codelookup
const book = openBook()

function tempDb() {
  return join(mkdtempSync(join(tmpdir(), 'codelookup-node-quota-')), 'quota.db')
}

test('a guest sees one code page, re-views it free, registers for more', () => {
  const quota = new Quota(tempDb())
  let d = quota.view('guest:1f3a', 'E11.9', 'req-1')
  assert.deepEqual(
    { allowed: d.allowed, charged: d.charged, used: d.used, limit: d.limit, remaining: d.remaining, plan: d.plan, resetAt: d.resetAt },
    { allowed: true, charged: true, used: 1, limit: 1, remaining: 0, plan: 'guest', resetAt: null },
  )
  assert.equal(quota.view('guest:1f3a', 'E11.9').charged, false)
  d = quota.view('guest:1f3a', 'I10')
  assert.equal(d.allowed, false)
  assert.equal(d.reason, '0 code page views remaining. Register to get 5 more views.')
  const replay = quota.view('guest:1f3a', 'E11.9', 'req-1')
  assert.equal(replay.replayed, true)
  assert.equal(replay.charged, true)

  const u = quota.setPlan('guest:1f3a', 'registered')
  assert.deepEqual([u.used, u.limit, u.remaining, u.plan], [1, 6, 5, 'registered'])
  assert.equal(quota.view('guest:1f3a', 'I10').allowed, true)
  assert.equal(quota.remaining('guest:1f3a'), 4)
  assert.equal(quota.grant('guest:1f3a', 5).remaining, 9)
  assert.equal(quota.usage('guest:1f3a').granted, 5)
  const reset = quota.reset('guest:1f3a')
  assert.deepEqual([reset.used, reset.granted, reset.epoch], [0, 0, 1])

  const ledger = quota.ledger('guest:1f3a')
  assert.equal(ledger.length, 4, 'one row per decided view, replays excluded')
  assert.deepEqual(
    ledger.map((e) => [e.seq, e.code, e.allowed, e.charged]),
    [
      [1, 'E11.9', true, true],
      [2, 'E11.9', true, false],
      [3, 'I10', false, false],
      [4, 'I10', true, true],
    ],
  )
  assert.equal(ledger[0].requestKey, 'req-1')
  assert.equal(ledger[1].requestKey, null)
  assert.match(ledger[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  assert.ok(!Number.isNaN(Date.parse(ledger[0].at)))
  quota.close()
})

test('plans from options, getters, day windows', () => {
  const quota = new Quota(':memory:', {
    plans: [
      { name: 'free', limit: 2, window: 'day:America/New_York', hint: 'Come back tomorrow.' },
      { name: 'paid', limit: null, window: 'month' },
    ],
    freeReviews: false,
  })
  assert.equal(quota.path, ':memory:')
  assert.equal(quota.defaultPlan, 'free')
  assert.equal(quota.freeReviews, false)
  assert.deepEqual(quota.plans, [
    { name: 'free', limit: 2, window: 'day:America/New_York', hint: 'Come back tomorrow.' },
    { name: 'paid', limit: null, window: 'month', hint: null },
  ])
  const d = quota.view('u', 'A00')
  assert.match(d.resetAt, /^\d{4}-\d\d-\d\dT0[45]:00:00\.000Z$/, 'midnight in New York')
  assert.ok(Date.parse(d.resetAt) > Date.now())
  assert.equal(quota.view('u', 'A00').charged, true, 're-views are charged when freeReviews is false')
  assert.equal(quota.view('u', 'A00').allowed, false)
  assert.match(quota.view('u', 'B00').reason, /Come back tomorrow\./)
  assert.equal(quota.setPlan('u', 'paid').remaining, null)
  assert.equal(quota.view('u', 'B00').allowed, true)
  quota.close()
})

test('Book.viewCode charges the canonical code once for every spelling', async () => {
  const quota = new Quota(':memory:')
  const { record, decision } = book.viewCode(quota, 'guest:1', 'e119', { requestKey: 'k1' })
  assert.equal(record.code, 'E11.9')
  assert.equal(record.title, 'Type 2 diabetes mellitus without complications')
  assert.deepEqual([decision.code, decision.charged, decision.remaining], ['E11.9', true, 0])
  assert.equal(book.viewCode(quota, 'guest:1', ' E11.9 ').decision.charged, false)
  assert.equal((await book.viewCodeAsync(quota, 'guest:1', 'E119')).decision.charged, false)
  assert.equal(book.viewCode(quota, 'guest:1', 'e119', { requestKey: 'k1' }).decision.replayed, true)
  assert.equal(book.viewCode(quota, 'guest:2', 'B20', { system: 'icd10pcs' }).record.system, 'icd10pcs')
  assert.throws(() => book.viewCode(quota, 'guest:3', 'E11.99'), { code: 'NOT_FOUND' })
  assert.equal(quota.usage('guest:3').used, 0, 'an unknown code costs no view')
  quota.close()
})

test('async quota calls', async () => {
  const quota = new Quota(tempDb())
  const p = quota.viewAsync('s', 'E11.9', 'k')
  assert.ok(p instanceof Promise)
  const d = await p
  assert.equal(d.allowed, true)
  assert.equal((await quota.viewAsync('s', 'E11.9', 'k')).replayed, true)
  assert.equal((await quota.usageAsync('s')).used, 1)
  assert.equal((await quota.setPlanAsync('s', 'registered')).limit, 6)
  assert.equal((await quota.grantAsync('s', 2)).limit, 8)
  assert.equal((await quota.ledgerAsync('s')).length, 1)
  assert.equal((await quota.resetAsync('s')).used, 0)
  // Many concurrent views of one subject: exactly the limit is charged.
  const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => quota.viewAsync('race', `C${i}`)))
  assert.equal(decisions.filter((x) => x.allowed).length, 1)
  assert.equal(quota.usage('race').used, 1)
  quota.close()
})

test('viewMany decides as views one after another, all or nothing', async () => {
  const batched = new Quota(tempDb(), { plans: PLANS, defaultPlan: 'guest' })
  const serial = new Quota(':memory:', { plans: PLANS, defaultPlan: 'guest' })
  setup(batched)
  setup(serial)
  const next = rng(11)
  const requests = []
  for (let i = 0; i < 200; i++) {
    if (requests.length && next() % 6 === 0) {
      requests.push(requests[next() % requests.length]) // a retry, maybe of a key of this batch
      continue
    }
    const subject = SUBJECTS[next() % SUBJECTS.length][0]
    const code = `C${next() % 8}`
    requests.push(next() % 2 ? { subject, code, requestKey: `k${i}` } : { subject, code })
  }
  const got = batched.viewMany(requests)
  const want = requests.map((r) => serial.view(r.subject, r.code, r.requestKey))
  assert.deepEqual(got, want)
  assert.ok(got.some((d) => d.replayed) && got.some((d) => !d.allowed))
  const strip = (ledger) => ledger.map(({ at, ...rest }) => rest)
  for (const [subject] of SUBJECTS) assert.deepEqual(strip(batched.ledger(subject)), strip(serial.ledger(subject)))
  assert.deepEqual(batched.viewMany([]), [])
  const [d] = await batched.viewManyAsync([{ subject: 'x', code: 'A00', requestKey: null }])
  assert.deepEqual([d.charged, d.used], [true, 1])

  // An error anywhere rolls the whole batch back.
  const before = [batched.usage('x'), batched.ledger('x')]
  assert.throws(
    () => batched.viewMany([{ subject: 'x', code: 'B00' }, { subject: 'x', code: 'C00', requestKey: 'k1' }, { subject: 'x', code: '' }]),
    { code: 'INVALID_ARGUMENT', message: /requests\[2\]: the code is empty/ },
  )
  await assert.rejects(
    batched.viewManyAsync([{ subject: 'x', code: 'B00', requestKey: 'kx' }, { subject: 'x', code: 'C00', requestKey: 'kx' }]),
    { code: 'INVALID_ARGUMENT', message: /requests\[1\]: .*already used/ },
  )
  assert.deepEqual([batched.usage('x'), batched.ledger('x')], before)
  assert.throws(() => batched.viewMany([{ subject: 'x' }]), TypeError)
  batched.close()
  serial.close()
})

/** Runs `cmd args` and resolves when it exits 0. */
function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`))))
  })
}

function readLogs(db, prefix, ids) {
  return ids.flatMap((id) =>
    readFileSync(`${db}.${prefix}-${id}.log`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  )
}

const NODE_WORKERS = 4
const VIEWS = 500

test(`${NODE_WORKERS} Node processes share one quota file`, async () => {
  const db = tempDb()
  const quota = new Quota(db, { plans: PLANS, defaultPlan: 'guest' })
  setup(quota)
  const ids = Array.from({ length: NODE_WORKERS }, (_, i) => i)
  await Promise.all(ids.map((id) => run(process.execPath, [join(pkgDir, 'tests', 'quota_worker.mjs'), id, db, VIEWS])))
  const seen = readLogs(db, 'node', ids)
  assert.equal(seen.length, NODE_WORKERS * VIEWS)
  checkAll(quota, seen)
  quota.close()
})

/**
 * A Python interpreter that can import the codelookup package, and the environment it needs:
 * $CODELOOKUP_PYTHON, the virtual environment of the Python suite (target/py-venv), or python3
 * with the in-tree package (bindings-python/python, after `maturin develop`).
 */
function pythonWithCodelookup() {
  const inTree = { PYTHONPATH: join(repoDir, 'bindings-python', 'python') }
  const candidates = [
    [process.env.CODELOOKUP_PYTHON, {}],
    [join(repoDir, 'target', 'py-venv', 'bin', 'python'), {}],
    ['python3', {}],
    ['python3', inTree],
  ]
  for (const [python, env] of candidates) {
    if (!python) continue
    const r = spawnSync(python, ['-c', 'import codelookup; codelookup.Quota'], { stdio: 'ignore', env: { ...process.env, ...env } })
    if (r.status === 0) return { python, env }
  }
  return null
}

test('Node and Python processes share one quota file', async (t) => {
  const found = pythonWithCodelookup()
  if (!found) {
    t.skip('the Python package is not importable here (set CODELOOKUP_PYTHON to an interpreter that has it)')
    return
  }
  const db = tempDb()
  const quota = new Quota(db, { plans: PLANS, defaultPlan: 'guest' })
  setup(quota)
  const ids = [0, 1, 2]
  await Promise.all([
    ...ids.map((id) => run(process.execPath, [join(pkgDir, 'tests', 'quota_worker.mjs'), id, db, VIEWS])),
    ...ids.map((id) => run(found.python, [join(pkgDir, 'tests', 'quota_worker.py'), String(id + 10), db, String(VIEWS)], found.env)),
  ])
  const seen = [...readLogs(db, 'node', ids), ...readLogs(db, 'python', ids.map((i) => i + 10))]
  assert.equal(seen.length, 2 * ids.length * VIEWS)
  checkAll(quota, seen)
  quota.close()
})
