/* kv_url_parse (common/kv.c): every form of MANAGER_REDIS_URL that API.md
 * names, and the ones it must refuse. */
#include <string.h>

#include "common/kv.h"
#include "tests/lib/check.h"

static const struct {
	const char *url;
	int ok;
	const char *host, *path, *user, *password;
	int port, db;
} cases[] = {
    {"redis://127.0.0.1:6379/0", 1, "127.0.0.1", "", "", "", 6379, 0},
    {"redis://localhost", 1, "localhost", "", "", "", 6379, 0},
    {"redis://h/", 1, "h", "", "", "", 6379, 0},
    {"redis://:secret@host:1/2", 1, "host", "", "", "secret", 1, 2},
    {"redis://secret@host", 1, "host", "", "", "secret", 6379, 0},
    {"redis://app:pw@h:7000/5", 1, "h", "", "app", "pw", 7000, 5},
    /* percent-encoded: '@', ':' and '/' in a password */
    {"redis://:p%40s%3As%2Fw@h/1", 1, "h", "", "", "p@s:s/w", 6379, 1},
    /* an unencoded '@' in the password: the last '@' ends it */
    {"redis://:a@b@h:1/0", 1, "h", "", "", "a@b", 1, 0},
    {"redis://[::1]:6380/3", 1, "::1", "", "", "", 6380, 3},
    {"redis://[::1]", 1, "::1", "", "", "", 6379, 0},
    {"unix:///run/redis/redis.sock", 1, "", "/run/redis/redis.sock", "", "", 6379, 0},
    {"unix:///d/r.sock?db=4&password=hex%2Bpw", 1, "", "/d/r.sock", "", "hex+pw", 6379,
        4},
    {"unix:///d/r.sock?password=x&user=app&db=1000", 1, "", "/d/r.sock", "app", "x", 6379,
        1000},
    {"unix:///d/r.sock?password=", 1, "", "/d/r.sock", "", "", 6379, 0},

    {"", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"http://h", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"rediss://h", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis:///0", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://@h", 1, "h", "", "", "", 6379, 0},
    {"redis://h:0", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h:65536", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h:", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h:1x", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h/1001", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h/-1", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h:6379/0@x", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://[::1", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://[::1]x", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://:p%4@h", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://:p%zz@h", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://:a%00b@h", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"redis://h?db=1", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix://relative.sock", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix://", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix:///", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix:///s?db=1001", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix:///s?db=", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix:///s?bogus=1", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix:///s?password", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"unix:///s?password=%zz", 0, NULL, NULL, NULL, NULL, 0, 0},
};

int
main(void)
{
	char longpath[200], longpw[400];
	struct kv_url u;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mgr_err e;

		memset(&u, 0x55, sizeof(u));
		e = kv_url_parse(cases[i].url, &u);
		if (!cases[i].ok) {
			CHECK(e == MGR_EINVAL, "%s: accepted", cases[i].url);
			continue;
		}
		CHECK(e == MGR_OK, "%s: refused", cases[i].url);
		if (e != MGR_OK)
			continue;
		CHECK(strcmp(u.host, cases[i].host) == 0, "%s: host '%s'", cases[i].url,
		    u.host);
		CHECK(strcmp(u.path, cases[i].path) == 0, "%s: path '%s'", cases[i].url,
		    u.path);
		CHECK(strcmp(u.user, cases[i].user) == 0, "%s: user '%s'", cases[i].url,
		    u.user);
		CHECK(strcmp(u.password, cases[i].password) == 0, "%s: password '%s'",
		    cases[i].url, u.password);
		CHECK(u.port == cases[i].port, "%s: port %d", cases[i].url, u.port);
		CHECK(u.db == cases[i].db, "%s: db %d", cases[i].url, u.db);
	}

	/* Bounded: a socket path longer than sun_path, a password longer than
	 * its buffer. */
	memcpy(longpath, "unix:///", 8);
	memset(longpath + 8, 'a', sizeof(longpath) - 9);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK(kv_url_parse(longpath, &u) == MGR_EINVAL, "long socket path");
	memcpy(longpw, "redis://:", 9);
	memset(longpw + 9, 'p', sizeof(longpw) - 9);
	memcpy(longpw + sizeof(longpw) - 3, "@h", 3);
	CHECK(kv_url_parse(longpw, &u) == MGR_EINVAL, "long password");
	return (fails == 0 ? 0 : 1);
}
