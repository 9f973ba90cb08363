#!/usr/bin/env bash
# api/openapi.yaml and the routes the gateway serves (its route tables) agree,
# both ways: every documented operation is served and every served route is
# documented.
set -euo pipefail
ROOT=${MGR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 - "$ROOT" <<'PY'
import re, sys, glob
root = sys.argv[1]
served = set()
for f in glob.glob(root + "/gateway/rest/*.c"):
    for m in re.finditer(r'\{\s*"(GET|POST|PUT|PATCH|DELETE|HEAD)",\s*"([^"]+)"', open(f).read()):
        path = m.group(2)
        path = path.replace("{+}", "{}")
        served.add((m.group(1), path))
documented = set()
cur = None
for line in open(root + "/api/openapi.yaml"):
    m = re.match(r'^  (/\S*):\s*$', line)
    if m:
        cur = re.sub(r'\{[^}]+\}', '{}', m.group(1))
        continue
    m = re.match(r'^    (get|post|put|patch|delete|head):', line)
    if m and cur:
        documented.add((m.group(1).upper(), cur))
    if re.match(r'^\S', line):
        cur = None
missing = sorted(documented - served)
undoc = sorted(served - documented)
for x in missing: print("documented but not served:", *x)
for x in undoc: print("served but not documented:", *x)
n = len(documented)
bad = len(missing) + len(undoc)
print(f"{n - len(missing)} passed, {bad} failed")
sys.exit(1 if bad else 0)
PY
