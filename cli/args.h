/* Command-line options: a small table-driven parser, pure (no I/O), so that
 * every rule of it is unit-tested (tests/cli/test_args.c). */
#ifndef MGR_CLI_ARGS_H
#define MGR_CLI_ARGS_H

#include <stddef.h>

#define ARGS_MAX_OPTS 40
#define ARGS_MAX_POS 8
#define ARGS_MAX_MULTI 16

enum args_kind {
	ARGS_FLAG,  /* --name */
	ARGS_VALUE, /* --name VALUE or --name=VALUE; the last one given wins */
	ARGS_MULTI, /* --name VALUE, repeatable */
};

struct args_spec {
	const char *name; /* without the leading "--" */
	char shortname;   /* 0: none */
	enum args_kind kind;
	const char *metavar; /* for --help, e.g. "FILE" */
	const char *help;
};

struct args_val {
	int set;
	const char *value;                  /* ARGS_VALUE */
	const char *values[ARGS_MAX_MULTI]; /* ARGS_MULTI */
	size_t n;
};

struct args {
	struct args_val v[ARGS_MAX_OPTS]; /* indexed like the spec table */
	const char *pos[ARGS_MAX_POS];
	size_t npos;
};

/* Parses argv[0..argc) (no program or command name in it) against specs
 * (nspecs <= ARGS_MAX_OPTS). Options and positional arguments may mix; "--"
 * ends the options; "-" alone is positional. Returns 0, or -1 with a one-line
 * reason in why (unknown option, missing value, value given to a flag,
 * repeated too often, too many arguments). */
int args_parse(const struct args_spec *specs, size_t nspecs, int argc, char *const *argv,
    struct args *out, char *why, size_t whylen);

/* Index of option `name` in specs, or -1. */
int args_index(const struct args_spec *specs, size_t nspecs, const char *name);

#endif
