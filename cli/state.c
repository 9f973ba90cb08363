/* The application's directory: account.json, key.pem, cert.pem, ca.pem.
 *
 * The rule that keeps key.pem and cert.pem a matching pair:
 * - A renewal keeps the key: it replaces cert.pem alone, by one rename of a
 *   fsynced temporary file; the directory is fsynced after.
 * - A rotation changes both. It writes the new key to key.pem.new (fsynced)
 *   before it asks the server, and the new certificate to cert.pem.new
 *   (fsynced) when the answer arrives; then it renames key.pem.new to
 *   key.pem and at once cert.pem.new to cert.pem, and fsyncs the directory.
 * - Every command that uses the directory first finishes or undoes an
 *   interrupted rotation (state_recover, under DIR/.mgr.lock):
 *   cert.pem.new present: if it holds key.pem.new's public key, rename
 *   key.pem.new to key.pem; if it (now) holds key.pem's, rename it to
 *   cert.pem; else it is stale and removed. key.pem.new present alone and
 *   holding cert.pem's key (the renames reached the disk in the other
 *   order): rename it to key.pem. key.pem.new alone otherwise: the answer
 *   never arrived; the account's certificates are listed with the
 *   current pair: one holding the new key completes the rotation as above,
 *   none means the server did not rotate and key.pem.new is removed; if the
 *   current pair is refused (the server rotated and revoked it), key.pem.new
 *   is kept and the command fails with what to do.
 * - After that, a key.pem and cert.pem that do not match make every command
 *   fail; nothing ever writes such a pair. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli/fsx.h"
#include "cli/pki.h"

#define PEM_MAX (256u * 1024)

int
state_lock(struct cli *c)
{
	char p[FSX_PATH_MAX];
	int fd;

	if (c->lock_depth > 0) { /* held already by this process */
		c->lock_depth++;
		return (c->lock_fd);
	}
	if (fsx_join(c->dir, ".mgr.lock", p) != MGR_OK ||
	    (fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		cli_fail(c, "%s: cannot open the lock file: %s", c->dir, strerror(errno));
		return (-1);
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			cli_fail(c, "%s: cannot lock: %s", c->dir, strerror(errno));
			close(fd);
			return (-1);
		}
	}
	c->lock_fd = fd;
	c->lock_depth = 1;
	return (fd);
}

void
state_unlock(struct cli *c, int fd)
{
	if (fd < 0 || c->lock_depth == 0)
		return;
	if (--c->lock_depth == 0)
		close(c->lock_fd); /* releases the flock */
}

static int
read_pem(struct cli *c, const char *name, struct mgr_buf *out)
{
	char p[FSX_PATH_MAX];
	mgr_err rv;

	if (fsx_join(c->dir, name, p) != MGR_OK)
		return (cli_fail(c, "the directory name is too long"), -1);
	if ((rv = fsx_read(p, PEM_MAX, out)) != MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			cli_fail(c, "%s is missing (run mgr enroll first, or give --dir)",
			    p);
		else
			cli_fail(c, "%s: cannot read: %s", p,
			    rv == MGR_ETOOBIG ? "too large" : strerror(errno));
		return (-1);
	}
	return (0);
}

/* 1 when the certificate file `cert` holds the key of file `key`, 0 when not,
 * -1 when either cannot be read or parsed. */
static int
files_match(struct cli *c, const char *key, const char *cert)
{
	struct mgr_buf k, x;
	EVP_PKEY *pk = NULL;
	X509 *cx = NULL;
	int rv = -1;

	mgr_buf_init(&k, 1);
	mgr_buf_init(&x, 1);
	if (read_pem(c, key, &k) != 0 || read_pem(c, cert, &x) != 0)
		goto out;
	pk = pki_key_parse(k.data, k.len);
	cx = pki_cert_parse(x.data, x.len);
	if (pk != NULL && cx != NULL)
		rv = pki_cert_matches(cx, pk);
out:
	X509_free(cx);
	EVP_PKEY_free(pk);
	mgr_buf_free(&k);
	mgr_buf_free(&x);
	return (rv);
}

