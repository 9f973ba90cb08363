#!/usr/bin/env bash
# API.md row by row where the area tests left gaps: each block names the rule
# of API.md it checks. Regression tests of the conformance review.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

# ---- expiration_date: not past now + 5 years (calendar years) ---------------
# The limit is now + 5 years; a date a day past it is refused, a date a day
# before it is taken. (It used to be 5 * 365 + 2 days: a day too many.)
make_pending_account five five-user "pw-five-$RANDOM-long-enough"; F=$ACC_ID; PF=$ACC_PW
gen_csr "$W/five" "/O=Conformance/CN=five years"
register "$F" "$W/five.csr" "$(date -u -d '+5 years +1 day' +%F)" "five-user:$PF"
expect_status 400 "expiration_date a day past now + 5 years"
expect_code invalid_argument "past 5 years code"
register "$F" "$W/five.csr" "$(date -u -d '+5 years +2 hours' +%FT%TZ)" "five-user:$PF"
expect_status 400 "expiration_date two hours past now + 5 years"
register "$F" "$W/five.csr" "$(date -u -d '+5 years -1 day' +%F)" "five-user:$PF"
expect_status 201 "expiration_date a day before now + 5 years"
WANT_NA=$(date -u -d '+5 years -1 day' +%FT00:00:00Z)
check '[ "$(jfield not_after)" = "$WANT_NA" ]' "a plain date means 00:00:00Z of that day"
