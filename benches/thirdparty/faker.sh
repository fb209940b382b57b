#!/usr/bin/env bash
# How kindred reads values written by other software: pairs of one person's
# records that differ only in how a phone number, a name or a birthday is
# written, by Faker (ten locales) and python-phonenumbers (libphonenumber's
# port). See faker_pairs.py for the pairs; each probe runs `kindred demo` and
# counts, per locale, the pairs kindred did not join, then `kindred eval`.
#
#   benches/thirdparty/faker.sh [KINDRED_BINARY] [-- extra `kindred demo` args, e.g. -c FILE]
#
# Needs python3 and pip (the wheels are downloaded once into $KINDRED_CACHE/faker).
set -euo pipefail
KINDRED="${1:-kindred}"
shift || true
[ "${1:-}" = "--" ] && shift
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${KINDRED_CACHE:-$HOME/.cache/kindred}/faker"
mkdir -p "$CACHE"
if [ ! -d "$CACHE/lib/faker" ] || [ ! -d "$CACHE/lib/phonenumbers" ]; then
  python3 -m pip download --no-deps --quiet faker==40.63.0 phonenumbers==9.0.43 -d "$CACHE"
  python3 - "$CACHE" <<'PY'
import sys, zipfile, glob
cache = sys.argv[1]
for wheel in glob.glob(f"{cache}/*.whl"):
    zipfile.ZipFile(wheel).extractall(f"{cache}/lib")
PY
fi
export PYTHONPATH="$CACHE/lib"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for probe in phones names birthdays; do
  out="$WORK/$probe"
  mkdir -p "$out"
  python3 "$HERE/faker_pairs.py" gen "$probe" "$out"
  : >"$out/pos.jsonl"
  : >"$out/social.jsonl"
  "$KINDRED" demo --input "$out" --data-dir "$WORK/store-$probe" "$@" >/dev/null
  "$KINDRED" eval --data-dir "$WORK/store-$probe" --truth "$out/truth.csv" \
    --assignments "$out/assignments.csv" >"$out/eval.txt"
  python3 "$HERE/faker_pairs.py" tally "$probe" "$out" "$out/assignments.csv"
  sed -n 2,5p "$out/eval.txt"
done
