#!/usr/bin/env python3
"""Hand-made CJK names and national phone numbers (BENCHMARKS.md, 39th session).

Six shapes from two reviews of the Japanese/Korean name and e-mail-country
code, 40 people each (with a spouse on the same phone in shape A):
  A. a Chinese family name in traditional characters or a modern one
     (`陳`, `黃`, `肖`, `付`, `闫`, `莊`...): a till receipt naming the person
     in hanzi, a web sign-up in pinyin and one with the whole name typed
     in the given-name field, all on one mobile; the spouse's receipt on
     that mobile names another person;
  B. a Japanese web sign-up without address or order, its e-mail written
     as a mail client or a full-width input method writes it
     (`Name <x@docomo.ne.jp>`, `x＠docomo.ne.jp`), a mobile typed
     nationally (`090-...`), and the person's receipts at a Japanese till;
  C. a Chinese customer with a student's or a foreign provider's e-mail
     (`.ac.uk`, `web.de`) whose web sign-up gives the home landline typed
     nationally (`020 ...`), and receipts at home with that landline;
  D. a Japanese given name with an iteration mark (`奈々`) in one sign-up
     and written twice (`奈奈`) in another, same family name, birthday and
     postal code, no shared identifier (one person); and a twin sister
     (`陽菜`) at that address, same birthday (another person);
  E. a Korean family name as China's Koreans write it (`리`, `류`, `림`)
     on a till receipt and as the South writes it (`이`, `유`, `임`) on a
     web sign-up, one mobile; the spouse's receipt on it names another;
  F. a Japanese given name that is also a traditional or modern Chinese
     family name (`陸`, `南`, `龍之介`), on a web form (given and family
     name in their fields, the family name one no list holds, or the given
     name alone) and on a web order with the whole name, one e-mail.
Writes web.jsonl, pos.jsonl, social.jsonl and truth.csv to OUT_DIR.

    python3 benches/probes/cjk_names_and_phones.py OUT_DIR
"""
import json, os, random, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rnd = random.Random(3939)
web = open(f"{out}/web.jsonl", "w")
pos = open(f"{out}/pos.jsonl", "w")
open(f"{out}/social.jsonl", "w").close()
truth = open(f"{out}/truth.csv", "w")
truth.write("event_id,person\n")
t = 0


def tick():
    global t
    t += 1
    return 1735689600000 + t * 3600000


def signup(eid, person, email=None, phone=None, name=None, given=None, family=None, bday=None, address=None):
    web.write(json.dumps({
        "event_id": eid, "event_type": "signup", "user_id": None, "anonymous_id": None,
        "email": email, "phone": phone, "name": name, "given_name": given, "family_name": family,
        "birthday": bday, "gender": None, "address": address, "sku": None, "order": None,
        "order_amount_minor": None, "currency": None, "consents": [], "event_time": tick()}) + "\n")
    truth.write(f"web:{eid},{person}\n")


def receipt(tid, person, store, currency, phone, name):
    pos.write(json.dumps({
        "transaction_id": tid, "store_id": store, "terminal_id": "1", "receipt_no": tid[-4:],
        "cashier_id": None, "loyalty_program": None, "member_card_no": None, "phone": phone,
        "customer_name": name, "amount_minor": 1000, "currency": currency,
        "line_items": [{"sku": "SKU-00001", "quantity": 1, "unit_price_minor": 1000}],
        "points_earned": 0, "points_redeemed": 0, "payment_type": "cash", "event_time": tick()}) + "\n")
    truth.write(f"pos:{tid},{person}\n")


# A. (hanzi, pinyin family, pinyin given)
families = [("陳", "Chen"), ("黃", "Huang"), ("張", "Zhang"), ("劉", "Liu"), ("鄭", "Zheng"),
            ("肖", "Xiao"), ("付", "Fu"), ("闫", "Yan"), ("莊", "Zhuang"), ("蕭", "Xiao")]
givens = [("林峰", "Linfeng"), ("玉兰", "Yulan"), ("美玲", "Meiling"), ("志明", "Zhiming"),
          ("子涵", "Zihan"), ("雨涵", "Yuhan"), ("家豪", "Jiahao"), ("文静", "Wenjing")]
