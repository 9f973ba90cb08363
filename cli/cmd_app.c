/* Application commands: enroll from the bundle, status, renew, rotate,
 * events. State lives in --dir (state.c says how it stays consistent). */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/bundle.h"
#include "cli/fsx.h"
#include "cli/pki.h"
#include "common/util.h"

#define DAY 86400

static const char *const state_files[] = {"key.pem", "cert.pem", "ca.pem", "account.json",
    "key.pem.new", "cert.pem.new"};

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "");
}

static void
iso(int64_t t, char out[MGR_TIME_MAX])
{
	mgr_time_format(t, out);
}

/* ---- enroll --------------------------------------------------------------- */

/* Checks (and with create, makes 0700) the directory; *made says it did. */
static int
enroll_dir(struct cli *c, int create, int *made)
{
	struct stat st;

	if (stat(c->dir, &st) != 0) {
		if (errno != ENOENT)
			return (cli_fail(c, "%s: %s", c->dir, strerror(errno)));
		if (!create)
			return (EXIT_OK);
		if (mkdir(c->dir, 0700) != 0)
			return (cli_fail(c, "%s: cannot create the directory: %s", c->dir,
			    strerror(errno)));
		*made = 1;
		return (EXIT_OK);
	}
	if (!S_ISDIR(st.st_mode))
		return (cli_fail(c, "%s is not a directory", c->dir));
	for (size_t i = 0; i < sizeof(state_files) / sizeof(state_files[0]); i++)
		if (fsx_exists(c->dir, state_files[i]))
			return (cli_fail(c,
			    "%s/%s exists: this directory is enrolled already "
			    "(nothing was changed; use another --dir, or mgr rotate)",
			    c->dir, state_files[i]));
	return (EXIT_OK);
}

static void
unlink_in(const char *dir, const char *name)
{
	char p[FSX_PATH_MAX];

	if (fsx_join(dir, name, p) == MGR_OK)
		unlink(p);
}

/* An enrollment in progress: what c_enroll and its steps share. */
struct enroll {
	struct cli *c;
	struct bundle b;
	const char *ktype;
	EVP_PKEY *key;
	X509 *ca, *cert;
	json_t *ans; /* the registration's answer */
	struct cert_info ci;
	char tmp[4][FSX_PATH_MAX];
	int ntmp, ncommitted; /* temporaries written; of them, renamed */
};

static const char *const enroll_names[4] = {"key.pem", "ca.pem", "cert.pem",
    "account.json"};

/* Registers the CSR with the bundle's one-time credentials: e->ans. */
static int
enroll_register(struct enroll *e, const char *csr, int64_t exp_t)
{
	struct cli *c = e->c;
	char path[200], when[MGR_TIME_MAX];
	json_t *body;
	long st = 0;
	int rc;

	body = json_pack("{s:s}", "csr", csr);
	if (body == NULL)
		return (cli_fail(c, "out of memory"));
	if (exp_t != 0) {
		iso(exp_t, when);
		json_object_set_new(body, "expiration_date", json_string(when));
	}
	c->temp_user = e->b.username;
	c->temp_pass = e->b.password;
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/certificates", e->b.account_id);
	rc = http_json(c, CLI_AUTH_TEMP, "POST", path, body, &st, &e->ans);
	json_decref(body);
	if (rc == 0)
		return (EXIT_OK);
	if (st == 401) {
		char r2[CLI_REASON_MAX];

		snprintf(r2, sizeof(r2), "%s", c->reason);
		return (cli_fail(c,
		    "the bundle's one-time credentials were refused "
		    "(used already, or replaced by a new password): %.700s; "
		    "nothing was written",
		    r2));
	}
	return (EXIT_FAIL);
}

/* Checks the answer (a certificate of this key signed by the bundle's CA)
 * and writes ca.pem, cert.pem and account.json as temporaries beside the
 * key's. */
