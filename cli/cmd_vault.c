/* Locked vaults and their objects, streamed: put and get hold a bounded
 * buffer, never the object, and check the SHA-256 `etag` of the API. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/bundle.h"
#include "cli/fsx.h"
#include "common/util.h"

#define KEY_MAX 1024

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "-");
}

static void
print_vault(json_t *v)
{
	printf("%s  %s  objects %lld  bytes %lld  template %s%s%s\n", jstr(v, "name"),
	    jstr(v, "id"),
	    (long long)json_integer_value(json_object_get(v, "object_count")),
	    (long long)json_integer_value(json_object_get(v, "bytes_used")),
	    jstr(v, "vault_template_id"),
	    json_is_string(json_object_get(v, "mirror_template_id")) ? "  mirror " : "",
	    json_is_string(json_object_get(v, "mirror_template_id"))
	        ? jstr(v, "mirror_template_id")
	        : "");
}

/* VAULT/KEY into the escaped vault name and key (key may be empty). */
static int
split_target(struct cli *c, const char *t, char vault[200], char key[3 * KEY_MAX + 1],
    char rawkey[KEY_MAX + 1])
{
	const char *slash = strchr(t, '/');
	size_t vl = slash != NULL ? (size_t)(slash - t) : strlen(t);
	char v[70];

	if (vl < 3 || vl > 63)
		return (cli_usage(c,
		    "%.100s: not VAULT/KEY (a vault name has 3 to 63 characters)", t));
	memcpy(v, t, vl);
	v[vl] = '\0';
	if (http_escape(v, 0, vault, 200) != 0)
		return (cli_usage(c, "bad vault name"));
	rawkey[0] = key[0] = '\0';
	if (slash != NULL) {
		if (strlen(slash + 1) > KEY_MAX)
			return (
			    cli_usage(c, "an object key has at most %d bytes", KEY_MAX));
		snprintf(rawkey, KEY_MAX + 1, "%s", slash + 1);
		if (http_escape(slash + 1, 1, key, 3 * KEY_MAX + 1) != 0)
			return (cli_usage(c, "the key is too long"));
	}
	return (0);
}

static int
app_state_for(struct cli *c, struct app_state *s)
{
	return (state_load(c, s) != 0 ? EXIT_FAIL : EXIT_OK);
}

/* ---- vaults --------------------------------------------------------------- */

/* CreateBucket on the S3 listener: a vault of the default template. */
static int
create_by_s3(struct cli *c, struct app_state *s, const char *name)
{
	char saved[sizeof(c->base)], s3[BUNDLE_URL_MAX], path[100];
	const char *u = json_string_value(json_object_get(s->account, "s3_url"));
	struct http_resp r;
	int rv;

	if (getenv("MANAGER_S3_URL") != NULL && *getenv("MANAGER_S3_URL") != '\0')
		u = getenv("MANAGER_S3_URL");
	if ((u == NULL || *u == '\0') && bundle_s3_url(c->base, s3, sizeof(s3)) == 0)
		u = s3;
	if (u == NULL || strlen(u) >= sizeof(c->base))
		return (cli_fail(c, "no vault template: give --template ID"));
	snprintf(saved, sizeof(saved), "%s", c->base);
	snprintf(c->base, sizeof(c->base), "%s", u);
	snprintf(path, sizeof(path), "/%s", name);
	rv = http_request(c, CLI_AUTH_APP, "PUT", path, "", 0, NULL, &r);
	snprintf(c->base, sizeof(c->base), "%s", saved);
	if (rv != 0) {
		char why[CLI_REASON_MAX];

		snprintf(why, sizeof(why), "%s", c->reason);
		return (cli_fail(c,
		    "no vault template in account.json, and the S3 "
		    "endpoint (default template) failed: %.600s; give --template ID",
		    why));
	}
	if (r.status != 200) {
		cli_fail(c,
		    "PUT %s/%s (S3 CreateBucket, default template): HTTP %ld: %.200s", u,
		    name, r.status, r.body.data != NULL ? r.body.data : "");
		http_resp_free(&r);
		return (EXIT_FAIL);
	}
	http_resp_free(&r);
	return (EXIT_OK);
}

