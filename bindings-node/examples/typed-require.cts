// The CommonJS side: `require('codelookup')` has the same types.
import codelookup = require('codelookup')

const book: codelookup.Book = codelookup.open()
const rec: codelookup.CodeRecord = book.lookup('0dtj4zz')
const axes: string[] = rec.pcsAxes.map((a) => a.label)
export const summary: string = `${rec.code} ${axes.join(', ')}`
export const valid: boolean = codelookup.open().validOn('M54.5', '2021-10-01').valid
export const clean: boolean = codelookup.open().checkClaim(['99213', { code: '20610' }]).clean