static int
enroll_write(struct enroll *e)
{
	struct cli *c = e->c;
	const char *pem = json_string_value(json_object_get(e->ans, "certificate"));
	const char *cap = json_string_value(json_object_get(e->ans, "ca_certificate"));
	const char *cadata = cap != NULL ? cap : e->b.ca_pem;
	char s3[BUNDLE_URL_MAX], when[MGR_TIME_MAX];
	json_t *acct;
	char *aj;
	int ok;

	if (pem == NULL || (e->cert = pki_cert_parse(pem, strlen(pem))) == NULL ||
	    !pki_cert_matches(e->cert, e->key) || !pki_cert_signed_by(e->cert, e->ca))
		return (cli_fail(c,
		    "the Manager's answer holds no certificate of this key "
		    "signed by the bundle's CA; nothing was written"));
	pki_cert_info(e->cert, &e->ci);
	/* the bundle's S3 endpoint, else the one of this URL */
	if (e->b.s3_url[0] != '\0')
		snprintf(s3, sizeof(s3), "%s", e->b.s3_url);
	else if (bundle_s3_url(c->base, s3, sizeof(s3)) != 0)
		s3[0] = '\0';
	iso(mgr_now_s(), when);
	acct = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s}", "account_id",
	    e->b.account_id, "url", c->base, "s3_url", s3, "vault_template_id",
	    e->b.vault_template_id[0] ? json_string(e->b.vault_template_id) : json_null(),
	    "mirror_template_id",
	    e->b.mirror_template_id[0] ? json_string(e->b.mirror_template_id)
	                               : json_null(),
	    "key_type", e->ktype != NULL ? e->ktype : "ec-p256", "subject", e->ci.subject,
	    "enrolled_at", when);
	aj = acct != NULL ? json_dumps(acct, JSON_INDENT(2)) : NULL;
	json_decref(acct);
	ok = aj != NULL &&
	    fsx_write_temp(c->dir, enroll_names[1], cadata, strlen(cadata), 0644,
	        e->tmp[1]) == MGR_OK &&
	    (e->ntmp = 2,
	        fsx_write_temp(c->dir, enroll_names[2], pem, strlen(pem), 0644,
	            e->tmp[2])) == MGR_OK &&
	    (e->ntmp = 3,
	        fsx_write_temp(c->dir, enroll_names[3], aj, strlen(aj), 0644,
	            e->tmp[3])) == MGR_OK;
	free(aj);
	if (!ok)
		return (cli_fail(c, "%s: cannot write: %s", c->dir, strerror(errno)));
	e->ntmp = 4;
	return (EXIT_OK);
}

/* Renames the temporaries into place, account.json last (a directory is
 * enrolled when it has one), and syncs the directory. */
static int
enroll_commit(struct enroll *e)
{
	struct cli *c = e->c;
	mgr_err rv;

	for (e->ncommitted = 0; e->ncommitted < 4; e->ncommitted++) {
		int i = e->ncommitted;

		if ((rv = fsx_commit(e->tmp[i], c->dir, enroll_names[i], 1)) != MGR_OK) {
			int rc = cli_fail(c, "%s/%s: %s", c->dir, enroll_names[i],
			    rv == MGR_ECONFLICT ? "appeared meanwhile; not replaced"
			                        : strerror(errno));

			for (int k = 0; k < i; k++)
				unlink_in(c->dir, enroll_names[k]);
			return (rc);
		}
	}
	e->ntmp = 0;
	if (fsx_fsync_dir(c->dir) != MGR_OK)
		return (cli_fail(c, "%s: fsync: %s", c->dir, strerror(errno)));
	return (EXIT_OK);
}

