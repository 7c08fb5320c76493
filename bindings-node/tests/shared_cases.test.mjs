// Runs the cross-language cases of tests/cases/ against the Node API, with the semantics of
// the Rust suite (core/tests/shared_cases.rs, core/tests/search_cases.rs): the three APIs
// cannot drift apart. The case files use the core's snake_case field names; the Node records
// use camelCase.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { openBook, cases, camel, thrown } from './helpers.mjs'

const book = openBook()
const lookupCases = cases('lookup.json')

function lookup(c) {
  return c.system === undefined ? book.lookup(c.input) : book.lookup(c.input, c.system)
}

test('lookup.json: cases', async (t) => {
  assert.ok(lookupCases.cases.length >= 20)
  for (const c of lookupCases.cases) {
    await t.test(c.name, () => {
      if (c.error) {
        const err = thrown(() => lookup(c))
        assert.ok(err instanceof Error, `${c.name}: not an Error`)
        assert.equal(err.code, c.error, `${c.name}: ${err.message}`)
        for (const s of c.suggestions_include ?? []) {
          assert.ok(err.suggestions.includes(s), `${c.name}: ${s} not in ${err.suggestions}`)
        }
        return
      }
      const rec = lookup(c)
      for (const [field, want] of Object.entries(c.expect)) {
        assert.deepEqual(rec[camel(field)], want, `${c.name}: field ${field}`)
      }
      if (c.parents) {
        assert.deepEqual(
          rec.parents.map((p) => p.code),
          c.parents,
          `${c.name}: parents`,
        )
      }
      for (const [key, field] of [
        ['billable_descendants_include', 'billableDescendants'],
        ['children_include', 'children'],
      ]) {
        if (!c[key]) continue
        const got = rec[field].map((v) => (typeof v === 'string' ? v : v.code))
        for (const w of c[key]) assert.ok(got.includes(w), `${c.name}: ${w} not in ${field}`)
      }
      for (const want of c.notes_include ?? []) {
        const note = Object.fromEntries(Object.entries(want).map(([k, v]) => [camel(k), v]))
        assert.ok(
          rec.notes.some((n) => {
            try {
              assert.deepEqual(n, note)
              return true
            } catch {
              return false
            }
          }),
          `${c.name}: note ${JSON.stringify(want)} missing`,
        )
      }
      if (c.seventh_character) assert.deepEqual(rec.seventhCharacter, c.seventh_character, c.name)
      if (c.pcs_axes) {
        assert.deepEqual(
          rec.pcsAxes.map((a) => a.label),
          c.pcs_axes,
          `${c.name}: pcs axes`,
        )
      }
      for (const [field, want] of Object.entries(c.hcpcs ?? {})) {
        assert.deepEqual(rec.hcpcs[camel(field)], want, `${c.name}: hcpcs.${field}`)
      }
    })
  }
})

test('lookup.json: validity', () => {
  const v = lookupCases.valid
  for (const c of v.valid) assert.ok(book.isValid(c), `${c} should be valid`)
  for (const c of v.invalid) assert.ok(!book.isValid(c), `${c} should not be valid`)
  for (const c of v.billable) assert.ok(book.isBillable(c), `${c} should be billable`)
  for (const c of v.not_billable) assert.ok(!book.isBillable(c), `${c} should not be billable`)
})

test('lookup.json: batch', async () => {
  const b = lookupCases.batch
  const codes = (recs) => recs.map((r) => (r ? r.code : null))
  assert.deepEqual(codes(book.lookupMany(b.input)), b.codes)
  assert.deepEqual(codes(await book.lookupManyAsync(b.input)), b.codes)
})

// search.json: the relevance set, with the semantics of core/tests/search_cases.rs: each
// query's first accepted hit among the first 10 must be within the case's k.
const searchCases = cases('search.json')

test('search.json: every query finds an accepted code within its k', (t) => {
  assert.ok(searchCases.cases.length >= 80, `${searchCases.cases.length} cases`)
  const failures = []
  const stats = new Map()
  for (const c of searchCases.cases) {
    const options = Object.fromEntries(Object.entries(c.options ?? {}).map(([k, v]) => [camel(k), v]))
    const hits = book.search(c.query, { ...options, limit: 10 })
    const accept = c.accept ?? []
    const prefixes = c.accept_prefix ?? []
    const i = hits.findIndex((h) => accept.includes(h.code) || prefixes.some((p) => h.code.startsWith(p)))
    const rank = i < 0 ? null : i + 1
    const s = stats.get(c.category) ?? [0, 0, 0, 0]
    s[0]++
    ;[1, 5, 10].forEach((at, j) => (s[j + 1] += rank !== null && rank <= at ? 1 : 0))
    stats.set(c.category, s)
    if (rank === null || rank > c.k) failures.push(`${JSON.stringify(c.query)} (k=${c.k}): accepted code at rank ${rank}`)
  }
  for (const [cat, s] of stats) t.diagnostic(`${cat.padEnd(13)} n=${s[0]} success@1=${s[1]} @5=${s[2]} @10=${s[3]}`)
  assert.deepEqual(failures, [], `${failures.length} queries missed`)
})

