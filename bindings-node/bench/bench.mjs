// Node benchmark: per-call latency of the binding (lookup, search...) as JavaScript sees it,
// and an HTTP-free loop of 100,000 autocomplete queries through codelookup and through
// better-sqlite3 with an FTS5 table built here from the same titles (bm25 ranking, every word
// ANDed, the last one as a prefix: what an FTS5 autocomplete does).
//
//   npm run bench                      # after `npm install` (release addon, better-sqlite3)
//   node bench/bench.mjs --queries 20000 --book path/to/my.book
//
// Prints Markdown tables (the ## Node section of BENCHMARKS.md).
import { createRequire } from 'node:module'
import { loadavg, cpus } from 'node:os'
import { parseArgs } from 'node:util'

const require = createRequire(import.meta.url)
const { open } = require('../index.js')

const { values: args } = parseArgs({
  options: {
    queries: { type: 'string', default: '100000' },
    book: { type: 'string' },
  },
})
const QUERIES = Number(args.queries)

let Database
try {
  Database = require('better-sqlite3')
  new Database(':memory:').close()
} catch (err) {
  console.error(
    `better-sqlite3 is not usable (${err.message.split('\n')[0]}).\n` +
      'Build it with `npm rebuild better-sqlite3` (tests/run.sh installs with --ignore-scripts); ' +
      'where node-gyp cannot download Node headers, point it at local ones: npm_config_nodedir=/usr.',
  )
  process.exit(1)
}

const now = () => process.hrtime.bigint()
const us = (ns) => Number(ns) / 1000

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** Times `fn(item)` for each item: mean over a tight loop, and per-call p50/p99. */
function measure(items, fn, { rounds = 1 } = {}) {
  for (const it of items.slice(0, 1000)) fn(it) // warm up
  const t0 = now()
  for (let r = 0; r < rounds; r++) for (const it of items) fn(it)
  const mean = us(now() - t0) / (items.length * rounds)
  const each = new Float64Array(items.length)
  items.forEach((it, i) => {
    const s = now()
    fn(it)
    each[i] = us(now() - s)
  })
  each.sort()
  return { mean, p50: quantile(each, 0.5), p99: quantile(each, 0.99), n: items.length * rounds }
}

/** A seeded generator (Lehmer), so every run uses the same queries. */
function rng(seed) {
  let s = seed % 2147483647 || 1
  return () => (s = (s * 48271) % 2147483647)
}

/**
 * Queries a user types into an autocomplete box: for a random title, each prefix of its first
 * words from two letters on ("ty", "typ", "type", "type 2 d", "type 2 di"...), lower case.
 */
function autocompleteQueries(titles, n) {
  const next = rng(20251127)
  const out = []
  while (out.length < n) {
    const t = titles[next() % titles.length]
    const words = t.title
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean)
      .slice(0, 3)
    let typed = ''
    for (const w of words) {
      for (let len = Math.min(2, w.length); len <= w.length && out.length < n; len++) {
        out.push({ q: typed + w.slice(0, len), code: t.code })
      }
      typed += w + ' '
    }
  }
  return out
}

/** The FTS5 query of an autocomplete box: every word ANDed, the last one as a prefix. */
function ftsQuery(q) {
  const words = q.split(/[^\p{L}\p{N}]+/u).filter(Boolean)
  if (words.length === 0) return null
  return words.map((w, i) => `"${w}"${i === words.length - 1 && !q.endsWith(' ') ? '*' : ''}`).join(' ')
}

function row(cells) {
  return `| ${cells.join(' | ')} |`
}

function fmt(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)
}

// --- setup -----------------------------------------------------------------------------------
let t = now()
const book = args.book ? open(args.book) : open()
const openMs = us(now() - t) / 1000
const entries = book.codes()
const titles = entries.map((e) => ({ code: e.code, system: e.system, title: book.title(e.code, e.system) }))

t = now()
const db = new Database(':memory:')
db.exec(`CREATE VIRTUAL TABLE titles USING fts5(code UNINDEXED, title, tokenize = 'unicode61 remove_diacritics 2')`)
db.exec('CREATE TABLE codes (code TEXT, system TEXT, title TEXT, PRIMARY KEY (code, system)) WITHOUT ROWID')
const insFts = db.prepare('INSERT INTO titles (code, title) VALUES (?, ?)')
const insCode = db.prepare('INSERT INTO codes VALUES (?, ?, ?)')
db.transaction(() => {
  for (const e of titles) {
    insFts.run(e.code, e.title)
    insCode.run(e.code, e.system, e.title)
  }
})()
const ftsBuildMs = us(now() - t) / 1000
const ftsSearch = db.prepare('SELECT code, title FROM titles WHERE titles MATCH ? ORDER BY rank LIMIT 10')
const sqlLookup = db.prepare('SELECT title FROM codes WHERE code = ?')

