. "$(dirname "$0")/tests/lib/stack.sh"
export MGR_VALGRIND_DIR=/tmp/idle-vg; rm -rf $MGR_VALGRIND_DIR; mkdir -p $MGR_VALGRIND_DIR
export MGR_VALGRIND_GATEWAY=1 MGR_STOP_WAIT=600 MANAGER_CA_KEY_TYPE=ec-p256 MANAGER_RPC_TIMEOUT_MS=60000
export MGR_VALGRIND_OPTS="--show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect"
stack_up
export MGR_CA_PEM
python3 - <<'PY'
import os, socket, ssl, time
PORT = int(os.environ["MANAGER_HTTPS_PORT"])
ctx = ssl.create_default_context(cafile=os.environ["MGR_CA_PEM"]); ctx.check_hostname=False
socks=[ctx.wrap_socket(socket.create_connection(("127.0.0.1", PORT)), server_hostname="x") for i in range(200)]
time.sleep(1)
for s in socks: s.close()
socks=[socket.create_connection(("127.0.0.1", PORT)) for i in range(50)]
time.sleep(1)
for s in socks: s.close()
PY
api GET /healthz; echo $ST
api GET /api/v1/accounts -u "$ADMIN"; echo $ST
sleep 2
mgr_stop
ls -la $MGR_VALGRIND_DIR
