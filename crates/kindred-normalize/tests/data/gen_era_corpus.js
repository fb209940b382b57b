// Writes era_corpus.tsv: birthdays in the Japanese imperial calendar
// (平成2年5月17日, H2/5/17, 平成元年1月8日) and Taiwan's Minguo calendar
// (民國79年5月17日), as ICU writes them through Node's Intl (the ICU and
// CLDR versions are in the header), for `tests/dates.rs`.
//
//   node crates/kindred-normalize/tests/data/gen_era_corpus.js > crates/kindred-normalize/tests/data/era_corpus.tsv
const days = [];
// Each era's first and last days, and dates across every era.
for (const [y, m, d] of [
  [1912, 7, 29], [1912, 7, 30], [1926, 12, 24], [1926, 12, 25], [1989, 1, 7], [1989, 1, 8],
  [2019, 4, 30], [2019, 5, 1],
]) days.push(new Date(Date.UTC(y, m - 1, d)));
let seed = 7;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
while (days.length < 120) {
  const t = Date.UTC(1915, 0, 1) + next() * (Date.UTC(2025, 0, 1) - Date.UTC(1915, 0, 1));
  days.push(new Date(Math.floor(t / 86400000) * 86400000));
}
const formats = [];
for (const era of ['long', 'short', 'narrow']) {
  for (const month of ['numeric', 'long']) {
    formats.push([`ja era ${era} month ${month}`, 'ja-JP-u-ca-japanese', { era, year: 'numeric', month, day: 'numeric' }]);
  }
}
for (const dateStyle of ['full', 'long', 'medium', 'short']) {
  formats.push([`ja ${dateStyle}`, 'ja-JP-u-ca-japanese', { dateStyle }]);
  formats.push([`zh-TW ${dateStyle}`, 'zh-TW-u-ca-roc', { dateStyle }]);
}
console.log(`# format\ttyped\tdate (ICU ${process.versions.icu}, CLDR ${process.versions.cldr}, Node ${process.version}; gen_era_corpus.js)`);
for (const day of days) {
  for (const [name, locale, options] of formats) {
    const text = new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' }).format(day);
    console.log(`${name}\t${text}\t${day.toISOString().slice(0, 10)}`);
  }
}
