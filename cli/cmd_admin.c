/* Administrator commands: accounts, vault templates, audit. */
#include "cli/cli.h"

#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli/bundle.h"
#include "cli/fsx.h"
#include "common/util.h"

#define TEMP_PASSWORD_LEN 24

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "-");
}

static void
print_account(json_t *a)
{
	printf("%s  %-20s  %-17s  %s  user %s  created %s\n", jstr(a, "id"),
	    jstr(a, "state"), jstr(a, "role"), jstr(a, "name"), jstr(a, "username"),
	    jstr(a, "created_at"));
}

/* Prints an answer: JSON as it came with --json, else through fn. */
static int
show(struct cli *c, json_t *o, void (*fn)(json_t *))
{
	if (c->json)
		cli_print_json(o);
	else {
		fn(o);
		json_decref(o);
	}
	return (EXIT_OK);
}

static int
admin_base(struct cli *c)
{
	return (cli_set_base(c, NULL));
}

/* Splits FILE into its directory and name (bounded copies). */
static int
split_path(const char *file, char dir[FSX_PATH_MAX], char name[256])
{
	char a[FSX_PATH_MAX], b[FSX_PATH_MAX];

	if (strlen(file) >= FSX_PATH_MAX)
		return (-1);
	snprintf(a, sizeof(a), "%s", file);
	snprintf(b, sizeof(b), "%s", file);
	snprintf(dir, FSX_PATH_MAX, "%s", dirname(a));
	if (strlen(basename(b)) >= 256)
		return (-1);
	snprintf(name, 256, "%s", basename(b));
	return (name[0] == '\0' || strcmp(name, "/") == 0 ? -1 : 0);
}

/* A password from --password, --password-file (or "-" for stdin), else a
 * random one (*generated = 1). */
static int
temp_password(struct cli *c, struct args *a, char *out, size_t outlen, int *generated)
{
	const char *p = OPT(a, "password"), *f = OPT(a, "password-file");
	struct mgr_buf b;

	*generated = 0;
	if (p != NULL && f != NULL)
		return (cli_usage(c, "give --password or --password-file, not both"));
	if (f != NULL) {
		mgr_err rv = fsx_read(strcmp(f, "-") == 0 ? "/dev/stdin" : f, 4096, &b);
		size_t n;

		if (rv != MGR_OK)
			return (cli_fail(c, "%s: cannot read the password: %s", f,
			    rv == MGR_ETOOBIG ? "too large" : strerror(errno)));
		n = strcspn(b.data, "\r\n");
		if (n >= outlen) {
			mgr_buf_free(&b);
			return (cli_usage(c, "the password is too long"));
		}
		memcpy(out, b.data, n);
		out[n] = '\0';
		OPENSSL_cleanse(b.data, b.len);
		mgr_buf_free(&b);
	} else if (p != NULL) {
		if (strlen(p) >= outlen)
			return (cli_usage(c, "the password is too long"));
		snprintf(out, outlen, "%s", p);
	} else {
		if (cli_random_password(out, TEMP_PASSWORD_LEN) != 0)
			return (cli_fail(c, "no random numbers"));
		*generated = 1;
	}
	if (!bundle_password_ok(out))
		return (cli_usage(c, "a temporary password has 12 to 128 characters"));
	return (EXIT_OK);
}

/* 1 when the template list holds id with that kind. */
static int
template_found(struct cli *c, json_t *all, const char *id, const char *kind)
{
	json_t *t;
	size_t i;

	json_array_foreach(all, i, t)
	{
		if (strcmp(jstr(t, "id"), id) != 0)
			continue;
		if (strcmp(jstr(t, "kind"), kind) == 0)
			return (1);
		cli_fail(c, "template %s is of kind %s, not %s", id, jstr(t, "kind"),
		    kind);
		return (0);
	}
	cli_fail(c, "no %s template %s (see mgr template list)", kind, id);
	return (0);
}

/* Checks that the templates exist and are of the right kind. */
static int
check_templates(struct cli *c, const struct args_val *vt, const char *mt)
{
	json_t *all = NULL;
	int rc = EXIT_OK;

	if ((vt == NULL || vt->n == 0) && mt == NULL)
		return (EXIT_OK);
	if (http_list_all(c, CLI_AUTH_ADMIN, "/api/v1/vault-templates", "templates",
	        &all) != 0)
		return (EXIT_FAIL);
	for (size_t k = 0; vt != NULL && k < vt->n && rc == EXIT_OK; k++)
		if (!template_found(c, all, vt->values[k], "vault"))
			rc = EXIT_FAIL;
	if (rc == EXIT_OK && mt != NULL && !template_found(c, all, mt, "mirror"))
		rc = EXIT_FAIL;
	json_decref(all);
	return (rc);
}

