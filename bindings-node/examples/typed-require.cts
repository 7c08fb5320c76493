// The CommonJS side: `require('codelookup')` has the same types.
import codelookup = require('codelookup')

const book: codelookup.Book = codelookup.open()
const rec: codelookup.CodeRecord = book.lookup('0dtj4zz')
const axes: string[] = rec.pcsAxes.map((a) => a.label)
export const summary: string = `${rec.code} ${axes.join(', ')}`
