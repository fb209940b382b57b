"""The records of a `kindred gen` output directory as the analysis scripts
read them: per event id (`channel:source-id`, trimmed as the pipeline trims
source ids), the identifiers it carries, roughly normalized (phones by their
last eight digits, a WhatsApp id as the phone it is; e-mails as kindred's
provider rules read them: NFKC, lower case, the address inside `Name <...>`
or after `mailto:`, Gmail's dots and the `+tag` of the providers kindred
knows dropped; cards by their
digits without leading zeros: a rough cut, for a breakdown), its name and
its birthday.
"""
import json, re, unicodedata

WIDE = str.maketrans("０１２３４５６７８９＋＠．", "0123456789+@.")


def email_key(raw):
    """An address as kindred links it (roughly: `normalize_email` with
    provider rules)."""
    s = unicodedata.normalize("NFKC", raw).strip()
    if "<" in s and ">" in s:
        s = s[s.rfind("<") + 1:s.rfind(">")]
    s = s.strip().lower()
    if s.startswith("mailto:"):
        s = s[7:]
    s = s.rstrip(".")
    if "@" not in s:
        return s
    local, domain = s.rsplit("@", 1)
    # Sub-addresses and dots as kindred's provider_match_key drops them:
    # at these providers only.
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = (local.split("+")[0] or local).replace(".", ""), "gmail.com"
    elif domain in ("outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com", "fastmail.com"):
        local = local.split("+")[0] or local
    return f"{local}@{domain}"


def digits(s):
    return re.sub(r"\D", "", s.translate(WIDE)) if s else None


def name_of(d):
    parts = [d.get(f) for f in ("customer_name", "name", "given_name", "family_name", "display_name")]
    return " ".join(p for p in parts if p) or "-"


def read(src):
    """event id -> (set of (kind, value), name or "-", birthday or "-")."""
    records = {}
    for channel, key in [("pos", "transaction_id"), ("web", "event_id"), ("social", "event_id")]:
        for line in open(f"{src}/{channel}.jsonl"):
            d = json.loads(line)
            found = set()
            phone = digits(d.get("phone"))
            if phone and len(phone) >= 7:
                found.add(("phone", phone[-8:]))
            if d.get("email"):
                found.add(("email", email_key(d["email"])))
            card = digits(d.get("member_card_no"))
            if card and len(card) >= 4:
                found.add(("card", card.lstrip("0")))
            for field, kind in [("user_id", "account"), ("anonymous_id", "device"),
                                ("platform_user_id", "social"), ("union_id", "union")]:
                if d.get(field):
                    found.add((kind, d[field]))
            # A WhatsApp id is the phone number's digits: kindred indexes
            # it as that phone too.
            wa = digits(d.get("platform_user_id")) if d.get("platform") == "whatsapp" else None
            if wa and len(wa) >= 7:
                found.add(("phone", wa[-8:]))
            records[f"{channel}:{str(d[key]).strip()}"] = (found, name_of(d), d.get("birthday") or "-")
    return records