/* The Manager's CA certificate (public route), PEM. */
static int
fetch_ca(struct cli *c, char **out)
{
	struct http_resp r;

	if (http_request(c, CLI_AUTH_NONE, "GET", "/api/v1/ca/certificate", NULL, 0, NULL,
	        &r) != 0)
		return (-1);
	if (r.status != 200 || r.body.data == NULL ||
	    strstr(r.body.data, "-----BEGIN CERTIFICATE-----") == NULL) {
		http_set_error(c, "GET", "/api/v1/ca/certificate", &r);
		http_resp_free(&r);
		return (-1);
	}
	*out = mgr_buf_take(&r.body, NULL);
	return (0);
}

/* The hand-over bundle: API.md's fields, and s3_url. */
static json_t *
make_bundle(struct cli *c, json_t *acct, const char *username, const char *pw,
    const char *ca, const struct args_val *vt, const char *mt)
{
	char s3[BUNDLE_URL_MAX];
	json_t *ids = json_array(), *b;

	if (bundle_s3_url(c->base, s3, sizeof(s3)) != 0)
		s3[0] = '\0';
	for (size_t i = 0; vt != NULL && i < vt->n; i++)
		json_array_append_new(ids, json_string(vt->values[i]));
	b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "url",
	    c->base, "s3_url", s3, "account_id", jstr(acct, "id"), "account_name",
	    jstr(acct, "name"), "username", username, "password", pw, "ca_certificate",
	    ca, "vault_template_id",
	    vt != NULL && vt->n > 0 ? json_string(vt->values[0]) : json_null(),
	    "mirror_template_id", mt != NULL ? json_string(mt) : json_null(),
	    "vault_template_ids", ids);
	return (b);
}

/* 1 when FILE may be written: absent, or an empty regular file (as
 * mktemp(1) leaves one); a bundle is never written over another. */
static int
bundle_file_free(const char *file)
{
	struct stat st;

	if (lstat(file, &st) != 0)
		return (errno == ENOENT);
	return (S_ISREG(st.st_mode) && st.st_size == 0);
}

