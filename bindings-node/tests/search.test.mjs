// Book.search from Node: options, hits as plain objects, spans as JS string indices, errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { openBook, thrown } from './helpers.mjs'

const book = openBook()

test('hits are plain objects, best first', () => {
  const hits = book.search('type 2 diab')
  assert.ok(hits.length > 0 && hits.length <= 20, 'default limit 20')
  assert.ok(hits.slice(0, 5).some((h) => h.code === 'E11.9'))
  const h = hits[0]
  assert.deepEqual(Object.keys(h).sort(), ['billable', 'code', 'matched', 'matchedText', 'score', 'spans', 'system', 'title'])
  assert.equal(Object.getPrototypeOf(h), Object.prototype)
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score, 'sorted by score')
  const code = book.search('e116')[0]
  assert.deepEqual([code.code, code.matched], ['E11.6', 'code'])
  assert.ok(code.score >= 900)
  assert.equal(book.search('hypertenson')[0].code, 'I10')
})

test('spans index matchedText as JavaScript strings do', () => {
  const [h] = book.search('Gastro-esophageal reflux', { systems: ['icd10cm'], billable: true })
  assert.equal(h.code, 'K21.9')
  assert.equal(h.matched, 'title')
  assert.deepEqual(h.spans, [[0, 24]])
  assert.equal(h.matchedText.slice(...h.spans[0]), 'Gastro-esophageal reflux')
  for (const q of ['fracture femur', 'sjogren', 'cafe au lait', 'diab mell', 'chf']) {
    for (const hit of book.search(q, { limit: 50 })) {
      for (const [s, e] of hit.spans) {
        assert.ok(0 <= s && s < e && e <= hit.matchedText.length, `${q}: ${hit.code} span ${s},${e} of ${hit.matchedText}`)
      }
    }
  }
})

test('options: systems, billable, limit, offset, range, chapter, date', () => {
  const opts = { systems: ['icd10cm'], billable: true, limit: 5 }
  const hits = book.search('fracture', opts)
  assert.equal(hits.length, 5)
  assert.ok(hits.every((h) => h.system === 'icd10cm' && h.billable))
  const page2 = book.search('fracture', { ...opts, offset: 5 })
  assert.deepEqual(book.search('fracture', { ...opts, limit: 10 }).slice(5), page2)
  assert.ok(book.search('E11.3', { billable: false }).every((h) => !h.billable))
  assert.ok(book.search('diabetes', { billable: null, limit: 3 }).length === 3)
  assert.ok(book.search('diabetes', { range: ['E08', 'E13'], limit: 50 }).every((h) => h.code >= 'E08' && h.code < 'E14'))
  assert.ok(book.search('diabetes', { chapter: 4, limit: 50 }).every((h) => /^E/.test(h.code)))
  assert.ok(book.search('diabetes', { date: '2024-01-01', limit: 5 }).length > 0)
  assert.deepEqual(book.search('diabetes', { limit: 0 }), [])
  assert.deepEqual(book.search(''), [])
  assert.ok(book.search('LT', { systems: ['HCPCS'] }).every((h) => h.system === 'hcpcs'))
})

test('search errors have codes; wrong types are TypeErrors', async () => {
  for (const opts of [{ limit: 1001 }, { limit: -1 }, { offset: -5 }, { offset: 10001 }, { limit: 1.5 }, { limit: NaN }, { limit: Infinity }, { offset: 2.5 }, { chapter: 99 }, { chapter: 400 }, { chapter: 9.5 }, { date: '2024-13-01' }, { date: 'yesterday' }, { range: ['E11', '??'] }]) {
    const err = thrown(() => book.search('diabetes', opts))
    assert.equal(err.code, 'INVALID_ARGUMENT', `${JSON.stringify(opts)}: ${err.message}`)
    await assert.rejects(book.searchAsync('diabetes', opts), { code: 'INVALID_ARGUMENT' })
  }
  assert.equal(thrown(() => book.search('x'.repeat(100000))).code, 'INVALID_ARGUMENT')
  assert.equal(thrown(() => book.search('diabetes', { systems: ['snomed'] })).code, 'UNKNOWN_SYSTEM')
  for (const call of [() => book.search(5), () => book.search('a', 'b'), () => book.search('a', { limit: 'ten' }), () => book.search('a', { systems: 'icd10cm' }), () => book.search('a', { range: ['E11'] }), () => book.searchAsync(null)]) {
    const err = thrown(call)
    assert.ok(err instanceof TypeError, `${call}: ${err}`)
  }
})
