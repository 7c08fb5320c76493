// Errors: every core error is an Error with a stable `code` (and its data), wrong argument
// types are TypeErrors, and no input crashes the process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileSync, mkdtempSync } from 'node:fs'

import { codelookup, openBook, thrown } from './helpers.mjs'

const book = openBook()

test('NOT_FOUND carries suggestions', () => {
  const err = thrown(() => book.lookup('W21.89A'))
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'NOT_FOUND')
  assert.ok(Array.isArray(err.suggestions))
  assert.equal(err.suggestions[0], 'W21.89XA')
  assert.match(err.message, /W21\.89A/)
  assert.ok(err.stack.includes('errors.test.mjs'), 'the stack points at the caller')
})

test('NOT_VALID_ON_DATE carries the date and the replacements', () => {
  const err = thrown(() => book.lookup('R05', { on: '2021-10-01' }))
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'NOT_VALID_ON_DATE')
  assert.equal(err.date, '2021-10-01')
  assert.deepEqual(err.replacedBy, ['R05.1', 'R05.2', 'R05.3', 'R05.4', 'R05.8', 'R05.9'])
  assert.match(err.message, /R05 was valid until 2021-09-30; replaced by R05\.1/)
})

test('INVALID_CODE, UNKNOWN_SYSTEM', () => {
  for (const input of ['', 'E11..9', 'E11-9', '💉', 'x'.repeat(10000)]) {
    assert.equal(thrown(() => book.lookup(input)).code, 'INVALID_CODE', JSON.stringify(input.slice(0, 20)))
  }
  const err = thrown(() => book.lookup('E11.9', 'snomed'))
  assert.equal(err.code, 'UNKNOWN_SYSTEM')
  assert.match(err.message, /snomed/)
  assert.equal(thrown(() => book.isValid('E11.9', 'snomed')).code, 'UNKNOWN_SYSTEM')
  assert.equal(thrown(() => book.lookupMany(['E11.9'], 'snomed')).code, 'UNKNOWN_SYSTEM')
  assert.equal(book.lookup('E11.9', 'ICD-10-CM').code, 'E11.9', 'system spellings are accepted')
})

test('BOOK_ERROR for missing and corrupt books, sync and async', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'codelookup-node-'))
  const junk = join(dir, 'junk.book')
  writeFileSync(junk, 'not a book at all')
  for (const path of [join(dir, 'missing.book'), junk, junk + '.zst']) {
    if (path.endsWith('.zst')) writeFileSync(path, 'not zstd')
    const err = thrown(() => codelookup.open(path))
    assert.equal(err.code, 'BOOK_ERROR', err.message)
    assert.equal(thrown(() => new codelookup.Book(path)).code, 'BOOK_ERROR')
    await assert.rejects(codelookup.openAsync(path), (e) => e instanceof Error && e.code === 'BOOK_ERROR')
  }
})

test('QUOTA_EXCEEDED carries the counts and the reason', () => {
  const quota = new codelookup.Quota(':memory:')
  book.viewCode(quota, 'guest:1', 'E11.9')
  const err = thrown(() => book.viewCode(quota, 'guest:1', 'I10'))
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'QUOTA_EXCEEDED')
  assert.equal(err.subject, 'guest:1')
  assert.equal(err.remaining, 0)
  assert.equal(err.limit, 1)
  assert.equal(err.reason, '0 code page views remaining. Register to get 5 more views.')
  quota.close()
})

test('INVALID_ARGUMENT and STORAGE_ERROR from the quota', () => {
  const quota = new codelookup.Quota(':memory:')
  assert.equal(thrown(() => quota.view('', 'E11.9')).code, 'INVALID_ARGUMENT')
  assert.equal(thrown(() => quota.setPlan('s', 'platinum')).code, 'INVALID_ARGUMENT')
  assert.equal(thrown(() => quota.grant('s', -1)).code, 'INVALID_ARGUMENT')
  // JavaScript numbers that are not whole are refused, not truncated.
  const fraction = thrown(() => quota.grant('s', 2.5))
  assert.equal(fraction.code, 'INVALID_ARGUMENT')
  assert.match(fraction.message, /extraViews must be a whole number, 0 or more, not 2\.5/)
  assert.equal(quota.usage('s').granted, 0)
  for (const options of [{ plans: [{ name: 'a', limit: 5.5 }] }, { plans: [{ name: 'a', limit: -1 }] }, { busyTimeoutMs: -1 }, { busyTimeoutMs: 1.5 }]) {
    assert.equal(thrown(() => new codelookup.Quota(':memory:', options)).code, 'INVALID_ARGUMENT', JSON.stringify(options))
  }
  assert.equal(thrown(() => new codelookup.Quota(':memory:', { plans: [{ name: 'a', window: 'fortnight' }] })).code, 'INVALID_ARGUMENT')
  assert.equal(thrown(() => new codelookup.Quota(':memory:', { defaultPlan: 'nope' })).code, 'INVALID_ARGUMENT')
  assert.equal(thrown(() => new codelookup.Quota(':memory:', { synchronous: 'sometimes' })).code, 'INVALID_ARGUMENT')
  quota.close()
  assert.equal(quota.closed, true)
  const err = thrown(() => quota.view('s', 'E11.9'))
  assert.equal(err.code, 'STORAGE_ERROR')
  assert.match(err.message, /closed/)
  assert.equal(thrown(() => book.viewCode(quota, 's', 'E11.9')).code, 'STORAGE_ERROR')
  quota.close()

  const dir = mkdtempSync(join(tmpdir(), 'codelookup-node-'))
  const notDb = join(dir, 'not.db')
  writeFileSync(notDb, 'x'.repeat(4096))
  assert.equal(thrown(() => new codelookup.Quota(notDb)).code, 'STORAGE_ERROR')
  assert.equal(thrown(() => new codelookup.Quota(join(dir, 'no', 'such', 'dir', 'q.db'))).code, 'STORAGE_ERROR')
})

