// The package as users get it: `require` and `import` give the same API, and `npm pack`
// produces a tarball that installs and works in a fresh folder.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import * as esm from '../index.mjs'
import esmDefault from '../index.mjs'
import { codelookup, pkgDir } from './helpers.mjs'

test('require and import export the same objects', () => {
  const names = ['Book', 'Quota', 'open', 'openAsync']
  assert.deepEqual(Object.keys(codelookup).sort(), [...names].sort())
  for (const name of names) {
    assert.equal(esm[name], codelookup[name], name)
    assert.equal(esmDefault[name], codelookup[name], name)
  }
})

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('npm pack installs and works in a fresh folder', { timeout: 180_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'codelookup-node-pack-'))
  execFileSync(npm, ['pack', '--pack-destination', work], { cwd: pkgDir, stdio: 'pipe' })
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
  assert.ok(tarball, 'npm pack wrote no tarball')
  const listing = execFileSync('tar', ['-tzf', join(work, tarball)], { encoding: 'utf8' })
  for (const f of ['package/index.js', 'package/index.mjs', 'package/index.d.ts', 'package/package.json']) {
    assert.ok(listing.includes(f), `${f} missing from the tarball`)
  }
  assert.match(listing, /package\/codelookup\.[\w-]+\.node/, 'no native addon in the tarball')
  assert.ok(!listing.includes('src/'), 'Rust sources are not shipped')

  const app = join(work, 'app')
  execFileSync('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', join(work, tarball)], { cwd: app, stdio: 'pipe' })
  const book = process.env.CODELOOKUP_TEST_BOOK ? JSON.stringify(process.env.CODELOOKUP_TEST_BOOK) : ''
  writeFileSync(join(app, 'a.cjs'), `const { open } = require('codelookup'); console.log(open(${book}).lookup('e119').code)`)
  writeFileSync(join(app, 'b.mjs'), `import { open, Quota } from 'codelookup'; console.log(open(${book}).lookup('0dtj4zz').code, typeof Quota)`)
  assert.equal(execFileSync(process.execPath, ['a.cjs'], { cwd: app, encoding: 'utf8' }).trim(), 'E11.9')
  assert.equal(execFileSync(process.execPath, ['b.mjs'], { cwd: app, encoding: 'utf8' }).trim(), '0DTJ4ZZ function')
})
