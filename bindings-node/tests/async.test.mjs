// The Promise-returning variants: same results as the sync calls, run off the main thread (the
// event loop keeps turning while they work), and many of them at once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'

import { codelookup, openBook } from './helpers.mjs'

const book = openBook()
const allCodes = book.codes().map((c) => c.code)

test('openAsync resolves to a Book', async () => {
  const path = process.env.CODELOOKUP_TEST_BOOK
  const b = await (path ? codelookup.openAsync(path) : codelookup.openAsync())
  assert.ok(b instanceof codelookup.Book)
  assert.equal(b.lookup('e119').code, 'E11.9')
  assert.equal(b.path, path ?? null)
})

test('lookupManyAsync equals lookupMany', async () => {
  const sample = allCodes.filter((_, i) => i % 97 === 0).concat(['nope!', 'E11.99', ''])
  const p = book.lookupManyAsync(sample)
  assert.ok(p instanceof Promise)
  assert.deepEqual(await p, book.lookupMany(sample))
  assert.deepEqual(await book.lookupManyAsync(['B20'], 'icd10pcs'), book.lookupMany(['B20'], 'icd10pcs'))
})

test('async work runs off the main thread', async () => {
  const codes = allCodes.slice(0, 20000)
  let ticks = 0
  let done = false
  const work = book.lookupManyAsync(codes).then((r) => {
    done = true
    return r
  })
  while (!done) {
    ticks++
    await tick()
  }
  const recs = await work
  assert.equal(recs.length, codes.length)
  assert.ok(ticks > 1, `the event loop turned ${ticks} times while the batch ran`)
})

test('many concurrent async calls', async () => {
  const batches = Array.from({ length: 200 }, (_, i) => allCodes.slice(i * 50, i * 50 + 50))
  const results = await Promise.all(batches.map((b) => book.lookupManyAsync(b)))
  results.forEach((recs, i) =>
    assert.deepEqual(
      recs.map((r) => r.code),
      batches[i],
    ),
  )
})

test('many concurrent searchAsync calls', async () => {
  const queries = ['diab', 'type 2 diabetes', 'hypertenson', 'chf', 'e11', 'fracture femur', 'j11', 'appendix', 'covid', 'asthma']
  const sync = queries.map((q) => book.search(q, { limit: 10 }))
  const all = await Promise.all(Array.from({ length: 1000 }, (_, i) => book.searchAsync(queries[i % queries.length], { limit: 10 })))
  all.forEach((hits, i) => assert.deepEqual(hits, sync[i % queries.length]))
})
