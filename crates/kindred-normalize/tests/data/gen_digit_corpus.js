// Writes digit_corpus.tsv: birthdays as ICU writes them in locales whose
// digits are not ASCII (Arabic-Indic, Persian, Devanagari, Bengali,
// Gujarati, Gurmukhi, Tamil, Thai, Lao, Myanmar, Khmer...), through
// Node's Intl (the ICU and CLDR versions are in the header), for
// `tests/dates.rs`. Gregorian calendar, but for Thai's default Buddhist
// era. The second column is the locale's own order of day and month in
// its short format.
//
//   node crates/kindred-normalize/tests/data/gen_digit_corpus.js > crates/kindred-normalize/tests/data/digit_corpus.tsv
const locales = [
  'ar-EG', 'ar-SA-u-ca-gregory', 'ar-AE-u-nu-arab', 'ar-IQ', 'fa-IR-u-ca-gregory',
  'ur-PK-u-nu-arabext', 'ps-AF-u-ca-gregory', 'hi-IN-u-nu-deva', 'mr-IN', 'ne-NP', 'bn-BD',
  'as-IN', 'gu-IN-u-nu-gujr', 'pa-IN-u-nu-guru', 'or-IN-u-nu-orya', 'ta-IN-u-nu-tamldec',
  'te-IN-u-nu-telu', 'kn-IN-u-nu-knda', 'ml-IN-u-nu-mlym', 'th-TH-u-nu-thai',
  'th-TH-u-nu-thai-ca-gregory', 'lo-LA-u-nu-laoo', 'my-MM', 'km-KH-u-nu-khmr',
  'bo-CN-u-nu-tibt', 'dz-BT',
];
const days = [];
let seed = 11;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
for (let m = 0; m < 12; m++) {
  for (const y of [1937, 1990, 2003]) {
    const day = m === 4 ? 17 : 1 + Math.floor(next() * 28);
    days.push(new Date(Date.UTC(y, m, day)));
  }
}
console.log(`# locale\tday and month order\tformat\ttyped\tdate (ICU ${process.versions.icu}, CLDR ${process.versions.cldr}, Node ${process.version}; gen_digit_corpus.js)`);
for (const locale of locales) {
  const short = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeZone: 'UTC' });
  const parts = short.formatToParts(days[0]).map((p) => p.type);
  const order = parts.indexOf('month') < parts.indexOf('day') ? 'month' : 'day';
  for (const day of days) {
    for (const dateStyle of ['full', 'long', 'medium', 'short']) {
      const text = new Intl.DateTimeFormat(locale, { dateStyle, timeZone: 'UTC' }).format(day);
      if (/[0-9]/.test(text)) continue; // ASCII digits: the CLDR corpus has those
      console.log(`${locale}\t${order}\t${dateStyle}\t${text}\t${day.toISOString().slice(0, 10)}`);
    }
  }
}