/* Writes the bundle to FILE (0600, refusing to replace), or stdout. */
static int
write_bundle(struct cli *c, const char *file, json_t *b)
{
	char *text = json_dumps(b, JSON_INDENT(2));
	char dir[FSX_PATH_MAX], name[256];
	int rc = EXIT_OK;

	if (text == NULL)
		return (cli_fail(c, "out of memory"));
	if (file == NULL || strcmp(file, "-") == 0) {
		fputs(text, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	} else if (split_path(file, dir, name) != 0) {
		rc = cli_usage(c, "--bundle %s: not a file name", file);
	} else {
		size_t n = strlen(text);
		mgr_err rv;

		text[n] = '\n'; /* the NUL becomes the final newline */
		/* an empty file is replaced; any other one refused */
		rv = !bundle_file_free(file) ? MGR_ECONFLICT
		                             : fsx_write_atomic(dir, name, text, n + 1,
		                                   0600, access(file, F_OK) != 0);
		text[n] = '\0';
		if (rv == MGR_ECONFLICT)
			rc = cli_fail(c, "%s exists; not replaced", file);
		else if (rv != MGR_OK)
			rc = cli_fail(c, "%s: cannot write: %s", file, strerror(errno));
	}
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return (rc);
}

static int
bundle_target_free(struct cli *c, const char *file)
{
	if (file != NULL && strcmp(file, "-") != 0 && !bundle_file_free(file))
		return (cli_fail(c,
		    "%s exists and is not empty; not replaced (nothing was "
		    "changed)",
		    file));
	return (EXIT_OK);
}

/* A user name from the account name: its [a-z0-9] runs, and 8 random hex. */
static void
default_username(const char *name, char *out, size_t outlen)
{
	char rnd[9];
	size_t o = 0;

	for (const char *p = name; *p != '\0' && o < 40; p++) {
		char ch = *p;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			out[o++] = ch;
		else if (o > 0 && out[o - 1] != '-')
			out[o++] = '-';
	}
	if (o == 0)
		o = (size_t)snprintf(out, outlen, "app");
	out[o] = '\0';
	if (mgr_random_hex(4, rnd, sizeof(rnd)) != MGR_OK)
		snprintf(rnd, sizeof(rnd), "%08lx", (unsigned long)getpid());
	snprintf(out + o, outlen - o, "%s%s", out[o - 1] == '-' ? "" : "-", rnd);
}

static int
c_account_create(struct cli *c, struct args *a)
{
	const char *name = OPT(a, "name"), *user = OPT(a, "username");
	const char *bfile = OPT(a, "bundle"), *mt = OPT(a, "mirror-template");
	const char *role = OPT(a, "role") != NULL ? OPT(a, "role") : "vault_provisioner";
	const struct args_val *vt = cli_optv(a, "template");
	char pw[200], ubuf[80];
	char *ca = NULL;
	json_t *body = NULL, *acct = NULL, *b = NULL;
	int rc, generated;

	if (name == NULL)
		return (cli_usage(c, "account create: --name is required"));
	if (user != NULL && !bundle_username_ok(user))
		return (cli_usage(c, "--username: 3 to 64 of [A-Za-z0-9._-]"));
	if ((rc = temp_password(c, a, pw, sizeof(pw), &generated)) != EXIT_OK)
		return (rc);
	if (user == NULL) {
		default_username(name, ubuf, sizeof(ubuf));
		user = ubuf;
	}
	if ((rc = admin_base(c)) != 0 || (rc = bundle_target_free(c, bfile)) != 0 ||
	    (rc = check_templates(c, vt, mt)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (fetch_ca(c, &ca) != 0)
		goto out;
	body = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "role", role, "username",
	    user, "password", pw);
	if (http_json(c, CLI_AUTH_ADMIN, "POST", "/api/v1/accounts", body, NULL, &acct) !=
	    0)
		goto out;
	b = make_bundle(c, acct, user, pw, ca, vt, mt);
	if ((rc = write_bundle(c, bfile, b)) != EXIT_OK) {
		char why[CLI_REASON_MAX];

		snprintf(why, sizeof(why), "%s", c->reason);
		cli_fail(c,
		    "account %s was created, but its bundle was not written (%.400s); "
		    "give it a new password and bundle: mgr account password %s --bundle FILE",
		    jstr(acct, "id"), why, jstr(acct, "id"));
		goto out;
	}
	if (bfile != NULL && strcmp(bfile, "-") != 0) {
		if (c->json) {
			cli_print_json(acct);
			acct = NULL;
		} else {
			printf("account %s created (%s); hand-over bundle: %s (mode 0600)\n",
			    jstr(acct, "id"), jstr(acct, "state"), bfile);
		}
	}
	rc = EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	if (body != NULL)
		json_object_del(body, "password");
	json_decref(body);
	json_decref(acct);
	json_decref(b);
	free(ca);
	return (rc);
}

static int
id_path(struct cli *c, const char *id, const char *suffix, char *out, size_t outlen)
{
	char esc[200];

	if (http_escape(id, 0, esc, sizeof(esc)) != 0 ||
	    (size_t)snprintf(out, outlen, "/api/v1/accounts/%s%s", esc, suffix) >= outlen)
		return (cli_usage(c, "account ID too long"));
	return (0);
}

static void
print_accounts(json_t *o)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(o, "accounts"), i, e) print_account(e);
}

static int
c_account_list(struct cli *c, struct args *a)
{
	json_t *all = NULL;

	(void)a;
	if (admin_base(c) != 0)
		return (EXIT_USAGE);
	if (http_list_all(c, CLI_AUTH_ADMIN, "/api/v1/accounts", "accounts", &all) != 0)
		return (EXIT_FAIL);
	return (show(c, json_pack("{s:o}", "accounts", all), print_accounts));
}

static int
simple_account(struct cli *c, struct args *a, const char *method, const char *suffix,
    json_t *body)
{
	char path[300];
	json_t *o = NULL;
	int rc;

	if ((rc = admin_base(c)) != 0 ||
	    (rc = id_path(c, a->pos[0], suffix, path, sizeof(path))) != 0) {
		json_decref(body);
		return (rc);
	}
	rc = http_json(c, CLI_AUTH_ADMIN, method, path, body, NULL, &o);
	json_decref(body);
	if (rc != 0)
		return (EXIT_FAIL);
	if (o == NULL) { /* 204 */
		if (c->json)
			cli_print_json(json_pack("{s:s, s:b}", "id", a->pos[0], "ok", 1));
		else if (!c->quiet)
			printf("%s: done\n", a->pos[0]);
		return (EXIT_OK);
	}
	return (show(c, o, print_account));
}

