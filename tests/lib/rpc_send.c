/* rpc_send: one RPC straight to a service, as the gateway would send it, for
 * tests that need what HTTP cannot do (tests/e2e/replay.sh sends the same
 * request id twice, as nng does when a replica dies before answering).
 *
 *   rpc_send SERVICE METHOD REQUEST_ID KIND CALLER_ID [CRED_VERSION [ROLE]]
 *
 * SERVICE is account, ca or vault (its address comes from the MANAGER_*
 * environment, like the gateway's); KIND admin, temp, app or service; the
 * request payload is read from stdin as hex. Prints one line: "ok <reply
 * payload as hex>" or "<error code> <message>". Exit status 0 when the call
 * got an answer (whatever it was), 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rpc.h"
#include "common/util.h"

#define PAYLOAD_MAX RPC_MSG_MAX /* a whole chunk RPC (vault.PutChunk) */

/* The request payload: hex on stdin, whitespace ignored. */
static int
read_payload(uint8_t *buf, size_t max, size_t *len)
{
	int c, hi = -1, v;
	size_t n = 0;

	while ((c = getchar()) != EOF) {
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if ((v = mgr_hex_digit(c)) < 0)
			return (-1);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= max)
			return (-1);
		buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return (-1);
	*len = n;
	return (0);
}

static int
kind_of(const char *s, Mgr__Caller__Kind *out)
{
	static const struct {
		const char *name;
		Mgr__Caller__Kind kind;
	} kinds[] = {
	    {"none", MGR__CALLER__KIND__NONE},
	    {"admin", MGR__CALLER__KIND__ADMIN},
	    {"temp", MGR__CALLER__KIND__TEMP},
	    {"app", MGR__CALLER__KIND__APP},
	    {"service", MGR__CALLER__KIND__SERVICE},
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(s, kinds[i].name) == 0) {
			*out = kinds[i].kind;
			return (0);
		}
	return (-1);
}

int
main(int argc, char **argv)
{
	struct mgr_config cfg;
	struct rpc_client *c = NULL;
	Mgr__Caller caller = MGR__CALLER__INIT;
	Mgr__Empty *wrapped = NULL;
	ProtobufCMessage *out = NULL;
	uint8_t *payload = NULL, *packed = NULL;
	const char *addr;
	char msg[256];
	size_t len = 0, n;
	int64_t cv = 0;
	int rc = 1;
	mgr_err rv;

	if (argc < 6 || argc > 8) {
		fprintf(stderr,
		    "usage: rpc_send SERVICE METHOD REQUEST_ID KIND "
		    "CALLER_ID [CRED_VERSION [ROLE]] < payload.hex\n");
		return (2);
	}
	if (kind_of(argv[4], &caller.kind) != 0 ||
	    (argc > 6 && mgr_parse_i64(argv[6], &cv) != MGR_OK)) {
		fprintf(stderr, "rpc_send: bad KIND or CRED_VERSION\n");
		return (2);
	}
	caller.id = argv[5];
	caller.cred_version = (uint64_t)cv;
	caller.role = argc > 7 ? argv[7] : (char *)"";
	caller.cert_serial = (char *)"";
	if ((payload = malloc(PAYLOAD_MAX)) == NULL ||
	    read_payload(payload, PAYLOAD_MAX, &len) != 0) {
		fprintf(stderr, "rpc_send: the payload on stdin is not hex\n");
		goto out;
	}
	if (mgr_config_load(&cfg) != MGR_OK) {
		fprintf(stderr, "rpc_send: bad MANAGER_* configuration\n");
		goto out;
	}
	if (strcmp(argv[1], "account") == 0)
		addr = cfg.account_addr;
	else if (strcmp(argv[1], "ca") == 0)
		addr = cfg.ca_addr;
	else if (strcmp(argv[1], "vault") == 0)
		addr = cfg.vault_addr;
	else {
		fprintf(stderr, "rpc_send: SERVICE is account, ca or vault\n");
		goto out;
	}
	if (rpc_client_create(&c, addr) != MGR_OK) {
		fprintf(stderr, "rpc_send: cannot dial %s\n", addr);
		goto out;
	}
	/* The payload goes as it is: wrap it as the unknown fields of an
	 * Empty, which protobuf-c packs back byte for byte. The reply comes
	 * back the same way. */
	if ((wrapped = mgr__empty__unpack(NULL, len, payload)) == NULL) {
		fprintf(stderr, "rpc_send: the payload is not protobuf\n");
		goto out;
	}
	msg[0] = '\0';
	rv = rpc_call(c, argv[2], argv[3], &caller, &wrapped->base,
	    &mgr__empty__descriptor, &out, msg, sizeof(msg), 0);
	if (rv != MGR_OK) {
		printf("%s %s\n", mgr_err_code(rv), msg);
		rc = rv == MGR_EUNAVAIL ? 1 : 0;
		goto out;
	}
	n = protobuf_c_message_get_packed_size(out);
	if ((packed = malloc(n ? n : 1)) == NULL)
		goto out;
	protobuf_c_message_pack(out, packed);
	printf("ok ");
	for (size_t i = 0; i < n; i++)
		printf("%02x", packed[i]);
	printf("\n");
	rc = 0;
out:
	free(packed);
	if (out != NULL)
		protobuf_c_message_free_unpacked(out, NULL);
	rpc_client_destroy(c);
	if (wrapped != NULL)
		mgr__empty__free_unpacked(wrapped, NULL);
	free(payload);
	return (rc);
}
