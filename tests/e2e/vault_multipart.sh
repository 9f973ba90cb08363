#!/usr/bin/env bash
# Multipart uploads in the vault service, driven as the gateway drives them
# (tests/lib/rpc_send.c): CreateMultipart, parts through PutBegin (with the
# upload's id and a part number) / PutChunk / PutCommit, ListParts (paged),
# ListUploads, CompleteMultipart and AbortMultipart. A completed object is
# its parts' blobs (no data copied), reads back byte for byte through the
# REST path, has the S3 ETag md5-of-md5s-N and the SHA-256 etag; refused
# completions (wrong ETag, bad order, a small part before the last, no such
# upload, another account, over the quota) store nothing; a part sent again
# frees the old one's data; an abort, a completion (unlisted parts) and the
# vault's deletion free the parts' data; uploads survive a restart; a
# resent completion answers the first outcome.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

. "$(dirname "$0")/../lib/rpc.sh"
[ -x "$RS" ] || fail_now "no $RS (build the tests)"
app_identity alice
ALICE=$APP_ID
app_identity bob
BOB=$APP_ID
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
MiB=1048576
CS=$((MiB - 64))
OBJ=$MANAGER_DATA_DIR/objects

T_PLAIN=$(mk_tpl plain vault)
T_Q=$(mk_tpl small vault $((12 * MiB)))
V=$(mk_vault mpv "$T_PLAIN")
VQ=$(mk_vault mp-quota "$T_Q")

# create VAULT KEY [CALLER]: the reply line.
create() {
  rs "$(pb 's(1, A[0]) + s(2, A[1]) + s(3, s(1, "Content-Type") + s(2, "text/x-mp"))' "$1" "$2")" \
    vault vault.CreateMultipart "rq-cr-$RANDOM$RANDOM" app "${3:-$ALICE}"
}
# part VAULT KEY MPID NUMBER FILE [CALLER]: sends the part as the gateway
# does; prints the commit's reply line (or the first refusal).
part() {
  local r up vid i=0 c
  r=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, int(A[2])) + s(7, A[3]) + v(8, int(A[4]))' "$1" "$2" "$(stat -c %s "$5")" "$3" "$4")" \
    vault vault.PutBegin "rq-pb-$RANDOM$RANDOM" app "${6:-$ALICE}")
  [ "$(st "$r")" = ok ] || { echo "$r"; return; }
  vid=$(pbget "${r#ok }" 1); up=$(pbget "${r#ok }" 2)
  rm -f "$T_DIR/pc."*
  split -b $CS -d -a 3 "$5" "$T_DIR/pc."
  for c in "$T_DIR"/pc.*; do
    r=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, int(A[2])) + s(4, open(A[3], "rb").read())' "$vid" "$up" $i "$c")" \
      vault vault.PutChunk "rq-pc-$RANDOM$RANDOM" app "${6:-$ALICE}")
    [ "$(st "$r")" = ok ] || { echo "$r"; return; }
    i=$((i + 1))
  done
  rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, int(A[2])) + s(4, A[3]) + s(5, A[4])' "$vid" "$up" "$(stat -c %s "$5")" \
    "$(sha256sum "$5" | cut -d' ' -f1)" "$(md5sum "$5" | cut -d' ' -f1)")" \
    vault vault.PutCommit "rq-pm-$RANDOM$RANDOM" app "${6:-$ALICE}"
}
# complete VAULT KEY MPID "N:MD5 N:MD5 ..." [REQUEST_ID [CALLER]]: the reply line.
complete() {
  rs "$(pb 'b"".join([s(1, A[0]), s(2, A[1]), s(3, A[2])] + [s(4, v(1, int(p.split(":")[0])) + s(2, p.split(":")[1])) for p in A[3].split()])' "$1" "$2" "$3" "$4")" \
    vault vault.CompleteMultipart "${5:-rq-co-$RANDOM$RANDOM}" app "${6:-$ALICE}"
}
abort() {
  rs "$(pb 's(1, A[0]) + s(2, A[1]) + s(3, A[2])' "$1" "$2" "$3")" vault vault.AbortMultipart "rq-ab-$RANDOM$RANDOM" app "${4:-$ALICE}"
}
# parts VAULT KEY MPID [AFTER [LIMIT [CALLER]]]: the reply line.
parts() {
  rs "$(pb 's(1, A[0]) + s(2, A[1]) + s(3, A[2]) + v(4, int(A[3])) + v(5, int(A[4]))' "$1" "$2" "$3" "${4:-0}" "${5:-0}")" \
    vault vault.ListParts "rq-lp-$RANDOM$RANDOM" app "${6:-$ALICE}"
}
uploads() { # VAULT [PREFIX [AFTER_KEY [AFTER_ID [LIMIT]]]]
  rs "$(pb 's(1, A[0]) + s(2, A[1]) + s(3, A[2]) + s(4, A[3]) + v(5, int(A[4]))' "$1" "${2:-}" "${3:-}" "${4:-}" "${5:-0}")" \
    vault vault.ListUploads "rq-lu-$RANDOM$RANDOM" app "$ALICE"
}
md5() { md5sum "$1" | cut -d' ' -f1; }
# s3etag FILE...: the S3 ETag of a multipart object of these parts.
s3etag() {
  python3 -c 'import hashlib, sys; print(hashlib.md5(b"".join(hashlib.md5(open(f, "rb").read()).digest() for f in sys.argv[1:])).hexdigest() + "-%d" % (len(sys.argv) - 1))' "$@"
}
blobs() { find "$OBJ/$1" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }
get() { ST=$(app_curl alice -o "$2" -w '%{http_code}' "$URL$1"); }

