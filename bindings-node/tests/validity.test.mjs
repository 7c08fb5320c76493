// Codes on a date of service: `validOn`, and `lookup(code, { system, on })` next to the
// `lookup(code, system)` it keeps working.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { openBook, thrown } from './helpers.mjs'

const book = openBook()

test('lookup with { on } returns the record on a day the code is valid', () => {
  assert.equal(book.lookup('M54.5', { on: '2021-09-30' }).code, 'M54.5')
  assert.equal(book.lookup('m5450', { on: '2021-10-01' }).code, 'M54.50')
  assert.deepEqual(book.lookup('M54.50', { on: '2024-01-01' }), book.lookup('M54.50'), 'the same record as without a date')
  assert.equal(book.lookup('A4397', { system: 'hcpcs', on: '2021-12-31' }).system, 'hcpcs')
  assert.equal(book.lookup('0dtj4zz', { system: 'ICD-10-PCS', on: '2024-05-01' }).code, '0DTJ4ZZ')
})

test('lookup with { on } throws NOT_VALID_ON_DATE with date and replacedBy', () => {
  const err = thrown(() => book.lookup('M54.5', { on: '2021-10-01' }))
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'NOT_VALID_ON_DATE')
  assert.equal(err.date, '2021-10-01')
  assert.deepEqual(err.replacedBy, ['M54.50', 'M54.51', 'M54.59'])
  assert.match(err.message, /M54\.5 was valid until 2021-09-30/)
  assert.ok(err.stack.includes('validity.test.mjs'), 'the stack points at the caller')

  const early = thrown(() => book.lookup('M54.50', { on: '2021-09-30' }))
  assert.equal(early.code, 'NOT_VALID_ON_DATE')
  assert.deepEqual(early.replacedBy, [])
  assert.match(early.message, /valid from 2021-10-01/)
  assert.equal(thrown(() => book.lookup('E11', { on: '2024-01-01' })).code, 'NOT_VALID_ON_DATE', 'a header')
  assert.equal(thrown(() => book.lookup('E11.99', { on: '2024-01-01' })).code, 'NOT_FOUND')
  assert.equal(thrown(() => book.lookup('E11.9', { system: 'snomed', on: '2024-01-01' })).code, 'UNKNOWN_SYSTEM')
})

test('lookup(code, system) and lookup(code, options) without a date are unchanged', () => {
  const rec = book.lookup('B20')
  assert.equal(rec.system, 'icd10cm')
  assert.deepEqual(rec.alsoIn, ['icd10pcs'])
  for (const second of [undefined, null, {}, { system: undefined }, { on: undefined }]) {
    assert.deepEqual(book.lookup('B20', second), rec, JSON.stringify(second))
  }
  assert.equal(book.lookup('B20', 'icd10pcs').system, 'icd10pcs')
  assert.deepEqual(book.lookup('B20', { system: 'icd10pcs' }), book.lookup('B20', 'icd10pcs'))
  assert.deepEqual(book.lookup('b20', { system: 'ICD-10-CM' }), book.lookup('B20', 'icd10cm'))
  // A retired code is still found without a date, and is simply not billable.
  assert.equal(book.lookup('M54.5').billable, false)
})

test('validOn answers with the reason, dates and replacements', () => {
  const v = book.validOn('m545', '2021-10-01')
  assert.deepEqual(v, {
    code: 'M54.5',
    system: 'icd10cm',
    date: '2021-10-01',
    valid: false,
    status: 'no_longer_valid',
    validFrom: '2015-10-01',
    validUntil: '2021-09-30',
    replacedBy: ['M54.50', 'M54.51', 'M54.59'],
    message: 'M54.5 was valid until 2021-09-30; replaced by M54.50, M54.51, M54.59',
  })
  assert.equal(book.validOn('M54.5', '2021-09-30').valid, true)
  assert.equal(book.validOn('E11', '2024-01-01').status, 'not_billable')
  assert.equal(book.validOn('A2030', '2025-03-31', 'hcpcs').status, 'not_yet_valid')
  assert.equal(book.validOn('A2030', '2025-04-01', 'HCPCS').validFrom, '2025-04-01')
  assert.equal(thrown(() => book.validOn('E11.9', '2024-01-01', 'snomed')).code, 'UNKNOWN_SYSTEM')
  assert.equal(thrown(() => book.validOn('E11.99', '2024-01-01')).code, 'NOT_FOUND')
  assert.equal(thrown(() => book.validOn('not a code', '2024-01-01')).code, 'INVALID_CODE')
})

test('malformed dates throw INVALID_ARGUMENT', () => {
  for (const date of ['', 'yesterday', '2021-13-01', '2021-02-30', '01/10/2021', '2021-10-01T00:00:00Z', '2021-10', 'x'.repeat(10000)]) {
    const a = thrown(() => book.validOn('M54.5', date))
    assert.equal(a.code, 'INVALID_ARGUMENT', `${JSON.stringify(date.slice(0, 20))}: ${a.message}`)
    assert.ok(a.message.length < 200, 'the date is quoted short')
    const b = thrown(() => book.lookup('M54.5', { on: date }))
    assert.equal(b.code, 'INVALID_ARGUMENT', JSON.stringify(date.slice(0, 20)))
  }
})

test('wrong types for dates and options are TypeErrors', () => {
  const calls = [
    () => book.lookup('M54.5', { on: 20211001 }),
    () => book.lookup('M54.5', { on: new Date('2021-10-01') }),
    () => book.lookup('M54.5', { system: 5 }),
    () => book.lookup('M54.5', true),
    () => book.lookup(5, { on: '2021-10-01' }),
    () => book.validOn('M54.5'),
    () => book.validOn('M54.5', 20211001),
    () => book.validOn('M54.5', new Date('2021-10-01')),
    () => book.validOn(545, '2021-10-01'),
    () => book.validOn('M54.5', '2021-10-01', 10),
  ]
  for (const call of calls) {
    const err = thrown(call)
    assert.ok(err instanceof TypeError, `${call}: ${err}`)
    assert.equal(err.code, 'ERR_INVALID_ARG_TYPE', `${call}`)
  }
})
