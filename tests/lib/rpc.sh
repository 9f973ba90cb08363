# Calls a service directly over nng, as the gateway would (tests/lib/rpc_send.c),
# with messages built by tests/lib/pb.py. Source after tests/lib/stack.sh.
RS=$MGR_BIN/tests/rpc_send
PB=$MGR_ROOT/tests/lib/pb.py
# pb EXPR [ARG...]: hex of a message (pb.py enc); pbget HEX PATH: a field.
pb() { python3 "$PB" enc "$@"; }
pbget() { python3 "$PB" get "$1" "$2"; }
# rs PAYLOAD_HEX SERVICE METHOD REQUEST_ID KIND CALLER_ID [CV [ROLE]]: the
# reply line ("ok HEX" or the status and message).
rs() { local p=$1; shift; printf '%s' "$p" | "$RS" "$@"; }
# st REPLY: its status word.
st() { printf '%s' "${1%% *}"; }