head -c $((5 * MiB)) /dev/urandom >"$T_DIR/p1"
head -c $((5 * MiB + 3)) /dev/urandom >"$T_DIR/p2"
head -c $((5 * MiB)) /dev/urandom >"$T_DIR/p2b"
head -c 777 /dev/urandom >"$T_DIR/p3"
head -c 1000 /dev/urandom >"$T_DIR/small"

# ---- create, parts, listing ----------------------------------------------
R=$(create mpv big.bin)
check '[ "$(st "$R")" = ok ]' "CreateMultipart ($R)"
MP=$(pbget "${R#ok }" 2)
check '[ ${#MP} = 32 ]' "an upload id of 32 hex digits"
R=$(create mpv big.bin "$BOB")
check '[ "$(st "$R")" = permission_denied ]' "another account may not start an upload in alice's vault ($R)"
R=$(part mpv big.bin "$MP" 1 "$T_DIR/p1")
check '[ "$(st "$R")" = ok ] && [ "$(pbget "${R#ok }" 1.6)" = "$(md5 "$T_DIR/p1")" ]' "part 1 (5 MiB) stored, its MD5 answered ($R)"
part mpv big.bin "$MP" 2 "$T_DIR/p2b" >/dev/null
B0=$(blobs "$V")
R=$(part mpv big.bin "$MP" 2 "$T_DIR/p2")
check '[ "$(st "$R")" = ok ]' "part 2 sent again replaces it"
check 'mgr_wait "[ \"\$(blobs $V)\" = $B0 ]" 10' "and the first part 2's data is freed ($(blobs "$V") blobs, want $B0)"
part mpv big.bin "$MP" 3 "$T_DIR/p3" >/dev/null
part mpv big.bin "$MP" 4 "$T_DIR/small" >/dev/null
R=$(part mpv big.bin "$MP" 0 "$T_DIR/small")
check '[ "$(st "$R")" = invalid_argument ]' "part number 0 is refused ($R)"
R=$(part mpv big.bin "$MP" 10001 "$T_DIR/small")
check '[ "$(st "$R")" = invalid_argument ]' "part number 10001 is refused ($R)"
R=$(part mpv other.bin "$MP" 5 "$T_DIR/small")
check '[ "$(st "$R")" = not_found ] && [[ "$R" == *NoSuchUpload* ]]' "a part for another key is NoSuchUpload ($R)"
R=$(part mpv big.bin "$MP" 5 "$T_DIR/small" "$BOB")
check '[ "$(st "$R")" = permission_denied ]' "bob may not add a part ($R)"
R=$(parts mpv big.bin "$MP")
check '[ "$(st "$R")" = ok ] && [ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "1 2 3 4 " ]' "ListParts: parts 1 to 4 ($R)"
check '[ "$(pbget "${R#ok }" 1.2 | tr "\n" " ")" = "$((5 * MiB)) $((5 * MiB + 3)) 777 1000 " ] && [ "$(pbget "${R#ok }" 1.3 | sed -n 2p)" = "$(md5 "$T_DIR/p2")" ]' "with their sizes and MD5s"
check '[ "$(pbget "${R#ok }" 4.2)" = text/x-mp ]' "and the upload's metadata"
R=$(parts mpv big.bin "$MP" 0 2)
check '[ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "1 2 " ] && [ "$(pbget "${R#ok }" 2)" = 2 ]' "ListParts paged: 2 parts, next after 2"
R=$(parts mpv big.bin "$MP" 2 2)
check '[ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "3 4 " ] && [ -z "$(pbget "${R#ok }" 2)" ]' "the last page: parts 3 and 4, no next"
R=$(parts mpv big.bin "$MP" 0 0 "$BOB")
check '[ "$(st "$R")" = permission_denied ]' "bob may not list alice's parts"
create mpv a/one >/dev/null
R=$(create mpv a/one); MP3=$(pbget "${R#ok }" 2)
R=$(create mpv b/two); MP4=$(pbget "${R#ok }" 2)
R=$(uploads mpv)
check '[ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "a/one a/one b/two big.bin " ]' "ListUploads: every open upload by key ($R)"
R=$(uploads mpv a/)
check '[ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "a/one a/one " ]' "ListUploads with a prefix"
R=$(uploads mpv "" "" "" 2)
FIRST=$(pbget "${R#ok }" 1.2 | sed -n 2p)
check '[ "$(pbget "${R#ok }" 1.1 | wc -l)" = 2 ] && [ "$(pbget "${R#ok }" 2)" = 1 ]' "ListUploads paged: 2 and truncated"
R=$(uploads mpv "" a/one "$FIRST" 10)
check '[ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "b/two big.bin " ] && [ -z "$(pbget "${R#ok }" 2)" ]' "after the key and upload id markers: the rest"
R=$(uploads mpv "" a/one "" 10)
check '[ "$(pbget "${R#ok }" 1.1 | tr "\n" " ")" = "b/two big.bin " ]' "after a key marker alone: later keys only"

