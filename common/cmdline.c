#include "common/cmdline.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <nng/nng.h>
#include <openssl/crypto.h>

#ifndef MGR_VERSION
#define MGR_VERSION "unknown"
#endif

const char *
mgr_version(void)
{
	return (MGR_VERSION);
}

static void
usage(FILE *f, const char *prog, const char *summary)
{
	fprintf(f,
	    "usage: %s [--help | --version]\n"
	    "\n"
	    "%s\n"
	    "\n"
	    "Settings come from the environment, among them:\n"
	    "  MANAGER_DATA_DIR     data directory (default ./.data)\n"
	    "  MANAGER_REDIS_URL    redis://[:password@]host:port/db or\n"
	    "                       unix:///path?db=N&password=...\n"
	    "  MANAGER_LOG_LEVEL    error | warn | info | debug (default info)\n"
	    "  MANAGER_LOG_FORMAT   text | json (default text)\n"
	    "The full list is in API.md and deploy/README.md.\n"
	    "\n"
	    "Options:\n"
	    "  --help     print this and exit\n"
	    "  --version  print the version and exit\n",
	    prog, summary);
}

static int
is_help(const char *a)
{
	return (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0);
}

int
mgr_cmdline(int argc, char **argv, const char *prog, const char *summary)
{
	int help = 0;

	if (argc <= 1)
		return (-1);
	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			help = 1;
		} else if (strcmp(argv[i], "--version") != 0) {
			fprintf(stderr, "%s: %s '%s'\n", prog,
			    argv[i][0] == '-' ? "unknown option" : "unexpected argument",
			    argv[i]);
			usage(stderr, prog, summary);
			return (2);
		}
	}
	if (help) {
		usage(stdout, prog, summary);
		return (0);
	}
	printf("%s %s (%s, nng %s, hiredis %d.%d.%d, jansson %s)\n", prog, MGR_VERSION,
	    OpenSSL_version(OPENSSL_VERSION), nng_version(), HIREDIS_MAJOR, HIREDIS_MINOR,
	    HIREDIS_PATCH, jansson_version_str());
	return (0);
}
