/* vault-svc: wires config, the stores and the RPC handlers together. */
#include <malloc.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/svc.h"
#include "services/vault/chunks.h"
#include "services/vault/crypt.h"
#include "services/vault/handlers.h"
#include "services/vault/metrics.h"

static mgr_err
vault_start(const struct mgr_config *cfg, void **state)
{
	struct vault_svc *s;
	mgr_err rv;

	/* No master key, a wrong one, or no object directory: refuse to
	 * start (crypt.c and chunks.c say why) rather than serve wrong bytes.
	 * Redis unreachable: MGR_EUNAVAIL, and svc_main tries again. */
	if ((rv = vault_crypt_init(cfg->master_key_file, cfg->master_key_old_files)) !=
	    MGR_OK) {
		vault_crypt_fini();
		return (rv == MGR_EUNAVAIL ? rv : MGR_EINVAL);
	}
	if (vault_chunks_init(cfg->object_dir, cfg->mirror_dir) != MGR_OK) {
		vault_crypt_fini();
		return (MGR_EINVAL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (MGR_ENOMEM);
	s->max_object_bytes = cfg->max_object_bytes;
	s->gc_interval_s = cfg->vault_gc_interval_s;
	s->gc_grace_s = cfg->vault_gc_grace_s;
	s->scrub_interval_s = cfg->vault_scrub_interval_s;
	*state = s;
	log_info(NULL, "objects in %s, mirror copies in %s", cfg->object_dir,
	    cfg->mirror_dir);
	return (MGR_OK);
}

static void
vault_stop(void *state)
{
	free(state);
	vault_crypt_fini();
}

int
main(int argc, char **argv)
{
	static const struct svc_def def = {
	    .name = "vault",
	    .summary = "The vault service of the Manager: "
	               "vaults, templates and encrypted objects, over nng RPC.",
	    .methods = vault_methods,
	    .start = vault_start,
	    .background = vault_background,
	    .stop = vault_stop,
	    .metrics = vault_metrics,
	};

	/* Object chunks are ~1 MiB buffers (nng messages, protobuf, sealed
	 * files), several in flight: keep them on the heap and the freed ones
	 * there, instead of an mmap, page faults and a munmap per chunk
	 * (glibc's default thresholds let thread arenas trim what a chunk
	 * freed). */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	return (svc_main(&def, argc, argv));
}