/* Reads and checks the bundle into e->b and e->ca. */
static int
enroll_bundle(struct enroll *e, const char *bfile)
{
	struct cli *c = e->c;
	struct mgr_buf text;
	char why[300];
	mgr_err rv;
	int rc = EXIT_FAIL;

	mgr_buf_init(&text, 1);
	if ((rv = fsx_read(strcmp(bfile, "-") == 0 ? "/dev/stdin" : bfile, BUNDLE_MAX,
	         &text)) != MGR_OK)
		rc = cli_fail(c, "bundle %s: %s (nothing was changed)", bfile,
		    rv == MGR_ENOTFOUND     ? "no such file"
		        : rv == MGR_ETOOBIG ? "too large"
		                            : strerror(errno));
	else if (bundle_parse(text.data, text.len, &e->b, why, sizeof(why)) != 0)
		rc = cli_fail(c, "bundle %s: %s (nothing was changed)", bfile, why);
	else if ((e->ca = pki_cert_parse(e->b.ca_pem, strlen(e->b.ca_pem))) == NULL)
		rc = cli_fail(c,
		    "bundle %s: its CA certificate cannot be read "
		    "(nothing was changed)",
		    bfile);
	else
		rc = EXIT_OK;
	if (text.data != NULL)
		OPENSSL_cleanse(text.data, text.len);
	mgr_buf_free(&text);
	return (rc);
}

