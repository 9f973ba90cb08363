/* vault-svc: wires config and the RPC handlers together. */
#include <malloc.h>
#include <stdlib.h>

#include "common/svc.h"
#include "services/vault/handlers.h"

static mgr_err
vault_start(const struct mgr_config *cfg, void **state)
{
	struct vault_svc *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (MGR_ENOMEM);
	s->max_object_bytes = cfg->max_object_bytes;
	*state = s;
	return (MGR_OK);
}

static void
vault_stop(void *state)
{
	free(state);
}

int
main(void)
{
	static const struct svc_def def = {
		.name = "vault",
		.methods = vault_methods,
		.start = vault_start,
		.stop = vault_stop,
	};

	/* Object chunks are ~1 MiB buffers (nng messages, protobuf, hiredis),
	 * several in flight: keep them on the heap and the freed ones there,
	 * instead of an mmap, page faults and a munmap per chunk (glibc's
	 * default thresholds let thread arenas trim what a chunk freed). */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	return (svc_main(&def));
}
