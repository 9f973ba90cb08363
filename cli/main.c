/* mgr: the command-line client of the Manager's public API (API.md
 * "Command-line client mgr"). Only wiring here: global options, the command
 * table, help, exit codes. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include "common/util.h"

static const struct args_spec global_opts[] = {
    {"url", 0, ARGS_VALUE, "URL",
        "the Manager (MANAGER_URL; default " CLI_DEFAULT_URL ")"},
    {"ca", 0, ARGS_VALUE, "FILE", "CA certificate to trust (MANAGER_CA_CERT)"},
    {"dir", 0, ARGS_VALUE, "DIR", "the application's state directory (default .)"},
    {"json", 0, ARGS_FLAG, NULL, "machine-readable output"},
    {"quiet", 'q', ARGS_FLAG, NULL, "no progress, no log lines"},
    {"verbose", 'v', ARGS_FLAG, NULL, "log more"},
    {"admin-password-file", 0, ARGS_VALUE, "FILE",
        "read the administrator's password from FILE (MANAGER_ADMIN_PASSWORD_FILE)"},
    {"help", 'h', ARGS_FLAG, NULL, "this help"},
    {"version", 0, ARGS_FLAG, NULL, "print the version"},
};
#define NGLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))

static struct args_spec merged[ARGS_MAX_OPTS];
static size_t nmerged;
volatile int cli_stop;
static struct cli *log_cli;

const struct args_val *
cli_optv(const struct args *a, const char *name)
{
	int i = args_index(merged, nmerged, name);

	return (i >= 0 && a->v[i].set ? &a->v[i] : NULL);
}

const char *
cli_opt(const struct args *a, const char *name)
{
	const struct args_val *v = cli_optv(a, name);

	return (v != NULL ? v->value : NULL);
}

int
cli_flag(const struct args *a, const char *name)
{
	return (cli_optv(a, name) != NULL);
}

int
cli_fail(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	return (EXIT_FAIL);
}

int
cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	return (EXIT_USAGE);
}

void
cli_log(struct cli *c, const char *fmt, ...)
{
	char ts[MGR_TIME_MAX], line[1200];
	va_list ap;

	if (c != NULL && c->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mgr_time_format(mgr_now_s(), ts);
	fprintf(stderr, "%s mgr[%ld]: %s\n", ts, (long)getpid(), line);
}

void
cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(v);
}

static void
on_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void
cli_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

void
cli_sleep_ms(int64_t ms)
{
	while (ms > 0 && !cli_stop) {
		int64_t step = ms > 200 ? 200 : ms;
		struct timespec ts = {(time_t)(step / 1000),
		    (long)(step % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

int
cli_random_password(char *out, size_t n)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;

	while (i < n) {
		unsigned char r[64];

		if (RAND_bytes(r, sizeof(r)) != 1)
			return (-1);
		for (size_t k = 0; k < sizeof(r) && i < n; k++)
			if (r[k] < 248) /* 248 = 4 * 62: no modulo bias */
				out[i++] = set[r[k] % 62];
		OPENSSL_cleanse(r, sizeof(r));
	}
	out[n] = '\0';
	return (0);
}

int
cli_parse_when(const char *s, int64_t *out)
{
	int64_t v, unit;
	char *end;

	if (s[0] == '+') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || v <= 0 || v > 100000000)
			return (-1);
		switch (*end) {
		case 'd':
			unit = 86400;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'm':
			unit = 60;
			break;
		case 's':
		case '\0':
			unit = 1;
			break;
		default:
			return (-1);
		}
		if (*end != '\0' && end[1] != '\0')
			return (-1);
		*out = mgr_now_s() + v * unit;
		return (0);
	}
	return (mgr_time_parse(s, out) == MGR_OK ? 0 : -1);
}

/* Reads one line from fd into buf (no newline). */
static int
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return ((int)n);
}

int
cli_admin_password(struct cli *c)
{
	const char *env = getenv("MANAGER_ADMIN_PASSWORD"), *file;
	char buf[1024];
	int fd;

	if (c->admin_password != NULL)
		return (0);
	file = c->admin_password_file;
	if (file == NULL)
		file = getenv("MANAGER_ADMIN_PASSWORD_FILE");
	if (file != NULL && *file != '\0') {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
			cli_fail(c, "%s: cannot read the administrator's password: %s",
			    file, strerror(errno));
			return (-1);
		}
		read_line(fd, buf, sizeof(buf));
		close(fd);
	} else if (env != NULL && *env != '\0') {
		snprintf(buf, sizeof(buf), "%s", env);
	} else {
		struct termios old, quiet;
		const char *u = getenv("MANAGER_ADMIN_USER");
		int ok;

		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0) {
			cli_fail(c,
			    "no administrator password: set MANAGER_ADMIN_PASSWORD or "
			    "MANAGER_ADMIN_PASSWORD_FILE (there is no terminal to ask on)");
			return (-1);
		}
		dprintf(fd, "Password for %s at %s: ", u != NULL && *u ? u : "admin",
		    c->base);
		ok = tcgetattr(fd, &old) == 0;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		if (ok)
			tcsetattr(fd, TCSAFLUSH, &quiet);
		read_line(fd, buf, sizeof(buf));
		if (ok)
			tcsetattr(fd, TCSAFLUSH, &old);
		dprintf(fd, "\n");
		close(fd);
	}
	if (buf[0] == '\0') {
		cli_fail(c, "the administrator's password is empty");
		return (-1);
	}
	c->admin_password = strdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (c->admin_password == NULL)
		return (cli_fail(c, "out of memory"), -1);
	return (0);
}