static int
c_enroll(struct cli *c, struct args *a)
{
	const char *bfile = OPT(a, "bundle");
	const char *subject = OPT(a, "subject"), *expires = OPT(a, "expires");
	struct enroll e;
	struct mgr_buf keypem, csr;
	char why[300], sbuf[300], rnd[17];
	int64_t exp_t = 0;
	int rc = EXIT_FAIL, lock = -1;
	int made_dir = 0, had_lock = 1;

	memset(&e, 0, sizeof(e));
	e.c = c;
	e.ktype = OPT(a, "key-type");
	mgr_buf_init(&keypem, 1);
	mgr_buf_init(&csr, 1);
	if (bfile == NULL)
		return (cli_usage(c, "enroll: --bundle FILE is required"));
	if (!pki_key_type_ok(e.ktype))
		return (cli_usage(c, "--key-type is ec-p256, rsa2048 or rsa3072"));
	if (expires != NULL && cli_parse_when(expires, &exp_t) != 0)
		return (cli_usage(c,
		    "--expires: a date (2027-01-31), an RFC 3339 time or +N[dhms]"));
	if ((rc = enroll_bundle(&e, bfile)) != EXIT_OK)
		goto out;
	if ((rc = enroll_dir(c, 0, &made_dir)) != EXIT_OK)
		goto out;
	had_lock = fsx_exists(c->dir, ".mgr.lock");
	if ((rc = enroll_dir(c, 1, &made_dir)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if ((lock = state_lock(c)) < 0 || (rc = enroll_dir(c, 0, &made_dir)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (cli_set_base(c, e.b.url) != 0)
		goto out;
	if (c->ca_file == NULL)
		c->ca_pem = e.b.ca_pem;
	if (subject == NULL) {
		/* unique: the account and 64 random bits */
		if (mgr_random_hex(8, rnd, sizeof(rnd)) != MGR_OK)
			goto out;
		snprintf(sbuf, sizeof(sbuf), "/O=Manager private account/CN=%s-%s",
		    e.b.account_id, rnd);
		subject = sbuf;
	}
	if (pki_keygen(e.ktype, &e.key) != 0) {
		rc = cli_fail(c, "cannot generate the key");
		goto out;
	}
	if (pki_csr_pem(e.key, subject, &csr, why, sizeof(why)) != 0) {
		rc = cli_usage(c, "--subject: %s", why);
		goto out;
	}
	/* The key is on disk (as a temporary) before it is used. */
	if (pki_key_pem(e.key, &keypem) != 0 ||
	    fsx_write_temp(c->dir, enroll_names[0], keypem.data, keypem.len, 0600,
	        e.tmp[0]) != MGR_OK) {
		rc = cli_fail(c, "%s: cannot write the key: %s", c->dir, strerror(errno));
		goto out;
	}
	e.ntmp = 1;
	if ((rc = enroll_register(&e, csr.data, exp_t)) != EXIT_OK ||
	    (rc = enroll_write(&e)) != EXIT_OK || (rc = enroll_commit(&e)) != EXIT_OK)
		goto out;
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "account_id",
		    e.b.account_id, "serial", e.ci.serial, "subject", e.ci.subject,
		    "not_after", jstr(e.ans, "not_after"), "dir", c->dir, "key_type",
		    e.ktype != NULL ? e.ktype : "ec-p256"));
	} else if (!c->quiet) {
		printf("enrolled account %s: certificate %s (%s) valid until %s\n"
		       "files: %s/key.pem (0600), cert.pem, ca.pem, account.json\n",
		    e.b.account_id, e.ci.serial, e.ci.subject, jstr(e.ans, "not_after"),
		    c->dir);
	}
	rc = EXIT_OK;
out:
	for (int i = e.ncommitted; i < e.ntmp; i++)
		unlink(e.tmp[i]);
	state_unlock(c, lock);
	if (rc != EXIT_OK) { /* nothing written: not even the lock or the dir */
		if (!had_lock)
			unlink_in(c->dir, ".mgr.lock");
		if (made_dir)
			rmdir(c->dir);
	}
	json_decref(e.ans);
	X509_free(e.cert);
	X509_free(e.ca);
	EVP_PKEY_free(e.key);
	OPENSSL_cleanse(keypem.data, keypem.len);
	mgr_buf_free(&keypem);
	mgr_buf_free(&csr);
	bundle_clear(&e.b);
	return (rc);
}

/* ---- status --------------------------------------------------------------- */

static int
c_status(struct cli *c, struct args *a)
{
	struct app_state s;
	struct cert_info ci;
	X509 *x;
	json_t *list = NULL, *o;
	char path[200], na[MGR_TIME_MAX], nb[MGR_TIME_MAX], ra[MGR_TIME_MAX];
	const char *astate = "unknown", *cstatus = "unknown";
	int64_t now = mgr_now_s(), left;
	long st = 0;
	int rc = EXIT_OK, reached;

	(void)a;
	if (state_load(c, &s) != 0)
		return (EXIT_FAIL);
	x = pki_cert_parse(s.cert_pem.data, s.cert_pem.len);
	pki_cert_info(x, &ci);
	X509_free(x);
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/certificates", s.account_id);
	reached = http_json(c, CLI_AUTH_APP, "GET", path, NULL, &st, &list) == 0;
	if (reached) {
		json_t *e;
		size_t i;

		astate = "active";
		json_array_foreach(json_object_get(list, "certificates"), i,
		    e) if (pki_serial_eq(jstr(e, "serial"), ci.serial))
		    cstatus = jstr(e, "status");
	} else if (st == 401) {
		astate = strstr(c->reason, "disabled") != NULL ? "disabled" : "refused";
		cstatus = now >= ci.not_after              ? "expired"
		    : strstr(c->reason, "revoked") != NULL ? "revoked"
		                                           : "refused";
		c->reason[0] = '\0';
	} else {
		rc = EXIT_FAIL; /* the reason is set; the local part is printed */
	}
	left = ci.not_after > now ? (ci.not_after - now) / DAY
	                          : -((now - ci.not_after + DAY - 1) / DAY);
	iso(ci.not_after, na);
	iso(ci.not_before, nb);
	iso(ci.not_after - (ci.not_after - ci.not_before) / 3, ra);
	if (c->json) {
		o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "serial", ci.serial, "not_after", na, "days_left", (json_int_t)left,
		    "account_id", s.account_id, "account_state", astate,
		    "certificate_status", cstatus, "not_before", nb, "subject",
		    ci.subject, "renew_by", ra, "url", c->base);
		cli_print_json(o);
	} else {
		printf("account     %s (%s)\ncertificate %s (%s)\nsubject     %s\n"
		       "valid       %s .. %s (%lld days left; renewed by time from %s)\n"
		       "manager     %s\n",
		    s.account_id, astate, ci.serial, cstatus, ci.subject, nb, na,
		    (long long)left, ra, c->base);
	}
	json_decref(list);
	state_free(&s);
	return (rc);
}