// --- per-call latency --------------------------------------------------------------------------
const next = rng(7)
const sampleCodes = Array.from({ length: 20000 }, () => titles[next() % titles.length].code)
const billableCodes = ['E11.9', 'I10', 'S72.001A', '0DTJ4ZZ', 'J1100', 'Z00.00', 'M54.50', 'U07.1']
const searchQueries = [
  'E11.9',
  'e116',
  'J11',
  'hypertension',
  'essential hypertension',
  'type 2 diab',
  'heart failure',
  'fracture of femur',
  'hypertenson',
  'diabetis',
  'chf',
  'copd',
  'gastro-esophageal reflux',
  'appendectomy',
  'dexamethasone',
  'covid',
]

const calls = [
  ['`isValid(code)`', sampleCodes, (c) => book.isValid(c)],
  ['`title(code)`', sampleCodes, (c) => book.title(c)],
  ['`lookup(code)`, full record', billableCodes, (c) => book.lookup(c), 2000],
  ['`lookup(code)`, random codes (headers list descendants)', sampleCodes, (c) => book.lookup(c)],
  ['`search(query, { limit: 10 })`, the mix below', searchQueries, (q) => book.search(q, { limit: 10 }), 200],
  ['SQLite `SELECT title FROM codes WHERE code = ?`', sampleCodes, (c) => sqlLookup.get(c)],
]
const latency = calls.map(([name, items, fn, rounds]) => [name, measure(items, fn, { rounds: rounds ?? 1 })])
const perQuery = searchQueries.map((q) => [q, measure(Array(500).fill(q), (x) => book.search(x, { limit: 10 }), { rounds: 4 })])

// --- 100,000 autocomplete queries ------------------------------------------------------------
const queries = autocompleteQueries(titles, QUERIES)
const ftsQueries = queries.map(({ q }) => ftsQuery(q))

function loop(name, fn) {
  for (let i = 0; i < 2000; i++) fn(i) // warm up
  const each = new Float64Array(queries.length)
  let found = 0
  const t0 = now()
  for (let i = 0; i < queries.length; i++) {
    const s = now()
    const hits = fn(i)
    each[i] = us(now() - s)
    if (hits.some((h) => h.code === queries[i].code)) found++
  }
  const totalS = us(now() - t0) / 1e6
  each.sort()
  return { name, qps: queries.length / totalS, totalS, p50: quantile(each, 0.5), p99: quantile(each, 0.99), max: each[each.length - 1], found }
}

const results = [
  loop('codelookup `search` (sync)', (i) => book.search(queries[i].q, { limit: 10 })),
  loop('better-sqlite3 FTS5 (bm25, AND, last word prefix)', (i) => (ftsQueries[i] ? ftsSearch.all(ftsQueries[i]) : [])),
]

// searchAsync: the same queries, 64 in flight at a time, on the libuv pool.
async function asyncLoop() {
  const n = Math.min(queries.length, 20000)
  let i = 0
  const t0 = now()
  async function worker() {
    while (i < n) await book.searchAsync(queries[i++].q, { limit: 10 })
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  return { n, qps: n / (us(now() - t0) / 1e6) }
}
const asyncResult = await asyncLoop()

// --- report ------------------------------------------------------------------------------------
const out = []
out.push(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}.`)
out.push(`Book opened in ${fmt(openMs)} ms (${titles.length.toLocaleString('en-US')} codes); the FTS5 and code tables were built in ${fmt(ftsBuildMs)} ms.`)
out.push('')
out.push('Per-call latency from JavaScript (µs; mean over a tight loop, p50 and p99 of individually timed calls):')
out.push('')
out.push(row(['call', 'mean', 'p50', 'p99', 'calls']))
out.push(row(['---', '---', '---', '---', '---']))
for (const [name, m] of latency) out.push(row([name, fmt(m.mean), fmt(m.p50), fmt(m.p99), m.n.toLocaleString('en-US')]))
out.push('')
out.push('`search` per query (µs, `limit: 10`; mean of 2,000 calls, p50 and p99 of 500 individually timed):')
out.push('')
out.push(row(['query', 'mean', 'p50', 'p99']))
out.push(row(['---', '---', '---', '---']))
for (const [q, m] of perQuery) out.push(row([`\`${q}\``, fmt(m.mean), fmt(m.p50), fmt(m.p99)]))
out.push('')
out.push(
  `${queries.length.toLocaleString('en-US')} autocomplete queries (the prefixes a user types of the first three words of random titles), one after another, top 10:`,
)
out.push('')
out.push(row(['engine', 'queries/s', 'p50 µs', 'p99 µs', 'max µs', 'typed code in top 10']))
out.push(row(['---', '---', '---', '---', '---', '---']))
for (const r of results) {
  out.push(row([r.name, Math.round(r.qps).toLocaleString('en-US'), fmt(r.p50), fmt(r.p99), fmt(r.max), `${((100 * r.found) / queries.length).toFixed(1)}%`]))
}
out.push('')
out.push(`\`searchAsync\`, 64 queries in flight on the libuv pool: ${Math.round(asyncResult.qps).toLocaleString('en-US')} queries/s over the first ${asyncResult.n.toLocaleString('en-US')}.`)
console.log(out.join('\n'))
db.close()