static int
c_vault_create(struct cli *c, struct args *a)
{
	struct app_state s;
	const char *tpl = OPT(a, "template"), *mt = OPT(a, "mirror-template");
	const char *name = a->pos[0];
	json_t *body, *o = NULL;
	char path[300], esc[200];
	int rc = EXIT_FAIL;

	if (strlen(name) < 3 || strlen(name) > 63 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name))
		return (cli_usage(c, "a vault name is 3 to 63 of [a-z0-9-]"));
	if (app_state_for(c, &s) != EXIT_OK)
		return (EXIT_FAIL);
	if (tpl == NULL &&
	    json_is_string(json_object_get(s.account, "vault_template_id")))
		tpl = jstr(s.account, "vault_template_id");
	if (tpl == NULL) {
		if (mt != NULL) {
			rc = cli_usage(c,
			    "--mirror-template needs a vault template (--template)");
			goto out;
		}
		if (create_by_s3(c, &s, name) != EXIT_OK)
			goto out;
		http_escape(name, 0, esc, sizeof(esc));
		snprintf(path, sizeof(path), "/api/v1/vaults/%s", esc);
		if (http_json(c, CLI_AUTH_APP, "GET", path, NULL, NULL, &o) != 0)
			goto out;
	} else {
		body = json_pack("{s:s, s:s}", "name", name, "vault_template_id", tpl);
		if (mt != NULL)
			json_object_set_new(body, "mirror_template_id", json_string(mt));
		rc = http_json(c, CLI_AUTH_APP, "POST", "/api/v1/vaults", body, NULL, &o);
		json_decref(body);
		if (rc != 0) {
			rc = EXIT_FAIL;
			goto out;
		}
	}
	if (c->json) {
		cli_print_json(o);
		o = NULL;
	} else {
		print_vault(o);
	}
	rc = EXIT_OK;
out:
	json_decref(o);
	state_free(&s);
	return (rc);
}

static int
c_vault_list(struct cli *c, struct args *a)
{
	struct app_state s;
	json_t *all = NULL, *v;
	size_t i;

	(void)a;
	if (app_state_for(c, &s) != EXIT_OK)
		return (EXIT_FAIL);
	if (http_list_all(c, CLI_AUTH_APP, "/api/v1/vaults", "vaults", &all) != 0) {
		state_free(&s);
		return (EXIT_FAIL);
	}
	state_free(&s);
	if (c->json) {
		cli_print_json(json_pack("{s:o}", "vaults", all));
		return (EXIT_OK);
	}
	json_array_foreach(all, i, v) print_vault(v);
	json_decref(all);
	return (EXIT_OK);
}

static int
vault_simple(struct cli *c, struct args *a, const char *method)
{
	struct app_state s;
	char path[300], esc[200];
	json_t *o = NULL;
	int rc;

	if (http_escape(a->pos[0], 0, esc, sizeof(esc)) != 0)
		return (cli_usage(c, "bad vault name"));
	if (app_state_for(c, &s) != EXIT_OK)
		return (EXIT_FAIL);
	snprintf(path, sizeof(path), "/api/v1/vaults/%s", esc);
	rc = http_json(c, CLI_AUTH_APP, method, path, NULL, NULL, &o);
	state_free(&s);
	if (rc != 0)
		return (EXIT_FAIL);
	if (o == NULL) {
		if (c->json)
			cli_print_json(
			    json_pack("{s:s, s:b}", "name", a->pos[0], "deleted", 1));
		else if (!c->quiet)
			printf("%s: deleted\n", a->pos[0]);
	} else if (c->json) {
		cli_print_json(o);
	} else {
		print_vault(o);
		json_decref(o);
	}
	return (EXIT_OK);
}

static int
c_vault_show(struct cli *c, struct args *a)
{
	return (vault_simple(c, a, "GET"));
}

static int
c_vault_delete(struct cli *c, struct args *a)
{
	return (vault_simple(c, a, "DELETE"));
}

/* ---- objects -------------------------------------------------------------- */

struct xfer {
	struct cli *c;
	FILE *f;
	int fd;
	EVP_MD_CTX *md;
	const char *label;
	int64_t t0, last;
	curl_off_t total;
	curl_off_t p_dt, p_dn, p_ut, p_un; /* the last progress libcurl told */
	int failed_errno;
};

static void
human(double v, char *out, size_t outlen)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, outlen, i == 0 ? "%.0f %s" : "%.1f %s", v, u[i]);
}

static void
progress_show(struct xfer *x, int64_t now)
{
	curl_off_t total = x->p_ut > 0 ? x->p_ut : x->p_dt;
	curl_off_t done = x->p_ut > 0 || x->p_un > 0 ? x->p_un : x->p_dn;
	char a[32], b[32], r[32];
	double secs;

	x->last = now;
	secs = (double)(now - x->t0) / 1000.0;
	human((double)done, a, sizeof(a));
	human(secs > 0 ? (double)done / secs : 0, r, sizeof(r));
	if (total > 0) {
		human((double)total, b, sizeof(b));
		fprintf(stderr, "\r%s  %3d%%  %s / %s  %s/s   ", x->label,
		    (int)(100.0 * (double)done / (double)total), a, b, r);
	} else {
		fprintf(stderr, "\r%s  %s  %s/s   ", x->label, a, r);
	}
}