/* ---- renew ---------------------------------------------------------------- */

int
cli_renew_once(struct cli *c, struct app_state *s, int64_t expires, int *changed,
    json_t **answer)
{
	char path[200], when[MGR_TIME_MAX];
	json_t *body = json_object(), *ans = NULL;
	EVP_PKEY *k = NULL;
	X509 *cur = NULL, *nx = NULL, *ca = NULL;
	struct cert_info ci, ni;
	const char *pem, *cap;
	int rv = -1;

	*changed = 0;
	if (answer != NULL)
		*answer = NULL;
	if (expires != 0) {
		iso(expires, when);
		json_object_set_new(body, "expiration_date", json_string(when));
	}
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/certificates/renew",
	    s->account_id);
	if (http_json(c, CLI_AUTH_APP, "POST", path, body, NULL, &ans) != 0)
		goto out;
	pem = json_string_value(json_object_get(ans, "certificate"));
	cap = json_string_value(json_object_get(ans, "ca_certificate"));
	k = pki_key_parse(s->key_pem.data, s->key_pem.len);
	cur = pki_cert_parse(s->cert_pem.data, s->cert_pem.len);
	ca = pki_cert_parse(s->ca_pem.data, s->ca_pem.len);
	if (pem == NULL || k == NULL || cur == NULL ||
	    (nx = pki_cert_parse(pem, strlen(pem))) == NULL) {
		cli_fail(c, "renew: the answer holds no certificate");
		goto out;
	}
	if (!pki_cert_matches(nx, k)) {
		cli_fail(c,
		    "renew: the account's newest certificate holds another key "
		    "(rotated elsewhere?); %s/cert.pem is left as it was",
		    c->dir);
		goto out;
	}
	if (ca != NULL && !pki_cert_signed_by(nx, ca)) {
		X509 *nca = cap != NULL ? pki_cert_parse(cap, strlen(cap)) : NULL;

		/* a CA certificate renewed on the server: take it when it signs */
		if (nca == NULL || !pki_cert_signed_by(nx, nca) ||
		    fsx_write_atomic(c->dir, "ca.pem", cap, strlen(cap), 0644, 0) !=
		        MGR_OK) {
			X509_free(nca);
			cli_fail(c, "renew: the new certificate is not signed by ca.pem");
			goto out;
		}
		X509_free(nca);
		mgr_buf_reset(&s->ca_pem);
		mgr_buf_add(&s->ca_pem, cap, strlen(cap));
	}
	pki_cert_info(cur, &ci);
	pki_cert_info(nx, &ni);
	if (!pki_serial_eq(ci.serial, ni.serial) && ni.not_after >= ci.not_after) {
		if (state_write_cert(c, pem) != 0)
			goto out;
		mgr_buf_reset(&s->cert_pem);
		mgr_buf_add(&s->cert_pem, pem, strlen(pem));
		*changed = 1;
	}
	if (answer != NULL) {
		*answer = ans;
		ans = NULL;
	}
	rv = 0;
out:
	json_decref(body);
	json_decref(ans);
	EVP_PKEY_free(k);
	X509_free(cur);
	X509_free(nx);
	X509_free(ca);
	return (rv);
}

