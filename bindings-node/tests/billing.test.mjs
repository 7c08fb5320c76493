// Claims against the NCCI edits (`checkClaim`, `ptpEdits`, `mue`) and the GEM crosswalk: lines
// as strings or objects, results as plain objects, errors with their codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { openBook, thrown } from './helpers.mjs'

const book = openBook()

test('checkClaim takes object lines like their strings', () => {
  const pairs = [
    [['99213', '20610'], [{ code: '99213' }, { code: '20610' }]],
    [['99213-25', '20610'], [{ code: '99213', modifiers: ['25'] }, { code: '20610', units: 1, modifiers: [] }]],
    [['36415x3'], [{ code: '36415', units: 3 }]],
    [['j1100x120'], [{ code: 'j1100', units: 120 }]],
    [['20610x2-rt-59', '99213'], [{ code: '20610', units: 2, modifiers: ['rt', '59'] }, '99213']],
  ]
  for (const [strings, objects] of pairs) {
    assert.deepEqual(book.checkClaim(objects), book.checkClaim(strings), JSON.stringify(strings))
  }
  const mixed = book.checkClaim([{ code: '99213', modifiers: ['25'] }, '20610'], { date: '2026-05-01' })
  assert.equal(mixed.clean, true)
  assert.equal(mixed.dateOfService, '2026-05-01')
  assert.equal(mixed.editsDated, false, 'the default book has undated edits')
  assert.deepEqual(mixed.ptp[0], {
    column1: '20610',
    column2: '99213',
    column1Line: 1,
    column2Line: 0,
    modifierIndicator: 1,
    rationale: mixed.ptp[0].rationale,
    effective: null,
    deleted: null,
    bypassed: true,
    bypassModifier: '25',
  })
  assert.ok(mixed.ptp[0].rationale.length > 0)
})

test('checkClaim results: MUEs, denied lines, an empty claim', () => {
  const check = book.checkClaim([{ code: '36415', units: 3 }, '99213'])
  const mue = check.mue.find((m) => m.code === '36415')
  assert.deepEqual(mue.lines, [0])
  assert.equal(mue.units, 3)
  assert.equal(mue.mueValue, 2)
  assert.equal(mue.adjudicationIndicator, 3)
  assert.equal(mue.exceeds, true)
  assert.equal(typeof mue.rationale, 'string')
  assert.deepEqual(check.deniedLines, [0])
  assert.equal(check.clean, false)
  const empty = book.checkClaim([])
  assert.deepEqual(empty, { dateOfService: null, editsDated: false, ptp: [], mue: [], deniedLines: [], clean: true })
  assert.deepEqual(book.checkClaim(['99213'], {}), book.checkClaim(['99213'], null))
})

test('checkClaim errors carry their codes', () => {
  const cases = [
    [['E11.9'], 'INVALID_CODE'],
    [[{ code: 'E11.9' }], 'INVALID_CODE'],
    [[{ code: '' }], 'INVALID_CODE'],
    [['99213x0'], 'INVALID_ARGUMENT'],
    [[{ code: '99213', units: 0 }], 'INVALID_ARGUMENT'],
    [[{ code: '99213', units: 1.5 }], 'INVALID_ARGUMENT'],
    [[{ code: '99213', units: -2 }], 'INVALID_ARGUMENT'],
    [[{ code: '99213', units: NaN }], 'INVALID_ARGUMENT'],
    [[{ code: '99213', units: Infinity }], 'INVALID_ARGUMENT'],
    [[{ code: '99213', units: 2 ** 32 }], 'INVALID_ARGUMENT'],
    [['99213-5'], 'INVALID_ARGUMENT'],
    [[{ code: '99213', modifiers: ['5'] }], 'INVALID_ARGUMENT'],
    [[{ code: '99213', modifiers: ['255'] }], 'INVALID_ARGUMENT'],
  ]
  for (const [lines, code] of cases) {
    const err = thrown(() => book.checkClaim(lines))
    assert.ok(err instanceof Error && !(err instanceof TypeError), `${JSON.stringify(lines)}: ${err}`)
    assert.equal(err.code, code, `${JSON.stringify(lines)}: ${err.message}`)
  }
  assert.equal(thrown(() => book.checkClaim(['99213'], { date: '2026-02-30' })).code, 'INVALID_ARGUMENT')
  assert.equal(thrown(() => book.checkClaim(['99213'], { date: 'today' })).code, 'INVALID_ARGUMENT')
})

