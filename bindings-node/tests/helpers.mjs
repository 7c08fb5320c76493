// Shared by the Node tests: the book under test, the repository's case files, name mapping.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'

export const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')
export const repoDir = join(pkgDir, '..')
export const require = createRequire(import.meta.url)
export const codelookup = require('../index.js')

/** The embedded book, or the book file named by CODELOOKUP_TEST_BOOK (for local runs). */
export function openBook() {
  const path = process.env.CODELOOKUP_TEST_BOOK
  return path ? codelookup.open(path) : codelookup.open()
}

/** A cross-language case file of tests/cases/ (a missing one fails the suite). */
export function cases(name) {
  return JSON.parse(readFileSync(join(repoDir, 'tests', 'cases', name), 'utf8'))
}

/** `short_title` -> `shortTitle`: the case files use the core's field names. */
export function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
}

/** The error a function throws (fails if it returns). */
export function thrown(fn) {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error, but the call returned')
}