/* ---- the command table and help ----------------------------------------- */

struct group {
	const struct cli_cmd *cmds;
	const size_t *n;
};

static const struct group groups[] = {
    {cli_admin_cmds, &cli_admin_ncmds},
    {cli_app_cmds, &cli_app_ncmds},
    {cli_vault_cmds, &cli_vault_ncmds},
};

static const struct cli_cmd *
find_cmd(const char *w1, const char *w2, int *words)
{
	char two[128];

	if (w2 != NULL) {
		snprintf(two, sizeof(two), "%s %s", w1, w2);
		for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
			for (size_t i = 0; i < *groups[g].n; i++)
				if (strcmp(groups[g].cmds[i].name, two) == 0) {
					*words = 2;
					return (&groups[g].cmds[i]);
				}
	}
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < *groups[g].n; i++)
			if (strcmp(groups[g].cmds[i].name, w1) == 0) {
				*words = 1;
				return (&groups[g].cmds[i]);
			}
	return (NULL);
}

/* 1 when w is the first word of some two-word command ("account"). */
static int
is_group_word(const char *w)
{
	size_t l = strlen(w);

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < *groups[g].n; i++)
			if (strncmp(groups[g].cmds[i].name, w, l) == 0 &&
			    groups[g].cmds[i].name[l] == ' ')
				return (1);
	return (0);
}

static void
print_opts(FILE *f, const struct args_spec *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o[i].shortname ? "-" : "",
		    o[i].shortname ? o[i].shortname : ' ', o[i].shortname ? ", " : "  ",
		    o[i].name, o[i].metavar ? " " : "", o[i].metavar ? o[i].metavar : "");
		fprintf(f, "  %-30s %s%s\n", o[i].shortname ? left : left + 2, o[i].help,
		    o[i].kind == ARGS_MULTI ? " (repeatable)" : "");
	}
}

static void
help_all(FILE *f, const char *prefix)
{
	fprintf(f,
	    "usage: mgr [options] COMMAND [arguments]\n\n"
	    "The command-line client of the Manager (client certificates for "
	    "private accounts, locked vaults).\n\n");
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		fprintf(f, "%s",
		    g == 0       ? "Administrators (MANAGER_ADMIN_USER, "
		                   "MANAGER_ADMIN_PASSWORD):\n"
		        : g == 1 ? "\nApplications (state in --dir):\n"
		                 : "\nLocked vaults (applications):\n");
		for (size_t i = 0; i < *groups[g].n; i++) {
			const struct cli_cmd *k = &groups[g].cmds[i];

			if (prefix != NULL &&
			    strncmp(k->name, prefix, strlen(prefix)) != 0)
				continue;
			fprintf(f, "  mgr %-22s %s\n", k->name, k->summary);
		}
	}
	fprintf(f, "\nGlobal options:\n");
	print_opts(f, global_opts, NGLOBAL);
	fprintf(f,
	    "\n`mgr COMMAND --help` tells more; see also mgr(1).\n"
	    "Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.\n");
}

static void
help_cmd(FILE *f, const struct cli_cmd *k)
{
	fprintf(f, "usage: mgr %s%s%s [options]\n\n%s\n", k->name, k->args ? " " : "",
	    k->args ? k->args : "", k->summary);
	if (k->nopts > 0) {
		fprintf(f, "\nOptions:\n");
		print_opts(f, k->opts, k->nopts);
	}
	fprintf(f, "\nGlobal options:\n");
	print_opts(f, global_opts, NGLOBAL);
}

static void
print_version(void)
{
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	printf("mgr %s (libcurl %s, %s, jansson %s)\n", MGR_CLI_VERSION,
	    v != NULL ? v->version : "?", OpenSSL_version(OPENSSL_VERSION),
	    jansson_version_str());
}