# ---- refused completions store nothing --------------------------------------
M1=$(md5 "$T_DIR/p1") M2=$(md5 "$T_DIR/p2") M3=$(md5 "$T_DIR/p3") M4=$(md5 "$T_DIR/small")
nothing() { app_api alice HEAD /api/v1/vaults/mpv/objects/big.bin -I; [ "$ST" = 404 ]; }
R=$(complete mpv big.bin "$MP" "1:$M1 2:$M1 3:$M3")
check '[ "$(st "$R")" = invalid_argument ] && [[ "$R" == *InvalidPart:* ]] && nothing' "a wrong part ETag is InvalidPart, nothing stored ($R)"
R=$(complete mpv big.bin "$MP" "2:$M2 1:$M1 3:$M3")
check '[ "$(st "$R")" = invalid_argument ] && [[ "$R" == *InvalidPartOrder:* ]] && nothing' "parts out of order are InvalidPartOrder ($R)"
R=$(complete mpv big.bin "$MP" "1:$M1 1:$M1")
check '[[ "$R" == *InvalidPartOrder:* ]] && nothing' "a part twice is InvalidPartOrder"
R=$(complete mpv big.bin "$MP" "1:$M1 7:$M1")
check '[[ "$R" == *InvalidPart:* ]] && nothing' "a part never uploaded is InvalidPart ($R)"
R=$(complete mpv big.bin "$MP" "0:$M1")
check '[[ "$R" == *InvalidPart:* ]] && nothing' "part number 0 is InvalidPart"
R=$(complete mpv big.bin "$MP" "1:$M1 3:$M3 4:$M4")
check '[ "$(st "$R")" = invalid_argument ] && [[ "$R" == *EntityTooSmall:* ]] && nothing' "a part under 5 MiB before the last is EntityTooSmall ($R)"
R=$(complete mpv big.bin 0123456789abcdef0123456789abcdef "1:$M1")
check '[ "$(st "$R")" = not_found ] && [[ "$R" == *NoSuchUpload* ]] && nothing' "no such upload is NoSuchUpload ($R)"
R=$(complete mpv other.bin "$MP" "1:$M1")
check '[ "$(st "$R")" = not_found ] && [[ "$R" == *NoSuchUpload* ]]' "the upload of another key is NoSuchUpload"
R=$(complete mpv big.bin "$MP" "1:$M1 2:$M2 3:$M3" rq-bob "$BOB")
check '[ "$(st "$R")" = permission_denied ] && nothing' "bob may not complete alice's upload ($R)"
R=$(parts mpv big.bin "$MP")
check '[ "$(pbget "${R#ok }" 1.1 | wc -l)" = 4 ]' "after the refusals the upload still has its 4 parts"

