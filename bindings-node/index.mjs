// ES module entry: `import { open } from 'codelookup'`. The same objects as `require`.
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./index.js')

export const { Book, Quota, open, openAsync } = native
export default native
