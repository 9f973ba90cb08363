/* cli/args.c: options and positional arguments of mgr's commands. */
#include <string.h>

#include "cli/args.h"
#include "tests/lib/check.h"

static const struct args_spec spec[] = {
    {"name", 0, ARGS_VALUE, "NAME", ""},
    {"json", 0, ARGS_FLAG, NULL, ""},
    {"template", 0, ARGS_MULTI, "ID", ""},
    {"quiet", 'q', ARGS_FLAG, NULL, ""},
    {"dir", 0, ARGS_VALUE, "DIR", ""},
};
#define N (sizeof(spec) / sizeof(spec[0]))

struct row {
	const char *argv[12];
	int ok;
	const char *why; /* part of the reason when refused */
};

static const struct row rows[] = {
    {{"--name", "x", NULL}, 1, NULL},
    {{"--name=x", "--json", "pos", NULL}, 1, NULL},
    {{"pos", "--name", NULL}, 0, "needs a value"},
    {{"--json=1", NULL}, 0, "takes no value"},
    {{"--nope", NULL}, 0, "unknown option --nope"},
    {{"-x", NULL}, 0, "unknown option -x"},
    {{"-qq", NULL}, 0, "unknown option"},
    {{"--", "--name", NULL}, 1, NULL},
    {{"-", NULL}, 1, NULL},
    {{"--=x", NULL}, 0, "unknown option"},
    {{"a", "b", "c", "d", "e", "f", "g", "h", "i", NULL}, 0, "too many arguments"},
};

int
main(void)
{
	struct args a;
	char why[200];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int argc = 0, rv;

		while (rows[i].argv[argc] != NULL)
			argc++;
		why[0] = '\0';
		rv = args_parse(spec, N, argc, (char *const *)rows[i].argv, &a, why,
		    sizeof(why));
		CHECK((rv == 0) == rows[i].ok, "row %zu: rv %d (%s)", i, rv, why);
		if (!rows[i].ok && rows[i].why != NULL)
			CHECK(strstr(why, rows[i].why) != NULL, "row %zu: reason '%s'", i,
			    why);
	}

	/* values, the last of a value option wins, repeats of a multi option */
	{
		char *argv[] = {"--name", "a", "p1", "--template", "t1", "-q", "--name=b",
		    "--template", "t2", "--", "--json"};

		CHECK(args_parse(spec, N, 11, argv, &a, why, sizeof(why)) == 0, "%s",
		    why);
		CHECK(a.v[0].set && strcmp(a.v[0].value, "b") == 0, "last --name wins");
		CHECK(!a.v[1].set, "--json after -- is an argument");
		CHECK(a.v[2].n == 2 && strcmp(a.v[2].values[1], "t2") == 0,
		    "two templates");
		CHECK(a.v[3].set, "-q");
		CHECK(a.npos == 2 && strcmp(a.pos[0], "p1") == 0 &&
		        strcmp(a.pos[1], "--json") == 0,
		    "positionals");
		CHECK(!a.v[4].set && a.v[4].value == NULL, "unset value is NULL");
	}
	/* an empty value is a value */
	{
		char *argv[] = {"--dir="};

		CHECK(args_parse(spec, N, 1, argv, &a, why, sizeof(why)) == 0 &&
		        a.v[4].set && strcmp(a.v[4].value, "") == 0,
		    "--dir=");
	}
	/* a multi option has a bound */
	{
		char *argv[2 * ARGS_MAX_MULTI + 2];
		int n = 0;

		for (int i = 0; i <= ARGS_MAX_MULTI; i++) {
			argv[n++] = "--template";
			argv[n++] = "t";
		}
		CHECK(args_parse(spec, N, n, argv, &a, why, sizeof(why)) != 0 &&
		        strstr(why, "more than") != NULL,
		    "too many --template: %s", why);
	}
	CHECK(args_index(spec, N, "dir") == 4 && args_index(spec, N, "di") == -1,
	    "args_index");
	return (fails ? 1 : 0);
}