spouses = ["王丽", "李娜", "赵敏", "孙伟"]
for i in range(40):
    (fh, fp), (gh, gp) = families[i % len(families)], givens[(i * 3) % len(givens)]
    phone = f"139{rnd.randint(10000000, 99999999)}"
    receipt(f"CN001-A{i:03d}-1", f"a{i}", "CN001", "CNY", phone, fh + gh)
    signup(f"a{i}-pinyin", f"a{i}", phone=phone, given=gp, family=fp)
    signup(f"a{i}-given-field", f"a{i}", phone=phone, given=fh + gh)
    receipt(f"CN001-A{i:03d}-2", f"a{i}-spouse", "CN001", "CNY", phone, spouses[i % len(spouses)])
# B.
jp = [("佐藤", "翔"), ("鈴木", "美咲"), ("高橋", "蓮"), ("田中", "陽菜"), ("渡辺", "大翔")]
for i in range(40):
    fam, giv = jp[i % len(jp)]
    national = f"090-{rnd.randint(1000, 9999)}-{rnd.randint(1000, 9999)}"
    e164 = "+81" + national[1:].replace("-", "")
    local = f"user{i}"
    email = f"{fam} <{local}@docomo.ne.jp>" if i % 2 == 0 else f"{local}＠docomo.ne.jp"
    signup(f"b{i}-signup", f"b{i}", email=email, phone=national, given=giv, family=fam)
    receipt(f"JP001-B{i:03d}-1", f"b{i}", "JP001", "JPY", e164, fam + giv)
    receipt(f"JP001-B{i:03d}-2", f"b{i}", "JP001", "JPY", e164, None)
# C.
for i in range(40):
    fh, _ = families[i % 5]
    gh, _ = givens[i % len(givens)]
    area = ["020", "021", "028", "010"][i % 4]
    number = f"{area} {rnd.randint(6000, 8999)} {rnd.randint(1000, 9999)}"
    email = f"stu{i}@ed.ac.uk" if i % 2 == 0 else f"stu{i}@web.de"
    signup(f"c{i}-signup", f"c{i}", email=email, phone=number, name=fh + gh)
    receipt(f"CN002-C{i:03d}-1", f"c{i}", "CN002", "CNY", number.replace(" ", ""), fh + gh)
# D.
for i in range(40):
    fam = jp[i % len(jp)][0]
    bday = f"{rnd.randint(1975, 2005)}-{rnd.randint(2, 12):02d}-{rnd.randint(10, 28):02d}"
    home = {"line1": f"{rnd.randint(1, 30)}-{rnd.randint(1, 9)} Sakura", "line2": None, "city": "Tokyo",
            "region": None, "postal_code": f"1{rnd.randint(0, 9)}{rnd.randint(0, 9)}-{rnd.randint(1000, 9999)}",
            "country": "Japan"}
    signup(f"d{i}-mark", f"d{i}", email=f"nana{i}@example.jp", given="奈々", family=fam, bday=bday, address=home)
    signup(f"d{i}-twice", f"d{i}", email=f"nana.{i}@example.com", given="奈奈", family=fam, bday=bday, address=home)
    signup(f"d{i}-twin", f"d{i}-twin", email=f"hina{i}@example.jp", given="陽菜", family=fam, bday=bday, address=home)
# E.
korean = [("리", "이"), ("류", "유"), ("림", "임")]
kgiven = ["지은", "민준", "서연", "수진", "도윤"]
for i in range(40):
    north, south = korean[i % 3]
    giv = kgiven[i % len(kgiven)]
    phone = f"139{rnd.randint(10000000, 99999999)}"
    receipt(f"CN003-E{i:03d}-1", f"e{i}", "CN003", "CNY", phone, north + giv)
    signup(f"e{i}-signup", f"e{i}", phone=phone, name=south + giv)
    receipt(f"CN003-E{i:03d}-2", f"e{i}-spouse", "CN003", "CNY", phone, "박" + kgiven[(i + 2) % len(kgiven)])
# F.
jp_given = ["陸", "南", "陽", "龍", "華"]
jp_long = ["龍之介", "陽太郎", "紀美子", "萬里子"]
unlisted = ["冨樫", "御手洗", "勅使河原"]
for i in range(40):
    mail = f"f{i}@example.jp"
    if i % 2 == 0:
        fam, giv = unlisted[i % 3], jp_given[(i // 2) % len(jp_given)]
        signup(f"f{i}-form", f"f{i}", email=mail, given=giv, family=fam)
    else:
        fam, giv = "田中", jp_long[(i // 2) % len(jp_long)]
        signup(f"f{i}-form", f"f{i}", email=mail, given=giv)
    signup(f"f{i}-order", f"f{i}", email=mail, name=fam + giv)