test('search.json: searchAsync agrees with search', async () => {
  const queries = searchCases.cases.map((c) => c.query)
  const got = await Promise.all(queries.map((q) => book.searchAsync(q, { limit: 10 })))
  got.forEach((hits, i) => assert.deepEqual(hits, book.search(queries[i], { limit: 10 }), queries[i]))
})

// validity.json: `validOn` and `lookup(code, { on })`, with the semantics of
// `date_of_service_cases` in core/tests/shared_cases.rs.
const validityCases = cases('validity.json')

test('validity.json: validOn and lookup on a date', async (t) => {
  assert.ok(validityCases.cases.length >= 15)
  for (const c of validityCases.cases) {
    await t.test(c.name, () => {
      const lookupOn = () => book.lookup(c.input, c.system === undefined ? { on: c.date } : { system: c.system, on: c.date })
      if (c.lookup_error) {
        const err = thrown(lookupOn)
        assert.ok(err instanceof Error, `${c.name}: not an Error`)
        assert.equal(err.code, c.lookup_error, `${c.name}: ${err.message}`)
        if (c.lookup_error === 'NOT_VALID_ON_DATE') {
          assert.equal(err.date, c.date, `${c.name}: error date`)
          if (c.replaced_by) assert.deepEqual(err.replacedBy, c.replaced_by, `${c.name}: error replacedBy`)
        }
      } else if (c.error === undefined) {
        lookupOn()
      }
      const validOn = () => (c.system === undefined ? book.validOn(c.input, c.date) : book.validOn(c.input, c.date, c.system))
      if (c.error) {
        const err = thrown(validOn)
        assert.equal(err.code, c.error, `${c.name}: ${err.message}`)
        return
      }
      const v = validOn()
      for (const [field, want] of Object.entries(c.expect)) {
        assert.deepEqual(v[camel(field)], want, `${c.name}: field ${field}`)
      }
      if (c.replaced_by) assert.deepEqual(v.replacedBy, c.replaced_by, `${c.name}: replaced_by`)
      assert.ok(v.message.length > 0 && v.message.includes(v.code), `${c.name}: ${v.message}`)
    })
  }
})

// billing.json: `checkClaim` and `crosswalk`, with the semantics of `billing_cases` in
// core/tests/shared_cases.rs.
const billingCases = cases('billing.json')

test('billing.json: checkClaim', async (t) => {
  assert.ok(billingCases.claims.length >= 5)
  for (const c of billingCases.claims) {
    await t.test(c.name, () => {
      const check = () => (c.date === undefined ? book.checkClaim(c.lines) : book.checkClaim(c.lines, { date: c.date }))
      if (c.error) {
        const err = thrown(check)
        assert.ok(err instanceof Error, `${c.name}: not an Error`)
        assert.equal(err.code, c.error, `${c.name}: ${err.message}`)
        return
      }
      const got = check()
      assert.equal(got.dateOfService, c.date ?? null, `${c.name}: dateOfService`)
      assert.deepEqual(
        got.ptp.map((e) => [e.column1, e.column2, e.modifierIndicator, e.bypassed, e.bypassModifier]),
        c.ptp,
        `${c.name}: ptp`,
      )
      if (c.mue) {
        assert.deepEqual(
          got.mue.map((m) => [m.code, m.units, m.mueValue, m.exceeds]),
          c.mue,
          `${c.name}: mue`,
        )
      }
      assert.deepEqual(got.deniedLines, c.denied_lines, `${c.name}: denied_lines`)
      assert.equal(got.clean, c.clean, `${c.name}: clean`)
    })
  }
})

test('billing.json: crosswalk', async (t) => {
  assert.ok(billingCases.crosswalks.length >= 3)
  for (const c of billingCases.crosswalks) {
    await t.test(c.name, () => {
      const crosswalk = () => book.crosswalk(c.input, c.direction)
      if (c.error) {
        const err = thrown(crosswalk)
        assert.ok(err instanceof Error, `${c.name}: not an Error`)
        assert.equal(err.code, c.error, `${c.name}: ${err.message}`)
        return
      }
      const maps = crosswalk()
      if (c.targets) {
        assert.deepEqual(
          maps.map((m) => m.target),
          c.targets,
          `${c.name}: targets`,
        )
      }
      if (c.approximate !== undefined) assert.ok(maps.every((m) => m.approximate === c.approximate), `${c.name}: approximate`)
      if (c.scenario_2) {
        assert.deepEqual(
          maps.filter((m) => m.combination && m.scenario === 2).map((m) => [m.choiceList, m.target]),
          c.scenario_2,
          `${c.name}: scenario 2`,
        )
      }
    })
  }
})