static int
c_account_show(struct cli *c, struct args *a)
{
	return (simple_account(c, a, "GET", "", NULL));
}

static int
c_account_rename(struct cli *c, struct args *a)
{
	const char *name = OPT(a, "name");

	if (a->npos == 2) {
		if (name != NULL)
			return (cli_usage(c, "give the new name once"));
		name = a->pos[1];
	}
	if (name == NULL)
		return (cli_usage(c, "usage: mgr account rename ID NEW_NAME"));
	return (simple_account(c, a, "PATCH", "", json_pack("{s:s}", "name", name)));
}

static int
c_account_disable(struct cli *c, struct args *a)
{
	return (simple_account(c, a, "POST", "/disable", NULL));
}

static int
c_account_enable(struct cli *c, struct args *a)
{
	return (simple_account(c, a, "POST", "/enable", NULL));
}

static int
c_account_delete(struct cli *c, struct args *a)
{
	return (simple_account(c, a, "DELETE", "", NULL));
}

static int
c_account_password(struct cli *c, struct args *a)
{
	const char *bfile = OPT(a, "bundle"), *mt = OPT(a, "mirror-template");
	const struct args_val *vt = cli_optv(a, "template");
	char pw[200], path[300];
	json_t *body = NULL, *acct = NULL, *b = NULL;
	char *ca = NULL;
	int rc, generated;

	if ((rc = temp_password(c, a, pw, sizeof(pw), &generated)) != EXIT_OK)
		return (rc);
	if ((rc = admin_base(c)) != 0 ||
	    (rc = id_path(c, a->pos[0], "", path, sizeof(path))) != 0 ||
	    (rc = bundle_target_free(c, bfile)) != 0 ||
	    (rc = check_templates(c, vt, mt)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (http_json(c, CLI_AUTH_ADMIN, "GET", path, NULL, NULL, &acct) != 0)
		goto out;
	if (!json_is_string(json_object_get(acct, "username"))) {
		rc = cli_fail(c, "account %s is registered: it has no password any more",
		    a->pos[0]);
		goto out;
	}
	if (bfile != NULL && fetch_ca(c, &ca) != 0)
		goto out;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/password");
	body = json_pack("{s:s}", "password", pw);
	if (http_json(c, CLI_AUTH_ADMIN, "PUT", path, body, NULL, NULL) != 0)
		goto out;
	if (bfile != NULL) {
		b = make_bundle(c, acct, jstr(acct, "username"), pw, ca, vt, mt);
		if ((rc = write_bundle(c, bfile, b)) != EXIT_OK)
			goto out;
		if (!c->quiet && !c->json)
			printf("password of %s changed; hand-over bundle: %s (mode 0600)\n",
			    a->pos[0], bfile);
	} else if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s}", "account_id", a->pos[0],
		    "username", jstr(acct, "username"), "password", pw));
	} else if (generated) {
		printf("username: %s\npassword: %s\n", jstr(acct, "username"), pw);
	} else if (!c->quiet) {
		printf("password of %s changed\n", a->pos[0]);
	}
	rc = EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	if (body != NULL)
		json_object_del(body, "password");
	json_decref(body);
	json_decref(acct);
	json_decref(b);
	free(ca);
	return (rc);
}

static void
print_certs(json_t *o)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(o, "certificates"), i, e)
	    printf("%s  %-8s  %s .. %s  %s\n", jstr(e, "serial"), jstr(e, "status"),
	        jstr(e, "not_before"), jstr(e, "not_after"), jstr(e, "subject"));
}

static int
c_account_certs(struct cli *c, struct args *a)
{
	char path[300];
	json_t *all = NULL;
	int rc;

	if ((rc = admin_base(c)) != 0 ||
	    (rc = id_path(c, a->pos[0], "/certificates", path, sizeof(path))) != 0)
		return (rc);
	if (http_list_all(c, CLI_AUTH_ADMIN, path, "certificates", &all) != 0)
		return (EXIT_FAIL);
	return (show(c, json_pack("{s:o}", "certificates", all), print_certs));
}

