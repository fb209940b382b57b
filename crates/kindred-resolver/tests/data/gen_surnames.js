// Writes surnames.tsv: the Chinese family names of the `pinyin` npm
// package (hotoo/pinyin 4.0.0, its surname mode's data: the Hundred Family
// Surnames, single and compound) and how each is read as a family name,
// toneless, one syllable per character, `ü` as `v`.
//
//   npm pack pinyin@4.0.0 && tar xzf pinyin-4.0.0.tgz
//   node gen_surnames.js package/lib/cjs/pinyin.js > surnames.tsv
//
// The data objects are not exported, so they are read from the bundle.
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
function dataObject(name) {
  const start = src.indexOf('var ' + name + ' = ');
  if (start < 0) throw new Error(name + ' not found');
  const end = src.indexOf('\n};', start);
  return eval('(' + src.slice(start + ('var ' + name + ' = ').length, end + 2) + ')');
}
const toneless = (s) =>
  s.normalize('NFD').replace(/\u0308/g, '\u0000').replace(/[\u0300-\u036f]/g, '')
    .replace(/u\u0000/g, 'v').replace(/\u0000/g, '');
console.log('# surname\treading (pinyin@4.0.0 surname data; kindred-resolver/tests/data/gen_surnames.js)');
for (const name of ['SurnamePinyinData', 'CompoundSurnamePinyinData']) {
  const data = dataObject(name);
  for (const [chars, readings] of Object.entries(data)) {
    console.log(chars + '\t' + readings.map((r) => toneless(r[0])).join(' '));
  }
}