test('async calls reject with the same errors', async () => {
  const quota = new codelookup.Quota(':memory:')
  await assert.rejects(book.lookupManyAsync(['E11.9'], 'snomed'), { code: 'UNKNOWN_SYSTEM' })
  await assert.rejects(quota.viewAsync('', 'E11.9'), { code: 'INVALID_ARGUMENT' })
  await book.viewCodeAsync(quota, 'g', 'E11.9')
  await assert.rejects(book.viewCodeAsync(quota, 'g', 'I10'), { code: 'QUOTA_EXCEEDED', remaining: 0, limit: 1 })
  await assert.rejects(book.viewCodeAsync(quota, 'g', 'E11.99'), (e) => e.code === 'NOT_FOUND' && e.suggestions.length > 0)
  quota.close()
  await assert.rejects(quota.usageAsync('g'), { code: 'STORAGE_ERROR' })
})

test('wrong argument types throw TypeError', () => {
  const calls = [
    () => book.lookup(5),
    () => book.lookup(null),
    () => book.lookup(),
    () => book.lookup({ code: 'E11.9' }),
    () => book.lookup('E11.9', 42),
    () => book.lookupMany('E11.9'),
    () => book.lookupMany([1, 2]),
    () => book.isValid(Symbol('x')),
    () => book.lookupManyAsync(7),
    () => codelookup.open(42),
    () => new codelookup.Book(42),
    () => new codelookup.Quota(42),
    () => new codelookup.Quota(':memory:', { plans: 'guest' }),
    () => new codelookup.Quota(':memory:', { plans: [{ limit: 3 }] }),
    () => new codelookup.Quota(':memory:', { freeReviews: 'yes' }),
    () => book.viewCode({}, 's', 'E11.9'),
    () => book.viewCode(book, 's', 'E11.9'),
  ]
  for (const call of calls) {
    const err = thrown(call)
    assert.ok(err instanceof TypeError, `${call}: ${err}`)
    assert.equal(err.code, 'ERR_INVALID_ARG_TYPE', `${call}`)
    assert.match(err.message, /^(Book\.\w+|Quota\.\w+|new Book|new Quota|open|openAsync): \S/, `${call}`)
  }
  // The message names the call.
  assert.match(thrown(() => book.lookup(5)).message, /^Book\.lookup: /)
  assert.match(thrown(() => codelookup.open(42)).message, /^open: /)
  assert.match(thrown(() => new codelookup.Quota(42)).message, /^new Quota: /)
  const quota = new codelookup.Quota(':memory:')
  for (const call of [() => quota.view(1, 'E11.9'), () => quota.grant('s', 'five'), () => quota.viewAsync('s')]) {
    assert.ok(thrown(call) instanceof TypeError, `${call}`)
  }
  assert.match(thrown(() => quota.grant('s', 'five')).message, /^Quota\.grant: /)
  quota.close()
})

test('classes cannot be misused into a crash', () => {
  // A Book needs a path or nothing; calling a method on a foreign object is a TypeError-like
  // error from napi, never a crash.
  const { lookup } = codelookup.Book.prototype
  assert.throws(() => lookup.call({}, 'E11.9'))
  assert.throws(() => lookup.call(null, 'E11.9'))
  assert.throws(() => codelookup.Book.prototype.lookup.call(new codelookup.Quota(':memory:'), 'E11.9'))
})

test('no input crashes the process', async () => {
  const strange = [
    '',
    ' ',
    '\0',
    'E11.9\0',
    '\uD800',
    'E\uDC00',
    '💉💉💉',
    'é11.9',
    'E'.repeat(1 << 20),
    '.'.repeat(100),
    '\u202E9.11E',
    'SELECT * FROM codes',
    '%s%n',
    '../../etc/passwd',
  ]
  let seed = 42
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648)
  for (let i = 0; i < 2000; i++) {
    const len = rnd() % 12
    strange.push(Array.from({ length: len }, () => String.fromCharCode(rnd() % 0x3000)).join(''))
  }
  for (const s of strange) {
    for (const call of [
      () => book.lookup(s),
      () => book.lookupAll(s),
      () => book.isValid(s),
      () => book.isBillable(s),
      () => book.title(s),
      () => book.lookup('E11.9', s),
      () => book.lookup(s, { on: '2024-01-01' }),
      () => book.lookup('E11.9', { on: s }),
      () => book.validOn(s, '2024-01-01'),
      () => book.validOn('E11.9', s, s),
      () => book.checkClaim([s, '99213']),
      () => book.checkClaim([{ code: s, modifiers: [s] }], { date: s }),
      () => book.ptpEdits([s, '99213']),
      () => book.mue(s),
      () => book.crosswalk(s, 'icd9_to_icd10'),
      () => book.crosswalk(s, 'icd10_to_icd9'),
      () => book.crosswalk('250.00', s),
    ]) {
      try {
        call()
      } catch (err) {
        assert.ok(err instanceof Error)
        assert.ok(typeof err.code === 'string', `${JSON.stringify(s.slice(0, 20))}: ${err}`)
      }
    }
  }
  const recs = await book.lookupManyAsync(strange)
  assert.equal(recs.length, strange.length)
  const quota = new codelookup.Quota(':memory:')
  for (const s of strange.slice(0, 200)) {
    try {
      quota.view(s, s, s)
    } catch (err) {
      assert.equal(err.code, 'INVALID_ARGUMENT')
    }
  }
  quota.close()
})