static int
c_renew(struct cli *c, struct args *a)
{
	const char *exp = OPT(a, "expires"), *bo = OPT(a, "backoff-max");
	struct app_state s;
	json_t *ans = NULL;
	int64_t t = 0, backoff = 60;
	int changed = 0, lock, rc = EXIT_FAIL;

	if (exp != NULL && cli_parse_when(exp, &t) != 0)
		return (cli_usage(c,
		    "--expires: a date (2027-01-31), an RFC 3339 time or +N[dhms]"));
	if (bo != NULL &&
	    (mgr_parse_i64(bo, &backoff) != MGR_OK || backoff < 1 || backoff > 86400))
		return (cli_usage(c, "--backoff-max: seconds, 1 to 86400"));
	if (FLAG(a, "daemon")) {
		if (exp != NULL || FLAG(a, "force"))
			return (
			    cli_usage(c, "--daemon takes neither --expires nor --force"));
		return (cli_renew_daemon(c, OPT(a, "exec"), backoff));
	}
	if (OPT(a, "exec") != NULL)
		return (cli_usage(c, "--exec goes with --daemon"));
	if ((lock = state_lock(c)) < 0)
		return (EXIT_FAIL);
	if (state_load(c, &s) != 0) {
		state_unlock(c, lock);
		return (EXIT_FAIL);
	}
	if (FLAG(a, "force") && t == 0) {
		X509 *x = pki_cert_parse(s.cert_pem.data, s.cert_pem.len);
		struct cert_info ci;

		pki_cert_info(x, &ci);
		X509_free(x);
		t = mgr_now_s() + 365 * (int64_t)DAY;
		if (t <= ci.not_after)
			t = ci.not_after + DAY;
	}
	if (cli_renew_once(c, &s, t, &changed, &ans) != 0)
		goto out;
	if (c->json) {
		json_object_set_new(ans, "changed", json_boolean(changed));
		json_object_del(ans, "ca_certificate");
		cli_print_json(ans);
		ans = NULL;
	} else if (!c->quiet) {
		if (changed)
			printf("renewed: certificate %s valid until %s, written to %s/cert.pem\n",
			    jstr(ans, "serial"), jstr(ans, "not_after"), c->dir);
		else
			printf("not renewed: certificate %s is valid until %s (the Manager "
			       "renews within its notice window; --force renews now)\n",
			    jstr(ans, "serial"), jstr(ans, "not_after"));
	}
	rc = EXIT_OK;
out:
	json_decref(ans);
	state_free(&s);
	state_unlock(c, lock);
	return (rc);
}

/* ---- rotate --------------------------------------------------------------- */