test('checkClaim: wrong types are TypeErrors', () => {
  const calls = [
    () => book.checkClaim(),
    () => book.checkClaim('99213'),
    () => book.checkClaim({ code: '99213' }),
    () => book.checkClaim([99213]),
    () => book.checkClaim([null]),
    () => book.checkClaim([['99213']]),
    () => book.checkClaim([{ units: 2 }]),
    () => book.checkClaim([{ code: 99213 }]),
    () => book.checkClaim([{ code: '99213', units: '2' }]),
    () => book.checkClaim([{ code: '99213', modifiers: '25' }]),
    () => book.checkClaim([{ code: '99213', modifiers: [25] }]),
    () => book.checkClaim(['99213'], 'today'),
    () => book.checkClaim(['99213'], { date: 20260501 }),
  ]
  for (const call of calls) {
    const err = thrown(call)
    assert.ok(err instanceof TypeError, `${call}: ${err}`)
    assert.equal(err.code, 'ERR_INVALID_ARG_TYPE', `${call}`)
  }
})

test('ptpEdits lists the edits between codes, by index', () => {
  const edits = book.ptpEdits(['99214', '99213'])
  assert.equal(edits.length, 1)
  const [e] = edits
  assert.deepEqual(
    [e.column1, e.column2, e.column1Line, e.column2Line, e.bypassed, e.bypassModifier],
    ['99213', '99214', 1, 0, false, null],
  )
  assert.equal(e.rationale, 'Misuse of Column Two code with Column One code')
  assert.equal(e.modifierIndicator, 1)
  assert.deepEqual(book.ptpEdits(['20610', '99213']).map((x) => [x.column1, x.column2]), [['20610', '99213']])
  assert.deepEqual(book.ptpEdits([]), [])
  assert.deepEqual(book.ptpEdits(['99213']), [])
  assert.equal(thrown(() => book.ptpEdits(['99213', 'E11.9'])).code, 'INVALID_CODE')
  for (const call of [() => book.ptpEdits('99213'), () => book.ptpEdits([99213]), () => book.ptpEdits()]) {
    assert.ok(thrown(call) instanceof TypeError, `${call}`)
  }
})

test('mue returns the edit or null', () => {
  assert.deepEqual(book.mue('36415'), { code: '36415', mueValue: 2, adjudicationIndicator: 3, rationale: book.mue('36415').rationale })
  assert.equal(book.mue('j1100').code, 'J1100')
  assert.equal(book.mue('J1100').mueValue, 120)
  assert.equal(book.mue('99999'), null)
  assert.equal(thrown(() => book.mue('E11.9')).code, 'INVALID_CODE')
  assert.equal(thrown(() => book.mue('')).code, 'INVALID_CODE')
  for (const call of [() => book.mue(36415), () => book.mue(), () => book.mue(['36415'])]) {
    assert.ok(thrown(call) instanceof TypeError, `${call}`)
  }
})

test('crosswalk maps both ways and reports errors', () => {
  assert.deepEqual(book.crosswalk('250.00', 'icd9_to_icd10'), [
    { source: '250.00', target: 'E11.9', approximate: true, noMap: false, combination: false, scenario: 0, choiceList: 0 },
  ])
  assert.deepEqual(book.crosswalk('25000', '9to10'), book.crosswalk('250.00', 'ICD9-to-ICD10'))
  assert.equal(book.crosswalk('e119', 'icd10')[0].target, '250.00')
  const combo = book.crosswalk('A18.01', 'icd10_to_icd9').filter((m) => m.combination)
  assert.ok(combo.length > 0 && combo.every((m) => m.scenario >= 1 && m.choiceList >= 1))

  const notFound = thrown(() => book.crosswalk('E11', 'icd10_to_icd9'))
  assert.equal(notFound.code, 'NOT_FOUND')
  assert.ok(Array.isArray(notFound.suggestions))
  assert.equal(thrown(() => book.crosswalk('hello', 'icd9_to_icd10')).code, 'INVALID_CODE')
  for (const direction of ['sideways', '', 'icd11', 'x'.repeat(10000)]) {
    const err = thrown(() => book.crosswalk('250.00', direction))
    assert.equal(err.code, 'INVALID_ARGUMENT', JSON.stringify(direction.slice(0, 20)))
    assert.ok(err.message.length < 200)
  }
  for (const call of [() => book.crosswalk('250.00'), () => book.crosswalk(250, 'icd9'), () => book.crosswalk('250.00', 9)]) {
    const err = thrown(call)
    assert.ok(err instanceof TypeError, `${call}`)
    assert.equal(err.code, 'ERR_INVALID_ARG_TYPE')
  }
})
