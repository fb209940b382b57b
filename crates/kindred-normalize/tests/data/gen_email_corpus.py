# Email addresses read by the Python `email-validator` library (the syntax
# and normalization checks in its strict mode, which adds RFC 5321's 64-octet
# limit on the local part; no DNS), for kindred-normalize's
# tests/email_validator.rs:
#
#   pip install email-validator==2.3.0   # brings idna 3.x
#   python3 gen_email_corpus.py > email_corpus.jsonl
#
# One JSON object per line: the address as typed, and either the local part
# and ASCII domain email-validator normalizes it to or the reason it refuses
# it. The addresses are built here from parts: local parts and domains a
# form receives, each spelled right and in the ways people and systems get
# it wrong.
import json
import email_validator
from email_validator import validate_email, EmailNotValidError

assert email_validator.__version__ == "2.3.0", email_validator.__version__

GOOD_LOCALS = [
    "maria", "Maria.Sentosa", "li_wei", "o'brien", "john+shop", "a", "x-y",
    "1234", "j.o.h.n", "user/dept=shipping", "!#$%&'*+-/=?^_`{|}~",
    "ñoñó", "用户", "юзер", "ιωάννης", "jeff葉", "甲斐黒川日本",
    "राम", "Zoë.Müller", "l" * 64,
]
BAD_LOCALS = [
    "", ".maria", "maria.", "ma..ria", "ma ria", 'ma"ria', "ma,ria", "ma(ria)",
    "ma[ria]", "ma;ria", "ma:ria", "ma<ria", "ma\\ria", "l" * 65, "ma\tria",
    "ma\nria", "ma\x00ria", "ma@ria", '"maria"', "ma\u0301ria", "\u0301maria",
    "ma\ue000ria", "ma\u200dria", "ma\u202eria", "maria\U0001F600",
    "ma\u00a0ria", "ma\u3000ria",
]
GOOD_DOMAINS = [
    "shop.cn", "Example.TLD", "mail.co.id", "münchen.de", "例子.中国",
    "臺網中心.tw", "xn--mnchen-3ya.de", "a-b.com", "123.com", "x.museum",
    "sub.sub.example.org", "a.com", "d" * 63 + ".com", "b.co", "qq.com",
    "GMAIL.COM", "mail.xn--p1ai", "почта.рф", "x.example", "faß.de",
    "ドメイン.テスト", "a.b.c.d.e.f.net", "ex--ample.com",
    # Punctuation IDNA 2008 allows in context, and a letter-number.
    "col·legi.cat", "ミュージック・ストア.jp", "〇〇商店.jp", "א׳ב.il", "α͵β.gr",
]
BAD_DOMAINS = [
    "", "localhost", "x", "x.", "-a.com", "a-.com", "a..com", ".a.com",
    "a.com-", "a_b.com", "a b.com", "a!.com", "a.123", "a.c1", "a.1c",
    "x.test", "x.local", "x.localhost", "x.invalid", "x.onion", "x.arpa",
    "[1.2.3.4]", "[IPv6:::1]", "d" * 64 + ".com",
    ".".join(["d" * 60] * 5) + ".com", "xn--zz.com", "⒈a.com", "a.com\n",
    "a．．com", "💩.la", "a.c", "a.co-", "a.-co", "a\u200b.com",
    "a\ue000.com", "xn--a.com", "1.2.3.4",
    # Contextual punctuation out of its context, letter-numbers.
    "a·b.cat", "·ab.cat", "ab·.cat", "・.jp", "ab・cd.com", "ab͵cd.gr", "ᛮ.com", "〡〢.cn",
]
# A few whole addresses that are not local@domain at all.
WHOLE = [
    "maria", "maria@", "@shop.cn", "maria@@shop.cn", "maria@shop@cn",
    "maria@shop.cn.", " maria@shop.cn", "maria@shop.cn ",
    "maria@shop.cn" + "\n", "maria@shop.cn..", "maria@shop.cn…",
]


def read(address):
    try:
        v = validate_email(address, check_deliverability=False, strict=True)
        return {"ok": True, "local": v.local_part, "domain": v.ascii_domain}
    except EmailNotValidError as e:
        return {"ok": False, "why": str(e)}


seen = set()
corpus = []
for local in GOOD_LOCALS + BAD_LOCALS:
    for domain in GOOD_DOMAINS + (BAD_DOMAINS if local in GOOD_LOCALS[:3] else []):
        corpus.append(f"{local}@{domain}")
for domain in BAD_DOMAINS:
    corpus.append(f"maria@{domain}")
corpus += WHOLE
for address in corpus:
    if address in seen:
        continue
    seen.add(address)
    print(json.dumps({"address": address, **read(address)}, ensure_ascii=False))