static int
c_rotate(struct cli *c, struct args *a)
{
	const char *ktype = OPT(a, "key-type"), *exp = OPT(a, "expires");
	struct app_state s;
	struct mgr_buf keypem, csr;
	EVP_PKEY *key = NULL;
	X509 *cur = NULL, *nx = NULL, *ca = NULL;
	json_t *body = NULL, *ans = NULL;
	char path[200], when[MGR_TIME_MAX], why[300];
	const char *pem;
	int64_t t = 0;
	long st = 0;
	int lock, rc = EXIT_FAIL, loaded = 0;

	mgr_buf_init(&keypem, 1);
	mgr_buf_init(&csr, 1);
	if (!pki_key_type_ok(ktype))
		return (cli_usage(c, "--key-type is ec-p256, rsa2048 or rsa3072"));
	if (exp != NULL && cli_parse_when(exp, &t) != 0)
		return (cli_usage(c,
		    "--expires: a date (2027-01-31), an RFC 3339 time or +N[dhms]"));
	if ((lock = state_lock(c)) < 0)
		return (EXIT_FAIL);
	if (state_load(c, &s) != 0)
		goto out;
	loaded = 1;
	if (ktype == NULL && json_is_string(json_object_get(s.account, "key_type")) &&
	    pki_key_type_ok(jstr(s.account, "key_type")))
		ktype = jstr(s.account, "key_type");
	cur = pki_cert_parse(s.cert_pem.data, s.cert_pem.len);
	ca = pki_cert_parse(s.ca_pem.data, s.ca_pem.len);
	if (pki_keygen(ktype, &key) != 0 || pki_key_pem(key, &keypem) != 0) {
		cli_fail(c, "cannot generate the key");
		goto out;
	}
	if (OPT(a, "subject") != NULL
	        ? pki_csr_pem(key, OPT(a, "subject"), &csr, why, sizeof(why)) != 0
	        : pki_csr_pem_like(key, cur, &csr) != 0) {
		rc = OPT(a, "subject") != NULL ? cli_usage(c, "--subject: %s", why)
		                               : cli_fail(c, "cannot make the CSR");
		goto out;
	}
	/* Step 1 of the rule in state.c: the new key on disk before it is sent. */
	if (fsx_write_atomic(c->dir, "key.pem.new", keypem.data, keypem.len, 0600, 0) !=
	    MGR_OK) {
		cli_fail(c, "%s: cannot write key.pem.new: %s", c->dir, strerror(errno));
		goto out;
	}
	body = json_pack("{s:s}", "csr", csr.data);
	if (t != 0) {
		iso(t, when);
		json_object_set_new(body, "expiration_date", json_string(when));
	}
	if (FLAG(a, "keep-old"))
		json_object_set_new(body, "revoke", json_array());
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/certificates/rotate",
	    s.account_id);
	if (http_json(c, CLI_AUTH_APP, "POST", path, body, &st, &ans) != 0) {
		if (st != 0) { /* the server answered: it did not rotate */
			unlink_in(c->dir, "key.pem.new");
			fsx_fsync_dir(c->dir);
		} else {
			snprintf(why, sizeof(why), "%.200s", c->reason);
			cli_fail(c,
			    "%s; whether the Manager rotated is unknown: the next mgr "
			    "command in %s finishes or undoes it",
			    why, c->dir);
		}
		goto out;
	}
	pem = json_string_value(json_object_get(ans, "certificate"));
	if (pem == NULL || (nx = pki_cert_parse(pem, strlen(pem))) == NULL ||
	    !pki_cert_matches(nx, key) || (ca != NULL && !pki_cert_signed_by(nx, ca))) {
		cli_fail(c, "rotate: the answer holds no certificate of the new key");
		goto out;
	}
	/* Then cert.pem.new (durable), and the switch of state_recover:
	 * key.pem.new -> key.pem, cert.pem.new -> cert.pem, fsync. */
	if (fsx_write_atomic(c->dir, "cert.pem.new", pem, strlen(pem), 0644, 0) !=
	    MGR_OK) {
		cli_fail(c, "%s: cannot write cert.pem.new: %s", c->dir, strerror(errno));
		goto out;
	}
	if (state_recover(c) != 0)
		goto out;
	http_reset(c);
	json_object_set_new(s.account, "key_type",
	    json_string(ktype != NULL ? ktype : "ec-p256"));
	{
		char *aj = json_dumps(s.account, JSON_INDENT(2));

		if (aj != NULL)
			fsx_write_atomic(c->dir, "account.json", aj, strlen(aj), 0644, 0);
		free(aj);
	}
	if (c->json) {
		json_object_del(ans, "ca_certificate");
		cli_print_json(ans);
		ans = NULL;
	} else if (!c->quiet) {
		json_t *r;
		size_t i;

		printf("rotated: new key %s/key.pem, certificate %s valid until %s\nrevoked:",
		    c->dir, jstr(ans, "serial"), jstr(ans, "not_after"));
		json_array_foreach(json_object_get(ans, "revoked"), i, r)
		    printf(" %s", json_string_value(r));
		printf("\n");
	}
	rc = EXIT_OK;
out:
	json_decref(body);
	json_decref(ans);
	X509_free(cur);
	X509_free(nx);
	X509_free(ca);
	EVP_PKEY_free(key);
	OPENSSL_cleanse(keypem.data, keypem.len);
	mgr_buf_free(&keypem);
	mgr_buf_free(&csr);
	if (loaded)
		state_free(&s);
	state_unlock(c, lock);
	return (rc);
}

/* ---- events --------------------------------------------------------------- */

