// codelookup for Node: loads the native addon built for this platform (`napi build
// --platform` names it codelookup.<platform>-<arch>[-<abi>].node) and re-exports it.
//
// The one thing added here: napi-rs reports an argument of the wrong type (a number where a
// string is expected, an object field of the wrong type...) as a plain Error with codes such
// as `StringExpected`; each exported function and method is wrapped so that these are thrown
// as TypeError with code ERR_INVALID_ARG_TYPE, as Node's own APIs do, with the call's name in
// front of napi-rs' message ("Book.search: Expect value to be String, but received Number").
// Everything else,
// including every core error and its `code`, comes from the addon unchanged (see
// src/error.rs).
'use strict'

const { existsSync, readFileSync } = require('node:fs')
const { join } = require('node:path')

function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
    return !report?.header?.glibcVersionRuntime
  }
}

function abiSuffix() {
  switch (process.platform) {
    case 'linux':
      return isMusl() ? '-musl' : process.arch === 'arm' ? '-gnueabihf' : '-gnu'
    case 'win32':
      return '-msvc'
    default:
      return ''
  }
}

function loadNative() {
  const triple = `${process.platform}-${process.arch}${abiSuffix()}`
  const candidates = [join(__dirname, `codelookup.${triple}.node`), join(__dirname, 'codelookup.node')]
  if (process.env.CODELOOKUP_NATIVE) candidates.unshift(process.env.CODELOOKUP_NATIVE)
  for (const file of candidates) {
    if (existsSync(file)) return require(file)
  }
  const err = new Error(
    `codelookup: no native addon for ${triple} in ${__dirname}. ` +
      'Build it with `npm install` in the package folder (needs a Rust toolchain), ' +
      'or `npx napi build --platform --release`.',
  )
  err.code = 'ERR_CODELOOKUP_NO_ADDON'
  throw err
}

const native = loadNative()

// napi-rs statuses that mean "this argument has the wrong type".
const ARG_TYPE_STATUSES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
  'DetachableArraybufferExpected',
])

function asTypeError(err, call) {
  if (err instanceof Error && !(err instanceof TypeError) && ARG_TYPE_STATUSES.has(err.code)) {
    const typeError = new TypeError(`${call}: ${err.message}`)
    typeError.code = 'ERR_INVALID_ARG_TYPE'
    return typeError
  }
  return err
}

// Four parameters cover every call of the API; napi-rs reads a missing argument and an
// explicit `undefined` alike.
function wrap(fn, call) {
  return function (a, b, c, d) {
    try {
      return fn.call(this, a, b, c, d)
    } catch (err) {
      throw asTypeError(err, call)
    }
  }
}

function wrapClass(cls, className) {
  const proto = cls.prototype
  for (const name of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, name)
    if (name !== 'constructor' && typeof desc.value === 'function') {
      Object.defineProperty(proto, name, { ...desc, value: wrap(desc.value, `${className}.${name}`) })
    }
  }
  // `new Book(...)`, `new Quota(...)`: the same class (so `instanceof` holds for instances
  // from `open()` too), with argument errors mapped.
  return new Proxy(cls, {
    construct(target, args, newTarget) {
      try {
        return Reflect.construct(target, args, newTarget)
      } catch (err) {
        throw asTypeError(err, `new ${className}`)
      }
    },
  })
}

const Book = wrapClass(native.Book, 'Book')
const Quota = wrapClass(native.Quota, 'Quota')

module.exports = {
  Book,
  Quota,
  open: wrap(native.open, 'open'),
  openAsync: wrap(native.openAsync, 'openAsync'),
}