/* 1 when argv[i] is a global option that takes a value as the next word. */
static int
global_takes_value(const char *a)
{
	if (strncmp(a, "--", 2) != 0 || strchr(a, '=') != NULL)
		return (0);
	for (size_t i = 0; i < NGLOBAL; i++)
		if (strcmp(a + 2, global_opts[i].name) == 0)
			return (global_opts[i].kind != ARGS_FLAG);
	return (0);
}

static int
run(struct cli *c, int argc, char **argv)
{
	char *rest[256], why[256];
	int nrest = 0, i = 1, words = 0;
	const char *w1 = NULL, *w2 = NULL;
	const struct cli_cmd *k;
	struct args a;

	if (argc > 250)
		return (cli_usage(c, "too many arguments"));
	/* leading global options */
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		rest[nrest++] = argv[i];
		if (global_takes_value(argv[i]) && i + 1 < argc)
			rest[nrest++] = argv[++i];
	}
	if (i < argc)
		w1 = argv[i];
	if (i + 1 < argc)
		w2 = argv[i + 1];
	if (w1 == NULL || strcmp(w1, "help") == 0) {
		memcpy(merged, global_opts, sizeof(global_opts));
		nmerged = NGLOBAL;
		if (args_parse(merged, nmerged, nrest, rest, &a, why, sizeof(why)) != 0)
			return (cli_usage(c, "%s (see mgr --help)", why));
		if (FLAG(&a, "version")) {
			print_version();
			return (EXIT_OK);
		}
		if (FLAG(&a, "help") || w1 != NULL) {
			help_all(stdout, NULL);
			return (EXIT_OK);
		}
		help_all(stderr, NULL);
		return (cli_usage(c, "no command given"));
	}
	if ((k = find_cmd(w1, w2, &words)) == NULL) {
		if (is_group_word(w1)) {
			int want_help = w2 != NULL &&
			    (strcmp(w2, "--help") == 0 || strcmp(w2, "-h") == 0 ||
			        strcmp(w2, "help") == 0);

			help_all(want_help ? stdout : stderr, w1);
			if (want_help)
				return (EXIT_OK);
			return (w2 == NULL
			        ? cli_usage(c, "%s: which one?", w1)
			        : cli_usage(c, "unknown command: %s %s", w1, w2));
		}
		return (cli_usage(c, "unknown command: %s (see mgr --help)", w1));
	}
	for (i += words; i < argc; i++)
		rest[nrest++] = argv[i];
	memcpy(merged, global_opts, sizeof(global_opts));
	if (NGLOBAL + k->nopts > ARGS_MAX_OPTS)
		return (cli_fail(c, "internal: too many options"));
	if (k->nopts > 0)
		memcpy(merged + NGLOBAL, k->opts, k->nopts * sizeof(k->opts[0]));
	nmerged = NGLOBAL + k->nopts;
	if (args_parse(merged, nmerged, nrest, rest, &a, why, sizeof(why)) != 0)
		return (
		    cli_usage(c, "%s: %s (see mgr %s --help)", k->name, why, k->name));
	if (FLAG(&a, "help")) {
		help_cmd(stdout, k);
		return (EXIT_OK);
	}
	if (FLAG(&a, "version")) {
		print_version();
		return (EXIT_OK);
	}
	if (a.npos < k->min_pos || a.npos > k->max_pos)
		return (cli_usage(c, "usage: mgr %s%s%s", k->name, k->args ? " " : "",
		    k->args ? k->args : ""));
	c->url = OPT(&a, "url");
	c->ca_file = OPT(&a, "ca");
	if (c->ca_file == NULL && getenv("MANAGER_CA_CERT") != NULL &&
	    *getenv("MANAGER_CA_CERT") != '\0')
		c->ca_file = getenv("MANAGER_CA_CERT");
	c->dir = OPT(&a, "dir") != NULL ? OPT(&a, "dir") : ".";
	c->json = FLAG(&a, "json");
	c->quiet = FLAG(&a, "quiet");
	c->verbose = FLAG(&a, "verbose");
	c->admin_password_file = OPT(&a, "admin-password-file");
	c->progress = !c->quiet && !c->json && isatty(STDOUT_FILENO) &&
	    isatty(STDERR_FILENO);
	return (k->run(c, &a));
}

int
main(int argc, char **argv)
{
	struct cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	log_cli = &c;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "mgr: cannot start libcurl\n");
		return (EXIT_FAIL);
	}
	rc = run(&c, argc, argv);
	if (rc != EXIT_OK) {
		if (c.reason[0] == '\0')
			snprintf(c.reason, sizeof(c.reason), "failed");
		fprintf(stderr, "mgr: %s\n", c.reason);
	}
	http_reset(&c);
	if (c.admin_password != NULL) {
		OPENSSL_cleanse(c.admin_password, strlen(c.admin_password));
		free(c.admin_password);
	}
	curl_global_cleanup();
	fflush(stdout);
	return (rc);
}
