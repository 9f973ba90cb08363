#include "cli/args.h"

#include <stdio.h>
#include <string.h>

int
args_index(const struct args_spec *specs, size_t nspecs, const char *name)
{
	for (size_t i = 0; i < nspecs; i++)
		if (strcmp(specs[i].name, name) == 0)
			return ((int)i);
	return (-1);
}

static int
args_short(const struct args_spec *specs, size_t nspecs, char c)
{
	for (size_t i = 0; i < nspecs; i++)
		if (specs[i].shortname != 0 && specs[i].shortname == c)
			return ((int)i);
	return (-1);
}

static int
args_store(const struct args_spec *s, struct args_val *v, const char *value, char *why,
    size_t whylen)
{
	v->set = 1;
	if (s->kind == ARGS_VALUE) {
		v->value = value;
	} else if (s->kind == ARGS_MULTI) {
		if (v->n >= ARGS_MAX_MULTI) {
			snprintf(why, whylen, "--%s given more than %d times", s->name,
			    ARGS_MAX_MULTI);
			return (-1);
		}
		v->values[v->n++] = value;
		v->value = v->values[0];
	}
	return (0);
}

int
args_parse(const struct args_spec *specs, size_t nspecs, int argc, char *const *argv,
    struct args *out, char *why, size_t whylen)
{
	int only_pos = 0;

	memset(out, 0, sizeof(*out));
	if (nspecs > ARGS_MAX_OPTS) {
		snprintf(why, whylen, "too many options in the table");
		return (-1);
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq, *value = NULL;
		char name[64];
		int k;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (out->npos >= ARGS_MAX_POS) {
				snprintf(why, whylen, "too many arguments");
				return (-1);
			}
			out->pos[out->npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (a[1] != '-') { /* -x: short options take no bundling */
			if (a[2] != '\0' || (k = args_short(specs, nspecs, a[1])) < 0) {
				snprintf(why, whylen, "unknown option %.60s", a);
				return (-1);
			}
		} else {
			size_t n;

			eq = strchr(a + 2, '=');
			n = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			if (n == 0 || n >= sizeof(name)) {
				snprintf(why, whylen, "unknown option %.60s", a);
				return (-1);
			}
			memcpy(name, a + 2, n);
			name[n] = '\0';
			if ((k = args_index(specs, nspecs, name)) < 0) {
				snprintf(why, whylen, "unknown option --%s", name);
				return (-1);
			}
			if (eq != NULL) {
				if (specs[k].kind == ARGS_FLAG) {
					snprintf(why, whylen, "--%s takes no value",
					    name);
					return (-1);
				}
				value = eq + 1;
			}
		}
		if (specs[k].kind != ARGS_FLAG && value == NULL) {
			if (i + 1 >= argc) {
				snprintf(why, whylen, "--%s needs a value (%s)",
				    specs[k].name,
				    specs[k].metavar != NULL ? specs[k].metavar
				                             : "VALUE");
				return (-1);
			}
			value = argv[++i];
		}
		if (args_store(&specs[k], &out->v[k], value, why, whylen) != 0)
			return (-1);
	}
	return (0);
}