# ---- survives a restart -----------------------------------------------------------
stack_restart_services
R=$(parts mpv big.bin "$MP")
check '[ "$(pbget "${R#ok }" 1.1 | wc -l)" = 4 ]' "the upload and its parts survive a restart of the services"

# ---- complete -------------------------------------------------------------------------
cat "$T_DIR/p1" "$T_DIR/p2" "$T_DIR/p3" >"$T_DIR/whole"
B1=$(blobs "$V")
R=$(complete mpv big.bin "$MP" "1:$M1 2:${M2^^} 3:$M3" rq-complete-1)
check '[ "$(st "$R")" = ok ] && [ "$(pbget "${R#ok }" 2)" = 1 ]' "CompleteMultipart of parts 1..3 (an upper-case ETag matches too) creates the object ($R)"
check '[ "$(pbget "${R#ok }" 1.6)" = "$(s3etag "$T_DIR/p1" "$T_DIR/p2" "$T_DIR/p3")" ]' "its S3 ETag is the MD5 of the parts' MD5s, -3"
check '[ "$(pbget "${R#ok }" 1.3)" = "$(sha256sum "$T_DIR/whole" | cut -d" " -f1)" ] && [ "$(pbget "${R#ok }" 1.2)" = $(stat -c %s "$T_DIR/whole") ]' "its etag is the SHA-256 of the data, its size the sum"
R2=$(complete mpv big.bin "$MP" "1:$M1 2:${M2^^} 3:$M3" rq-complete-1)
check '[ "$R2" = "$R" ]' "the same completion resent answers the first outcome"
get /api/v1/vaults/mpv/objects/big.bin "$T_DIR/got"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/whole" "$T_DIR/got"' "GET through the REST path gives the parts byte for byte"
ST=$(app_curl alice -o "$T_DIR/rng" -w '%{http_code}' -H 'Range: bytes=5242870-5242889' "$URL/api/v1/vaults/mpv/objects/big.bin")
check '[ "$ST" = 206 ] && cmp -s "$T_DIR/rng" <(tail -c +5242871 "$T_DIR/whole" | head -c 20)' "a range across the parts' boundary"
check 'mgr_wait "[ \"\$(blobs $V)\" = $((B1 - 1)) ]" 10' "no data was copied: the object is the parts' blobs, part 4's is freed ($(blobs "$V") blobs, had $B1)"
app_api alice GET /api/v1/vaults/mpv
check '[ "$(jfield object_count)" = 1 ] && [ "$(jfield bytes_used)" = $(stat -c %s "$T_DIR/whole") ]' "the vault counts the object and its bytes"
R=$(parts mpv big.bin "$MP")
check '[ "$(st "$R")" = not_found ] && [[ "$R" == *NoSuchUpload* ]]' "the completed upload is gone"
check '[ -z "$(rcli --scan --pattern "vault:{$V}:mp:$MP*")" ]' "and its Redis keys"

# ---- replace an object by a multipart one; conditions ---------------------------------
R=$(create mpv big.bin); MP5=$(pbget "${R#ok }" 2)
part mpv big.bin "$MP5" 1 "$T_DIR/small" >/dev/null
R=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + s(3, A[2]) + s(4, v(1, 1) + s(2, A[3])) + v(6, 1)' mpv big.bin "$MP5" "$M4")" \
  vault vault.CompleteMultipart rq-inm app "$ALICE")
check '[ "$(st "$R")" = precondition_failed ]' "If-None-Match on an existing key is refused at completion ($R)"
R=$(complete mpv big.bin "$MP5" "1:$M4")
check '[ "$(st "$R")" = ok ] && [ "$(pbget "${R#ok }" 2)" = "" ]' "a completion replaces the existing object"
get /api/v1/vaults/mpv/objects/big.bin "$T_DIR/got"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/small" "$T_DIR/got"' "which reads back as the new data"
check 'mgr_wait "[ \"\$(blobs $V)\" = 1 ]" 10' "the replaced object's blobs are freed"