/* Renames from to to in DIR; with sync, fsyncs DIR after. */
static int
do_rename(struct cli *c, const char *from, const char *to, int sync)
{
	char a[FSX_PATH_MAX];

	if (fsx_join(c->dir, from, a) != MGR_OK ||
	    fsx_commit(a, c->dir, to, 0) != MGR_OK ||
	    (sync && fsx_fsync_dir(c->dir) != MGR_OK))
		return (cli_fail(c, "%s: cannot rename %s to %s: %s", c->dir, from, to,
		            strerror(errno)),
		    -1);
	if (c->verbose)
		cli_log(c, "%s -> %s", from, to);
	return (0);
}

static void
do_remove(struct cli *c, const char *name)
{
	char a[FSX_PATH_MAX];

	if (fsx_join(c->dir, name, a) == MGR_OK && unlink(a) == 0) {
		fsx_fsync_dir(c->dir);
		cli_log(c, "recovery: removed %s", name);
	}
}

/* key.pem.new alone: looks for a certificate of it among the account's. */
static int
recover_fetch(struct cli *c, const char *account_id)
{
	struct mgr_buf k;
	EVP_PKEY *pk = NULL;
	json_t *list = NULL;
	char path[256];
	int rv = -1;
	long st = 0;

	mgr_buf_init(&k, 1);
	if (read_pem(c, "key.pem.new", &k) != 0)
		goto out;
	if ((pk = pki_key_parse(k.data, k.len)) == NULL) {
		do_remove(c, "key.pem.new"); /* torn before its fsync: never sent */
		rv = 0;
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/certificates", account_id);
	if (http_json(c, CLI_AUTH_APP, "GET", path, NULL, &st, &list) != 0) {
		if (st == 401)
			cli_fail(c,
			    "an interrupted rotation: the server refuses the old "
			    "certificate (it was rotated and revoked) and the new one never "
			    "arrived; %s/key.pem.new is kept - ask an administrator for the "
			    "account's newest certificate (mgr account certificates %s) and "
			    "put it in %s/cert.pem.new, then run any mgr command here",
			    c->dir, account_id, c->dir);
		goto out;
	}
	{
		json_t *certs = json_object_get(list, "certificates"), *e;
		size_t i;

		json_array_foreach(certs, i, e)
		{
			const char *pem = json_string_value(
			    json_object_get(e, "certificate"));
			X509 *x = pem != NULL ? pki_cert_parse(pem, strlen(pem)) : NULL;
			int m = x != NULL && pki_cert_matches(x, pk);

			X509_free(x);
			if (m) {
				if (fsx_write_atomic(c->dir, "cert.pem.new", pem,
				        strlen(pem), 0644, 0) != MGR_OK) {
					cli_fail(c, "%s: cannot write cert.pem.new: %s",
					    c->dir, strerror(errno));
					goto out;
				}
				cli_log(c, "recovery: fetched the rotated certificate");
				rv = 1;
				goto out;
			}
		}
	}
	do_remove(c, "key.pem.new"); /* the server never rotated to it */
	rv = 0;
out:
	json_decref(list);
	EVP_PKEY_free(pk);
	mgr_buf_free(&k);
	return (rv);
}

static int
recover_locked(struct cli *c, const char *account_id)
{
	fsx_clean_temps(c->dir, "cert.pem");
	fsx_clean_temps(c->dir, "cert.pem.new");
	fsx_clean_temps(c->dir, "key.pem.new");
	fsx_clean_temps(c->dir, "events.cursor");
	if (fsx_exists(c->dir, "key.pem.new") && !fsx_exists(c->dir, "cert.pem.new")) {
		/* the certificate's rename reached the disk before the key's */
		if (files_match(c, "key.pem.new", "cert.pem") == 1)
			return (do_rename(c, "key.pem.new", "key.pem", 1));
		if (files_match(c, "key.pem", "cert.pem") != 1)
			return (cli_fail(c,
			            "%s: key.pem and cert.pem do not match and a "
			            "rotation is unfinished",
			            c->dir),
			    -1);
		if (recover_fetch(c, account_id) < 0)
			return (-1);
	}
	if (!fsx_exists(c->dir, "cert.pem.new"))
		return (0);
	/* The two renames back to back, one fsync after: the window in which
	 * key.pem is new and cert.pem old is two system calls wide, and a crash
	 * inside it is finished here on the next start. */
	if (fsx_exists(c->dir, "key.pem.new") &&
	    files_match(c, "key.pem.new", "cert.pem.new") == 1 &&
	    do_rename(c, "key.pem.new", "key.pem", 0) != 0)
		return (-1);
	if (files_match(c, "key.pem", "cert.pem.new") == 1)
		return (do_rename(c, "cert.pem.new", "cert.pem", 1));
	do_remove(c, "cert.pem.new");
	if (fsx_exists(c->dir, "key.pem.new"))
		do_remove(c, "key.pem.new");
	return (0);
}

int
state_recover(struct cli *c)
{
	json_t *acct = NULL;
	struct mgr_buf b;
	int fd, rv = -1;

	if (!fsx_exists(c->dir, "key.pem.new") && !fsx_exists(c->dir, "cert.pem.new"))
		return (0);
	if ((fd = state_lock(c)) < 0)
		return (-1);
	if (read_pem(c, "account.json", &b) == 0) {
		acct = json_loadb(b.data, b.len, 0, NULL);
		mgr_buf_free(&b);
	}
	{
		const char *aid = json_string_value(json_object_get(acct, "account_id"));

		rv = recover_locked(c, aid != NULL ? aid : "");
	}
	json_decref(acct);
	state_unlock(c, fd);
	return (rv);
}

int
state_load(struct cli *c, struct app_state *s)
{
	char p[FSX_PATH_MAX];
	json_error_t je;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	struct mgr_buf ab;
	int rv = -1;

	memset(s, 0, sizeof(*s));
	mgr_buf_init(&s->key_pem, 1);
	mgr_buf_init(&s->cert_pem, 1);
	mgr_buf_init(&s->ca_pem, 1);
	mgr_buf_init(&ab, 1);
	if (read_pem(c, "account.json", &ab) != 0)
		goto out;
	fsx_join(c->dir, "account.json", p);
	if ((s->account = json_loadb(ab.data, ab.len, 0, &je)) == NULL ||
	    (s->account_id = json_string_value(
	         json_object_get(s->account, "account_id"))) == NULL) {
		cli_fail(c, "%s: not an account file of mgr enroll", p);
		goto out;
	}
	if (read_pem(c, "ca.pem", &s->ca_pem) != 0)
		goto out;
	if (cli_set_base(c, json_string_value(json_object_get(s->account, "url"))) != 0)
		goto out;
	if (c->ca_file == NULL)
		c->ca_pem = s->ca_pem.data;
	if (state_recover(c) != 0)
		goto out;
	if (read_pem(c, "key.pem", &s->key_pem) != 0 ||
	    read_pem(c, "cert.pem", &s->cert_pem) != 0)
		goto out;
	k = pki_key_parse(s->key_pem.data, s->key_pem.len);
	x = pki_cert_parse(s->cert_pem.data, s->cert_pem.len);
	if (k == NULL || x == NULL) {
		cli_fail(c, "%s: %s is not PEM", c->dir,
		    k == NULL ? "key.pem" : "cert.pem");
		goto out;
	}
	if (!pki_cert_matches(x, k)) {
		cli_fail(c, "%s: key.pem and cert.pem do not match", c->dir);
		goto out;
	}
	rv = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	mgr_buf_free(&ab);
	if (rv != 0)
		state_free(s);
	return (rv);
}

void
state_free(struct app_state *s)
{
	json_decref(s->account);
	s->account = NULL;
	s->account_id = NULL;
	if (s->key_pem.data != NULL)
		OPENSSL_cleanse(s->key_pem.data, s->key_pem.len);
	mgr_buf_free(&s->key_pem);
	mgr_buf_free(&s->cert_pem);
	mgr_buf_free(&s->ca_pem);
}

int
state_write_cert(struct cli *c, const char *pem)
{
	if (fsx_write_atomic(c->dir, "cert.pem", pem, strlen(pem), 0644, 0) != MGR_OK)
		return (cli_fail(c, "%s: cannot replace cert.pem: %s", c->dir,
		            strerror(errno)),
		    -1);
	http_reset(c); /* the next connection presents the new certificate */
	return (0);
}