static void
print_template(json_t *t)
{
	printf("%s  %-6s  %s  quota %s%s\n", jstr(t, "id"), jstr(t, "kind"),
	    jstr(t, "name"),
	    json_is_integer(json_object_get(t, "quota_bytes")) ? "" : "none",
	    json_is_true(json_object_get(t, "default")) ? "  (default)" : "");
	if (json_is_integer(json_object_get(t, "quota_bytes")))
		printf("    quota_bytes %lld\n",
		    (long long)json_integer_value(json_object_get(t, "quota_bytes")));
}

static int
c_template_create(struct cli *c, struct args *a)
{
	const char *name = OPT(a, "name"), *kind = OPT(a, "kind"), *q = OPT(a, "quota");
	json_t *body, *o = NULL;
	int64_t quota = 0;

	if (name == NULL || kind == NULL)
		return (cli_usage(c, "template create: --name and --kind are required"));
	if (strcmp(kind, "vault") != 0 && strcmp(kind, "mirror") != 0)
		return (cli_usage(c, "--kind is vault or mirror"));
	if (q != NULL && (mgr_parse_i64(q, &quota) != MGR_OK || quota < 0))
		return (cli_usage(c, "--quota is a number of bytes"));
	if (admin_base(c) != 0)
		return (EXIT_USAGE);
	body = json_pack("{s:s, s:s}", "name", name, "kind", kind);
	if (q != NULL)
		json_object_set_new(body, "quota_bytes", json_integer(quota));
	if (FLAG(a, "default"))
		json_object_set_new(body, "default", json_true());
	if (http_json(c, CLI_AUTH_ADMIN, "POST", "/api/v1/vault-templates", body, NULL,
	        &o) != 0) {
		json_decref(body);
		return (EXIT_FAIL);
	}
	json_decref(body);
	return (show(c, o, print_template));
}

static void
print_templates(json_t *o)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(o, "templates"), i, e) print_template(e);
}

static int
c_template_list(struct cli *c, struct args *a)
{
	json_t *all = NULL;

	(void)a;
	if (admin_base(c) != 0)
		return (EXIT_USAGE);
	if (http_list_all(c, CLI_AUTH_ADMIN, "/api/v1/vault-templates", "templates",
	        &all) != 0)
		return (EXIT_FAIL);
	return (show(c, json_pack("{s:o}", "templates", all), print_templates));
}