static int
c_events(struct cli *c, struct args *a)
{
	struct app_state s;
	json_t *all = NULL, *e;
	char path[300];
	size_t i;

	if (state_load(c, &s) != 0)
		return (EXIT_FAIL);
	if (FLAG(a, "follow"))
		return (cli_follow_events(c, &s, OPT(a, "after")));
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/events", s.account_id);
	if (http_list_from(c, CLI_AUTH_APP, path, "events",
	        OPT(a, "after") != NULL ? OPT(a, "after") : "", &all) != 0) {
		state_free(&s);
		return (EXIT_FAIL);
	}
	if (c->json) {
		cli_print_json(json_pack("{s:o}", "events", all));
	} else {
		json_array_foreach(all, i, e)
		{
			char *ds = json_dumps(json_object_get(e, "data"),
			    JSON_COMPACT | JSON_ENCODE_ANY);

			printf("%s  %s  %s  %s\n", jstr(e, "id"), jstr(e, "time"),
			    jstr(e, "type"), ds != NULL ? ds : "");
			free(ds);
		}
		json_decref(all);
	}
	state_free(&s);
	return (EXIT_OK);
}

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

static const struct args_spec o_enroll[] = {
    {"bundle", 0, ARGS_VALUE, "FILE", "the hand-over bundle (- for stdin)"},
    {"key-type", 0, ARGS_VALUE, "TYPE", "ec-p256 (default), rsa2048 or rsa3072"},
    {"subject", 0, ARGS_VALUE, "DN", "Subject DN (default: unique, from the account ID)"},
    {"expires", 0, ARGS_VALUE, "DATE",
        "expiration date (default: the Manager's, 1 year)"},
};
static const struct args_spec o_renew[] = {
    {"expires", 0, ARGS_VALUE, "DATE", "renew unless the certificate outlives DATE"},
    {"force", 0, ARGS_FLAG, NULL,
        "renew now (asks for a year, or past the current expiry)"},
    {"daemon", 0, ARGS_FLAG, NULL, "stay up and keep the certificate renewed"},
    {"exec", 0, ARGS_VALUE, "CMD",
        "with --daemon: run CMD (sh -c) after each new certificate"},
    {"backoff-max", 0, ARGS_VALUE, "SECONDS",
        "with --daemon: longest pause between retries (60)"},
};
static const struct args_spec o_rotate[] = {
    {"key-type", 0, ARGS_VALUE, "TYPE",
        "ec-p256, rsa2048 or rsa3072 (default: as before)"},
    {"subject", 0, ARGS_VALUE, "DN", "a new Subject DN (default: the current one)"},
    {"expires", 0, ARGS_VALUE, "DATE", "expiration date of the new certificate"},
    {"keep-old", 0, ARGS_FLAG, NULL, "revoke nothing (default: every other certificate)"},
};
static const struct args_spec o_events[] = {
    {"follow", 'f', ARGS_FLAG, NULL, "stay and print events as they happen"},
    {"after", 0, ARGS_VALUE, "ID", "start after this event id"},
};

const struct cli_cmd cli_app_cmds[] = {
    {"enroll", c_enroll, o_enroll, NOPTS(o_enroll), NULL,
        "make a key, register it with the bundle, write the directory", 0, 0,
        CLI_AUTH_TEMP},
    {"status", c_status, NULL, 0, NULL, "the certificate and the account", 0, 0,
        CLI_AUTH_APP},
    {"renew", c_renew, o_renew, NOPTS(o_renew), NULL,
        "renew the certificate if needed (--daemon: keep it renewed)", 0, 0,
        CLI_AUTH_APP},
    {"rotate", c_rotate, o_rotate, NOPTS(o_rotate), NULL,
        "new key and certificate; the old certificates are revoked", 0, 0, CLI_AUTH_APP},
    {"events", c_events, o_events, NOPTS(o_events), NULL,
        "the account's events (--follow: and what comes)", 0, 0, CLI_AUTH_APP},
};
const size_t cli_app_ncmds = NOPTS(cli_app_cmds);
