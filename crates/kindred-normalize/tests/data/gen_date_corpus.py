"""Dates as each locale writes them, from the Unicode CLDR (through Babel):
writes `src/date_words.rs` (month names, and the words a date may carry
besides its numbers: weekday names, `de`, `г.`...) and
`tests/data/date_corpus.tsv` (birthdays in every locale's full, long,
medium and short format), so that `normalize_birthday` reads a birthday
typed in a shopper's language and `tests/dates.rs` holds it to CLDR.

    pip install babel==2.17.0
    python3 crates/kindred-normalize/tests/data/gen_date_corpus.py

Tokens are folded as `date.rs` folds them: NFKC, lower case, accents
dropped; a word is a run of letters and marks.
"""
import datetime
import os
import random
import unicodedata

import babel
from babel.dates import format_date, get_date_format, get_day_names, get_month_names

assert babel.__version__ == "2.17.0", babel.__version__

LOCALES = [
    "en_US", "en_GB", "en_AU", "en_CA", "en_IN", "en_SG", "de_DE", "de_AT", "de_CH", "fr_FR",
    "fr_CA", "fr_BE", "es_ES", "es_MX", "it_IT", "pt_BR", "pt_PT", "nl_NL", "ru_RU", "uk_UA",
    "pl_PL", "tr_TR", "sv_SE", "da_DK", "nb_NO", "fi_FI", "cs_CZ", "hr_HR", "ro_RO", "hu_HU",
    "el_GR", "id_ID", "ms_MY", "vi_VN", "th_TH", "ko_KR", "ja_JP", "zh_CN", "zh_TW", "zh_HK",
    "he_IL", "ar_AE", "hi_IN",
    # Arabic's other two sets of month names: the Levant's and Iraq's
    # (`كانون الثاني`, `أيار`), and the Maghreb's (`جانفي`, `غشت`).
    "ar_IQ", "ar_DZ", "ar_MA",
]
# Month names as a newer CLDR spells them (48, in ICU 78), where Babel's
# (46) differs: Hindi's October. Both spellings are typed.
NEWER_CLDR = {"अक्टूबर": 10, "अक्टू": 10}
# Characters that follow a number to say what it is (年 1990年, 월 5월).
UNITS = set("年月日号號년월일")
# Typed by people, not in CLDR's formats: `the 17th of May` (date.rs reads
# an ordinal's ending, 17th, only right after its number).
TYPED = ["of", "the"]
ORDINAL_ENDINGS = ["st", "nd", "rd", "th"]


def fold(s):
    """Lower case, the accents of Latin, Greek and Cyrillic letters dropped
    (the combining diacritical marks block); other scripts' marks stay
    (Thai `มี.ค.` is not `ม.ค.`)."""
    s = unicodedata.normalize("NFKC", s).lower()
    s = unicodedata.normalize("NFD", s)
    s = "".join(c for c in s if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", s)


def is_word_char(c):
    return unicodedata.category(c)[0] in "LM" and c not in UNITS


def words(text):
    out, cur = [], ""
    for c in fold(text):
        if is_word_char(c):
            cur += c
        else:
            if cur:
                out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def main():
    months = {}  # folded name -> set of month numbers
    weekdays = set()
    for loc in LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for m, name in get_month_names(width, context, loc).items():
                    if any(c.isdigit() for c in name) or any(c in UNITS for c in name):
                        continue  # 5月: the number says it
                    for w in [" ".join(words(name))]:
                        if w:
                            months.setdefault(w, set()).add(m)
                for name in get_day_names(width, context, loc).values():
                    weekdays.update(words(name))
    for name, m in NEWER_CLDR.items():
        months.setdefault(name, set()).add(m)
    # A name two languages give two months (listopad: October in Croatian,
    # November in Czech and Polish) tells nothing: left out.
    ambiguous = sorted(w for w, ms in months.items() if len(ms) > 1)
    month_of = {w: ms.pop() for w, ms in months.items() if len(ms) == 1}
    # The words every locale's formats put around the numbers.
    fillers = set(weekdays)
    rows = []
    rng = random.Random(7)
    for loc in LOCALES:
        short = get_date_format("short", loc).pattern
        order = "month" if short.find("M") < short.find("d") and short.find("y") > short.find("d") else "day"
        for m in range(1, 13):
            day = rng.randint(1, 28) if m != 5 else 17
            for year in (1937, 1990, 2003):
                d = datetime.date(year, m, day)
                for fmt in ("full", "long", "medium", "short"):
                    text = format_date(d, format=fmt, locale=loc)
                    for w in words(text):
                        if w not in month_of:
                            fillers.add(w)
                    rows.append((loc, order, fmt, text, d.isoformat()))
    month_words = set(month_of)
    clash = sorted(fillers & month_words)
    fillers -= month_words
    fillers -= set(ambiguous)
    # Half of a two-word month name (`كانون` of `كانون الثاني`) is no word
    # to pass over; a letter of an abbreviation (Thai `ก.ค.`) may be.
    fillers -= {p for w in month_words if " " in w for p in w.split(" ") if len(p) > 1}
    fillers -= set(ORDINAL_ENDINGS)
    fillers.update(TYPED)
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "..", "src", "date_words.rs")
    with open(src, "w", encoding="utf-8") as out:
        out.write(
            "//! Generated by `tests/data/gen_date_corpus.py` from the Unicode CLDR\n"
            f"//! (Babel {babel.__version__}) for {len(LOCALES)} locales: do not edit.\n"
            "//! Folded as `date.rs` folds a word (lower case, no accents).\n"
            f"//! Left out, naming two months in two languages: {', '.join(ambiguous) or 'none'}.\n\n"
            "/// Month names, wide and abbreviated, in their format and stand-alone\n"
            "/// forms (`mai`, `мая`, `květen`, `května`), sorted.\n"
            "pub(crate) const MONTH_NAMES: &[(&str, u32)] = &[\n"
        )
        for w in sorted(month_of):
            out.write(f'    ("{w}", {month_of[w]}),\n')
        out.write(
            "];\n\n"
            "/// Words a written date carries besides its day, month and year:\n"
            "/// weekday names and the formats' own words (`de`, `den`, `г`,\n"
            "/// `tháng`), and what people type around an English date (`the`, `of`), sorted.\n"
            "pub(crate) const DATE_WORDS: &[&str] = &[\n"
        )
        for w in sorted(fillers):
            out.write(f'    "{w}",\n')
        out.write("];\n")
    with open(os.path.join(here, "date_corpus.tsv"), "w", encoding="utf-8") as out:
        out.write(f"# locale\tday and month order\tformat\ttyped\tdate (CLDR via Babel {babel.__version__}; gen_date_corpus.py)\n")
        for r in rows:
            out.write("\t".join(r) + "\n")
    print(len(month_of), "month names,", len(fillers), "date words,", len(rows), "dates; ambiguous:", ambiguous, "clash:", clash)


main()