static void
print_record(struct cli *c, json_t *r)
{
	if (c->json) {
		json_dumpf(r, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else {
		printf("%s  %s:%s  %s  %s  %s  %s\n", jstr(r, "time"),
		    jstr(r, "actor_kind"), jstr(r, "actor"), jstr(r, "action"),
		    jstr(r, "target"), jstr(r, "outcome"), jstr(r, "detail"));
	}
}

/* audit: every record (or those after --after); --follow polls for more. */
static int
c_audit(struct cli *c, struct args *a)
{
	char after[256] = "", path[700], esc[600];
	int follow = FLAG(a, "follow");
	json_t *page = NULL, *all = NULL;
	int rc = EXIT_FAIL;

	if (OPT(a, "after") != NULL)
		snprintf(after, sizeof(after), "%s", OPT(a, "after"));
	if (admin_base(c) != 0)
		return (EXIT_USAGE);
	if (cli_admin_password(c) != 0)
		return (EXIT_FAIL);
	if (follow)
		cli_signals();
	if (!follow && c->json)
		all = json_array();
	while (!cli_stop) {
		json_t *recs, *r, *next;
		size_t i;

		if (http_escape(after, 0, esc, sizeof(esc)) != 0)
			break;
		snprintf(path, sizeof(path), "/api/v1/audit?limit=1000%s%s",
		    after[0] ? "&after=" : "", esc);
		if (http_json(c, CLI_AUTH_ADMIN, "GET", path, NULL, NULL, &page) != 0) {
			if (!follow)
				goto out;
			cli_log(c, "%s; retrying", c->reason);
			c->reason[0] = '\0';
			cli_sleep_ms(5000);
			continue;
		}
		recs = json_object_get(page, "records");
		json_array_foreach(recs, i, r)
		{
			if (all != NULL)
				json_array_append(all, r);
			else
				print_record(c, r);
			if (json_is_string(json_object_get(r, "id")))
				snprintf(after, sizeof(after), "%s", jstr(r, "id"));
		}
		fflush(stdout);
		next = json_object_get(page, "next_after");
		if (json_is_string(next))
			snprintf(after, sizeof(after), "%s", json_string_value(next));
		if (json_array_size(recs) == 0 || !json_is_string(next)) {
			if (!follow)
				break;
			cli_sleep_ms(2000);
		}
		json_decref(page);
		page = NULL;
	}
	if (all != NULL) {
		cli_print_json(json_pack("{s:o}", "records", all));
		all = NULL;
	}
	rc = EXIT_OK;
out:
	json_decref(page);
	json_decref(all);
	return (rc);
}

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

static const struct args_spec o_create[] = {
    {"name", 0, ARGS_VALUE, "NAME", "the account's name"},
    {"username", 0, ARGS_VALUE, "USER", "one-time user name (default: from the name)"},
    {"password", 0, ARGS_VALUE, "PASSWORD",
        "one-time password (default: random; visible to other users in ps)"},
    {"password-file", 0, ARGS_VALUE, "FILE",
        "read the one-time password from FILE (- for stdin)"},
    {"role", 0, ARGS_VALUE, "ROLE", "the account's role (default vault_provisioner)"},
    {"template", 0, ARGS_MULTI, "ID", "vault template handed over"},
    {"mirror-template", 0, ARGS_VALUE, "ID", "mirror template handed over"},
    {"bundle", 0, ARGS_VALUE, "FILE",
        "write the hand-over bundle to FILE (0600) instead of stdout"},
};
static const struct args_spec o_password[] = {
    {"password", 0, ARGS_VALUE, "PASSWORD",
        "the new one-time password (default: random)"},
    {"password-file", 0, ARGS_VALUE, "FILE", "read it from FILE (- for stdin)"},
    {"template", 0, ARGS_MULTI, "ID", "vault template for the bundle"},
    {"mirror-template", 0, ARGS_VALUE, "ID", "mirror template for the bundle"},
    {"bundle", 0, ARGS_VALUE, "FILE", "write a new hand-over bundle to FILE (0600)"},
};
static const struct args_spec o_rename[] = {
    {"name", 0, ARGS_VALUE, "NAME", "the new name"},
};
static const struct args_spec o_tcreate[] = {
    {"name", 0, ARGS_VALUE, "NAME", "the template's name"},
    {"kind", 0, ARGS_VALUE, "KIND", "vault or mirror"},
    {"quota", 0, ARGS_VALUE, "BYTES", "quota of each vault made from it"},
    {"default", 0, ARGS_FLAG, NULL, "make it the default template"},
};
static const struct args_spec o_audit[] = {
    {"follow", 'f', ARGS_FLAG, NULL, "keep printing new records"},
    {"after", 0, ARGS_VALUE, "CURSOR", "start after this record id"},
};

const struct cli_cmd cli_admin_cmds[] = {
    {"account create", c_account_create, o_create, NOPTS(o_create), NULL,
        "create a private account and write its hand-over bundle", 0, 0, CLI_AUTH_ADMIN},
    {"account list", c_account_list, NULL, 0, NULL, "list the accounts", 0, 0,
        CLI_AUTH_ADMIN},
    {"account show", c_account_show, NULL, 0, "ID", "show one account", 1, 1,
        CLI_AUTH_ADMIN},
    {"account rename", c_account_rename, o_rename, NOPTS(o_rename), "ID [NEW_NAME]",
        "rename an account", 1, 2, CLI_AUTH_ADMIN},
    {"account disable", c_account_disable, NULL, 0, "ID",
        "disable an account (all its certificates stop working)", 1, 1, CLI_AUTH_ADMIN},
    {"account enable", c_account_enable, NULL, 0, "ID", "enable it again", 1, 1,
        CLI_AUTH_ADMIN},
    {"account delete", c_account_delete, NULL, 0, "ID",
        "delete an account that is not registered yet", 1, 1, CLI_AUTH_ADMIN},
    {"account password", c_account_password, o_password, NOPTS(o_password), "ID",
        "set a new one-time password (before registration)", 1, 1, CLI_AUTH_ADMIN},
    {"account certificates", c_account_certs, NULL, 0, "ID",
        "list an account's certificates", 1, 1, CLI_AUTH_ADMIN},
    {"template create", c_template_create, o_tcreate, NOPTS(o_tcreate), NULL,
        "create a vault or mirror template", 0, 0, CLI_AUTH_ADMIN},
    {"template list", c_template_list, NULL, 0, NULL, "list the templates", 0, 0,
        CLI_AUTH_ADMIN},
    {"audit", c_audit, o_audit, NOPTS(o_audit), NULL,
        "print the audit log (--follow: and what comes)", 0, 0, CLI_AUTH_ADMIN},
};
const size_t cli_admin_ncmds = NOPTS(cli_admin_cmds);
