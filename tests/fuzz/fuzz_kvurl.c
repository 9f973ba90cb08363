/* Fuzz target: kv_url_parse (common/kv.c), MANAGER_REDIS_URL. */
#include <string.h>

#include "common/kv.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_url u;
	char *s;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return (0);
	memset(&u, 0x55, sizeof(u));
	if (kv_url_parse(s, &u) == MGR_OK) {
		int tcp = strncmp(s, "redis://", 8) == 0;

		FUZZ_CHECK(tcp || strncmp(s, "unix://", 7) == 0);
		FUZZ_CHECK(memchr(u.host, '\0', sizeof(u.host)) != NULL);
		FUZZ_CHECK(memchr(u.path, '\0', sizeof(u.path)) != NULL);
		/* exactly one of a host (redis://) and a socket path (unix://) */
		FUZZ_CHECK(tcp ? u.host[0] != '\0' && u.path[0] == '\0'
		               : u.host[0] == '\0' && u.path[0] == '/');
		FUZZ_CHECK(memchr(u.user, '\0', sizeof(u.user)) != NULL);
		FUZZ_CHECK(memchr(u.password, '\0', sizeof(u.password)) != NULL);
		FUZZ_CHECK(u.port >= 1 && u.port <= 65535);
		FUZZ_CHECK(u.db >= 0 && u.db <= 1000);
		FUZZ_CHECK(strchr(u.host, '/') == NULL);
	}
	free(s);
	return (0);
}