static int
xfer_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = arg;
	int64_t now = mgr_now_ms();

	x->p_dt = dt;
	x->p_dn = dn;
	x->p_ut = ut;
	x->p_un = un;
	if (x->c->progress && now - x->last >= 250)
		progress_show(x, now);
	return (0);
}

/* The last figures, however short the transfer was (one under 250 ms would
 * otherwise show only its first, empty, line), then the line ends. */
static void
progress_end(struct xfer *x)
{
	if (!x->c->progress || x->last == 0)
		return;
	progress_show(x, mgr_now_ms());
	fprintf(stderr, "\n");
}

static size_t
put_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t got = fread(p, 1, size * n, x->f);

	if (got == 0 && ferror(x->f)) {
		x->failed_errno = errno;
		return (CURL_READFUNC_ABORT);
	}
	EVP_DigestUpdate(x->md, p, got);
	return (got);
}

static void
hex(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int
c_put(struct cli *c, struct args *a)
{
	const char *file = a->pos[0];
	char vault[200], key[3 * KEY_MAX + 1], raw[KEY_MAX + 1], path[4096];
	struct app_state s;
	struct http_stream st;
	struct http_resp r;
	struct xfer x;
	struct stat sb;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	char digest[2 * EVP_MAX_MD_SIZE + 1];
	json_t *o = NULL;
	int rc = EXIT_FAIL, loaded = 0;

	memset(&x, 0, sizeof(x));
	if ((rc = split_target(c, a->pos[1], vault, key, raw)) != 0)
		return (rc);
	rc = EXIT_FAIL;
	if (key[0] == '\0' || key[strlen(key) - 1] == '/') { /* VAULT/ or VAULT/dir/ */
		char b[FSX_PATH_MAX], k2[KEY_MAX + 1];

		if (strcmp(file, "-") == 0)
			return (cli_usage(c, "put - needs VAULT/KEY"));
		snprintf(b, sizeof(b), "%s", file);
		if ((size_t)snprintf(k2, sizeof(k2), "%s%s", raw, basename(b)) >=
		        sizeof(k2) ||
		    http_escape(k2, 1, key, sizeof(key)) != 0)
			return (cli_usage(c, "the key is too long"));
		snprintf(raw, sizeof(raw), "%s", k2);
	}
	x.c = c;
	x.label = raw;
	x.f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (x.f == NULL)
		return (cli_fail(c, "%s: %s", file, strerror(errno)));
	if (app_state_for(c, &s) != EXIT_OK)
		goto out;
	loaded = 1;
	memset(&st, 0, sizeof(st));
	st.in = x.f;
	st.in_size = fstat(fileno(x.f), &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_size
	                                                                 : -1;
	st.read = put_read;
	st.read_arg = &x;
	st.progress = xfer_progress;
	st.progress_arg = &x;
	st.low_speed_time = 120;
	x.md = EVP_MD_CTX_new();
	if (x.md == NULL || EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1)
		goto out;
	x.t0 = mgr_now_ms();
	snprintf(path, sizeof(path), "/api/v1/vaults/%s/objects/%s", vault, key);
	if (http_request(c, CLI_AUTH_APP, "PUT", path, NULL, 0, &st, &r) != 0) {
		progress_end(&x);
		if (x.failed_errno != 0)
			cli_fail(c, "%s: %s", file, strerror(x.failed_errno));
		goto out;
	}
	progress_end(&x);
	if (r.status < 200 || r.status > 299) {
		http_set_error(c, "PUT", path, &r);
		http_resp_free(&r);
		goto out;
	}
	EVP_DigestFinal_ex(x.md, d, &dl);
	hex(d, dl, digest);
	o = r.body.data != NULL ? json_loadb(r.body.data, r.body.len, 0, NULL) : NULL;
	http_resp_free(&r);
	if (o == NULL || strcmp(jstr(o, "etag"), digest) != 0) {
		cli_fail(c,
		    "put %s: the Manager's etag %s is not the SHA-256 %s of what was sent",
		    raw, jstr(o, "etag"), digest);
		goto out;
	}
	if (c->json) {
		cli_print_json(o);
		o = NULL;
	} else if (!c->quiet) {
		printf("%s -> %s/%s  %lld bytes  sha256 %s\n", file, vault, raw,
		    (long long)json_integer_value(json_object_get(o, "size")), digest);
	}
	rc = EXIT_OK;
out:
	json_decref(o);
	EVP_MD_CTX_free(x.md);
	if (x.f != NULL && x.f != stdin)
		fclose(x.f);
	if (loaded)
		state_free(&s);
	return (rc);
}

static size_t
get_sink(const char *p, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t off = 0;

	EVP_DigestUpdate(x->md, p, n);
	while (off < n) {
		ssize_t w = write(x->fd, p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->failed_errno = errno;
			return (0);
		}
		off += (size_t)w;
	}
	return (n);
}

static int
c_get(struct cli *c, struct args *a)
{
	char vault[200], key[3 * KEY_MAX + 1], raw[KEY_MAX + 1], path[4096];
	char tmp[FSX_PATH_MAX], dir[FSX_PATH_MAX], name[256], b1[FSX_PATH_MAX];
	const char *file;
	struct app_state s;
	struct http_stream st;
	struct http_resp r;
	struct xfer x;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	char digest[2 * EVP_MAX_MD_SIZE + 1], etag[160];
	int rc, to_stdout, loaded = 0, have_tmp = 0;

	memset(&x, 0, sizeof(x));
	x.fd = -1;
	if ((rc = split_target(c, a->pos[0], vault, key, raw)) != 0)
		return (rc);
	if (raw[0] == '\0')
		return (cli_usage(c, "usage: mgr get VAULT/KEY [FILE]"));
	rc = EXIT_FAIL;
	if (a->npos > 1) {
		file = a->pos[1];
	} else {
		snprintf(b1, sizeof(b1), "%s", raw);
		file = basename(b1);
	}
	to_stdout = strcmp(file, "-") == 0;
	x.c = c;
	x.label = raw;
	if (app_state_for(c, &s) != EXIT_OK)
		return (EXIT_FAIL);
	loaded = 1;
	if (to_stdout) {
		x.fd = STDOUT_FILENO;
		c->progress = c->progress && !isatty(STDOUT_FILENO);
	} else {
		snprintf(b1, sizeof(b1), "%s", file);
		snprintf(dir, sizeof(dir), "%s", dirname(b1));
		snprintf(b1, sizeof(b1), "%s", file);
		snprintf(name, sizeof(name), "%s", basename(b1));
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
		        sizeof(tmp) ||
		    (x.fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
			cli_fail(c, "%s: cannot create a file there: %s", dir,
			    strerror(errno));
			goto out;
		}
		have_tmp = 1;
		{ /* mkstemp made it 0600: give it a new file's usual mode */
			mode_t um = umask(0);

			umask(um);
			fchmod(x.fd, 0666 & ~um);
		}
	}
	memset(&st, 0, sizeof(st));
	st.sink = get_sink;
	st.sink_arg = &x;
	st.progress = xfer_progress;
	st.progress_arg = &x;
	st.low_speed_time = 120;
	if ((x.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1)
		goto out;
	x.t0 = mgr_now_ms();
	snprintf(path, sizeof(path), "/api/v1/vaults/%s/objects/%s", vault, key);
	if (http_request(c, CLI_AUTH_APP, "GET", path, NULL, 0, &st, &r) != 0) {
		progress_end(&x);
		if (x.failed_errno != 0)
			cli_fail(c, "%s: %s", file, strerror(x.failed_errno));
		goto out;
	}
	progress_end(&x);
	if (r.status != 200) {
		http_set_error(c, "GET", path, &r);
		http_resp_free(&r);
		goto out;
	}
	snprintf(etag, sizeof(etag), "%.150s", r.etag[0] == '"' ? r.etag + 1 : r.etag);
	if (etag[0] != '\0' && etag[strlen(etag) - 1] == '"')
		etag[strlen(etag) - 1] = '\0';
	http_resp_free(&r);
	EVP_DigestFinal_ex(x.md, d, &dl);
	hex(d, dl, digest);
	if (etag[0] != '\0' && strcmp(etag, digest) != 0) {
		cli_fail(c,
		    "get %s: the data's SHA-256 %s is not the ETag %s; %s not written",
		    raw, digest, etag, file);
		goto out;
	}
	if (!to_stdout) {
		if (fsync(x.fd) != 0 || close(x.fd) != 0) {
			x.fd = -1;
			cli_fail(c, "%s: %s", file, strerror(errno));
			goto out;
		}
		x.fd = -1;
		if (rename(tmp, file) != 0) {
			cli_fail(c, "%s: %s", file, strerror(errno));
			goto out;
		}
		have_tmp = 0;
		fsx_fsync_dir(dir);
		if (c->json)
			cli_print_json(json_pack("{s:s, s:s, s:s}", "key", raw, "file",
			    file, "etag", digest));
		else if (!c->quiet)
			printf("%.63s -> %s  sha256 %s\n", a->pos[0], file, digest);
	}
	rc = EXIT_OK;
out:
	if (!to_stdout && x.fd >= 0)
		close(x.fd);
	if (have_tmp)
		unlink(tmp);
	EVP_MD_CTX_free(x.md);
	if (loaded)
		state_free(&s);
	return (rc);
}

static int
c_ls(struct cli *c, struct args *a)
{
	char vault[200], key[3 * KEY_MAX + 1], raw[KEY_MAX + 1], path[4096];
	struct app_state s;
	json_t *all = NULL, *o;
	size_t i;
	int rc;

	if ((rc = split_target(c, a->pos[0], vault, key, raw)) != 0)
		return (rc);
	if (app_state_for(c, &s) != EXIT_OK)
		return (EXIT_FAIL);
	http_escape(raw, 0, key, sizeof(key));
	snprintf(path, sizeof(path), "/api/v1/vaults/%s/objects?limit=1000%s%s", vault,
	    raw[0] ? "&prefix=" : "", key);
	rc = http_list_all(c, CLI_AUTH_APP, path, "objects", &all);
	state_free(&s);
	if (rc != 0)
		return (EXIT_FAIL);
	if (c->json) {
		cli_print_json(json_pack("{s:o}", "objects", all));
		return (EXIT_OK);
	}
	json_array_foreach(all, i, o) printf("%12lld  %s  %s\n",
	    (long long)json_integer_value(json_object_get(o, "size")),
	    jstr(o, "modified_at"), jstr(o, "key"));
	json_decref(all);
	return (EXIT_OK);
}

static int
c_rm(struct cli *c, struct args *a)
{
	char vault[200], key[3 * KEY_MAX + 1], raw[KEY_MAX + 1], path[4096];
	struct app_state s;
	int rc;

	if ((rc = split_target(c, a->pos[0], vault, key, raw)) != 0)
		return (rc);
	if (raw[0] == '\0')
		return (cli_usage(c, "usage: mgr rm VAULT/KEY"));
	if (app_state_for(c, &s) != EXIT_OK)
		return (EXIT_FAIL);
	snprintf(path, sizeof(path), "/api/v1/vaults/%s/objects/%s", vault, key);
	rc = http_json(c, CLI_AUTH_APP, "DELETE", path, NULL, NULL, NULL);
	state_free(&s);
	if (rc != 0)
		return (EXIT_FAIL);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:b}", "key", raw, "deleted", 1));
	else if (!c->quiet)
		printf("%s: deleted\n", a->pos[0]);
	return (EXIT_OK);
}

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

static const struct args_spec o_vcreate[] = {
    {"template", 0, ARGS_VALUE, "ID",
        "vault template (default: the bundle's, else the Manager's default template)"},
    {"mirror-template", 0, ARGS_VALUE, "ID", "mirror template"},
};

const struct cli_cmd cli_vault_cmds[] = {
    {"vault create", c_vault_create, o_vcreate, NOPTS(o_vcreate), "NAME",
        "create a locked vault", 1, 1, CLI_AUTH_APP},
    {"vault list", c_vault_list, NULL, 0, NULL, "list the account's vaults", 0, 0,
        CLI_AUTH_APP},
    {"vault show", c_vault_show, NULL, 0, "NAME", "show one vault", 1, 1, CLI_AUTH_APP},
    {"vault delete", c_vault_delete, NULL, 0, "NAME", "delete an empty vault", 1, 1,
        CLI_AUTH_APP},
    {"put", c_put, NULL, 0, "FILE VAULT/KEY", "upload FILE (- for stdin), streamed", 2, 2,
        CLI_AUTH_APP},
    {"get", c_get, NULL, 0, "VAULT/KEY [FILE]",
        "download to FILE (- for stdout), streamed", 1, 2, CLI_AUTH_APP},
    {"ls", c_ls, NULL, 0, "VAULT[/PREFIX]", "list objects", 1, 1, CLI_AUTH_APP},
    {"rm", c_rm, NULL, 0, "VAULT/KEY", "delete an object", 1, 1, CLI_AUTH_APP},
};
const size_t cli_vault_ncmds = NOPTS(cli_vault_cmds);
