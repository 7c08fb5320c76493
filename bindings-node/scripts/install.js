// `npm install` hook: makes sure a native addon for this platform is next to index.js.
//
// - A packed package (`npm pack`) ships the addon: nothing to do.
// - In the source tree (Cargo.toml next to package.json) without an addon: build it in release
//   mode with the napi CLI (a devDependency) or, when that is not installed, with cargo.
// CODELOOKUP_SKIP_BUILD=1 skips the build (tests/run.sh builds explicitly afterwards).
'use strict'

const { existsSync, copyFileSync } = require('node:fs')
const { join } = require('node:path')
const { spawnSync } = require('node:child_process')

const root = join(__dirname, '..')

function addonPresent() {
  try {
    require(join(root, 'index.js'))
    return true
  } catch (err) {
    if (err.code === 'ERR_CODELOOKUP_NO_ADDON') return false
    throw err
  }
}

function run(cmd, args) {
  console.error(`codelookup: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.error) throw r.error
  if (r.status !== 0) process.exit(r.status ?? 1)
}

function main() {
  if (process.env.CODELOOKUP_SKIP_BUILD === '1' || addonPresent()) return
  if (!existsSync(join(root, 'Cargo.toml'))) {
    console.error('codelookup: no prebuilt native addon for this platform, and no Rust sources to build one from')
    process.exit(1)
  }
  const napi = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'napi.cmd' : 'napi')
  if (existsSync(napi)) {
    run(napi, ['build', '--platform', '--release', '--no-js', '--no-const-enum', '--dts', 'index.d.ts'])
    return
  }
  // Without the napi CLI: a plain cargo build, copied to the name index.js looks for.
  run('cargo', ['build', '--release', '-p', 'codelookup-node'])
  const meta = spawnSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: root, encoding: 'utf8' })
  const targetDir = JSON.parse(meta.stdout).target_directory
  const lib = { linux: 'libcodelookup_node.so', darwin: 'libcodelookup_node.dylib', win32: 'codelookup_node.dll' }[process.platform]
  copyFileSync(join(targetDir, 'release', lib), join(root, 'codelookup.node'))
}

main()