# ---- abort ---------------------------------------------------------------------
part mpv a/one "$MP3" 1 "$T_DIR/p1" >/dev/null
part mpv a/one "$MP3" 2 "$T_DIR/small" >/dev/null
B2=$(blobs "$V")
R=$(abort mpv a/one "$MP3" "$BOB")
check '[ "$(st "$R")" = permission_denied ]' "bob may not abort alice's upload"
R=$(abort mpv a/one "$MP3")
check '[ "$(st "$R")" = ok ]' "AbortMultipart"
check 'mgr_wait "[ \"\$(blobs $V)\" = $((B2 - 2)) ]" 10' "frees its parts' data"
R=$(abort mpv a/one "$MP3")
check '[ "$(st "$R")" = not_found ] && [[ "$R" == *NoSuchUpload* ]]' "an aborted upload is NoSuchUpload"
R=$(part mpv a/one "$MP3" 3 "$T_DIR/small")
check '[ "$(st "$R")" = not_found ]' "and takes no more parts"
# A part begun before the abort and committed after it: refused, freed.
R=$(create mpv late); MP6=$(pbget "${R#ok }" 2)
R=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, 1000) + s(7, A[2]) + v(8, 1)' mpv late "$MP6")" vault vault.PutBegin rq-late app "$ALICE")
LVID=$(pbget "${R#ok }" 1) LUP=$(pbget "${R#ok }" 2)
rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, 0) + s(4, open(A[2], "rb").read())' "$LVID" "$LUP" "$T_DIR/small")" vault vault.PutChunk rq-late-c app "$ALICE" >/dev/null
abort mpv late "$MP6" >/dev/null
R=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, 1000) + s(4, A[2]) + s(5, A[3])' "$LVID" "$LUP" "$(sha256sum "$T_DIR/small" | cut -d' ' -f1)" "$M4")" \
  vault vault.PutCommit rq-late-m app "$ALICE")
check '[ "$(st "$R")" = not_found ] && [[ "$R" == *NoSuchUpload* ]]' "a part committed after its upload's abort is NoSuchUpload ($R)"
check 'mgr_wait "[ ! -e $OBJ/$LVID/$LUP ]" 10' "and its data is freed"

# ---- quota ---------------------------------------------------------------------
R=$(create mp-quota q); MPQ=$(pbget "${R#ok }" 2)
part mp-quota q "$MPQ" 1 "$T_DIR/p1" >/dev/null
part mp-quota q "$MPQ" 2 "$T_DIR/p2" >/dev/null
head -c $((13 * MiB)) /dev/urandom >"$T_DIR/p13"
R=$(part mp-quota q "$MPQ" 3 "$T_DIR/p13")
check '[ "$(st "$R")" = payload_too_large ]' "a part over the quota left is refused ($R)"
R=$(complete mp-quota q "$MPQ" "1:$M1 2:$M2")
check '[ "$(st "$R")" = ok ]' "10 MiB of parts complete in 12 MiB of quota"
R=$(create mp-quota q2); MPQ2=$(pbget "${R#ok }" 2)
part mp-quota q2 "$MPQ2" 1 "$T_DIR/small" >/dev/null
head -c $((2 * MiB - 500)) /dev/urandom >"$T_DIR/two"
app_curl alice -o /dev/null -T "$T_DIR/two" "$URL/api/v1/vaults/mp-quota/objects/fill"
R=$(complete mp-quota q2 "$MPQ2" "1:$M4")
check '[ "$(st "$R")" = payload_too_large ]' "a completion past the quota is refused ($R)"
app_api alice HEAD /api/v1/vaults/mp-quota/objects/q2 -I; expect_status 404 "and stores nothing"

# ---- deleting a vault aborts its open uploads -------------------------------------
R=$(create mpv big.bin); MP7=$(pbget "${R#ok }" 2)
part mpv b/two "$MP4" 1 "$T_DIR/small" >/dev/null
part mpv big.bin "$MP7" 1 "$T_DIR/small" >/dev/null
app_api alice DELETE /api/v1/vaults/mpv/objects/big.bin; expect_status 204 "the object deleted"
app_api alice DELETE /api/v1/vaults/mpv; expect_status 204 "a vault with open uploads (and no object) is deleted"
check 'mgr_wait "[ \"\$(blobs $V)\" = 0 ]" 10' "its uploads' parts are freed"
check '[ -z "$(rcli --scan --pattern "vault:{$V}:mp*")" ]' "no upload is left in Redis"
