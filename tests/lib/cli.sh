# Helpers of the mgr tests (tests/e2e/cli_*.sh): source after stack.sh.
MGR=$MGR_BIN/cli/mgr

# mgr_run ARGS...: runs mgr; sets RC, OUT (stdout) and ERR (stderr).
mgr_run() {
  local o e
  o=$(mktemp) e=$(mktemp)
  "$MGR" "$@" >"$o" 2>"$e"
  RC=$?
  OUT=$(cat "$o") ERR=$(cat "$e")
  rm -f "$o" "$e"
}
# expect_rc WANT WHAT: checks $RC; on failure shows stderr.
expect_rc() {
  if [ "$RC" = "$1" ]; then
    T_PASSES=$((T_PASSES + 1))
  else
    echo "FAIL: $2: exit $RC, want $1; stderr: ${ERR:0:400}; stdout: ${OUT:0:200}" >&2
    T_FAILS=$((T_FAILS + 1))
  fi
}
# A failure is one line on stderr, naming the cause.
expect_one_line_err() {
  check '[ "$(printf "%s\n" "$ERR" | grep -c .)" -eq 1 ] && [[ "$ERR" == mgr:* ]]' "$1: one line on stderr (${ERR:0:300})"
}
# pair_match DIR: key.pem and cert.pem of DIR hold the same public key.
pair_match() {
  local a b
  a=$(openssl pkey -in "$1/key.pem" -pubout 2>/dev/null) || return 1
  b=$(openssl x509 -in "$1/cert.pem" -noout -pubkey 2>/dev/null) || return 1
  [ -n "$a" ] && [ "$a" = "$b" ]
}
cert_serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'; }
cert_end() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
# jq-free JSON member of $OUT: out_field a.b
out_field() { jfield "$1" "$OUT"; }
