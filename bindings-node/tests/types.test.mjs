// The TypeScript definitions: a typed example that uses every call compiles with
// `tsc --noEmit` (strict), and index.d.ts declares every export of the package.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

import { codelookup, pkgDir } from './helpers.mjs'

const tsc = join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc')

test('tsc --noEmit accepts the typed example', { skip: !existsSync(tsc) && 'typescript is not installed (npm ci)', timeout: 120_000 }, () => {
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(pkgDir, 'examples')], { cwd: pkgDir, encoding: 'utf8' })
  } catch (err) {
    assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`)
  }
})

test('index.d.ts declares every export and every method', () => {
  const dts = readFileSync(join(pkgDir, 'index.d.ts'), 'utf8')
  for (const name of Object.keys(codelookup)) {
    assert.match(dts, new RegExp(`export declare (function|class) ${name}\\b`), `${name} is not declared`)
  }
  for (const cls of ['Book', 'Quota']) {
    const body = dts.slice(dts.indexOf(`export declare class ${cls}`))
    const decl = body.slice(0, body.indexOf('\n}\n'))
    for (const name of Object.getOwnPropertyNames(codelookup[cls].prototype)) {
      if (name === 'constructor') continue
      assert.match(decl, new RegExp(`\\n  (get )?${name}\\(`), `${cls}.${name} is not declared`)
    }
  }
})
