#include "common/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

static void
env_str(const char *name, const char *def, char *out, size_t outlen)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		v = def;
	if ((size_t)snprintf(out, outlen, "%s", v) >= outlen)
		log_warn(NULL, "%s is too long; cut to %zu bytes", name, outlen - 1);
}

static mgr_err
env_int(const char *name, int64_t def, int64_t lo, int64_t hi, int64_t *out)
{
	const char *v = getenv(name);
	int64_t n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return (MGR_OK);
	}
	if (mgr_parse_i64(v, &n) != MGR_OK || n < lo || n > hi) {
		log_error(NULL, "%s=%s is not a number in [%lld, %lld]", name, v,
		    (long long)lo, (long long)hi);
		return (MGR_EINVAL);
	}
	*out = n;
	return (MGR_OK);
}

static mgr_err
mkdir_p(const char *path, mode_t mode)
{
	char tmp[MGR_PATH_MAX];
	size_t len;

	len = (size_t)snprintf(tmp, sizeof(tmp), "%s", path);
	if (len >= sizeof(tmp))
		return (MGR_EINVAL);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return (MGR_EINTERNAL);
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return (MGR_EINTERNAL);
	return (MGR_OK);
}

mgr_err
mgr_config_path(const struct mgr_config *cfg, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", cfg->data_dir, name);

	return (n < 0 || (size_t)n >= outlen ? MGR_EINVAL : MGR_OK);
}

mgr_err
mgr_config_internal_tls(struct mgr_internal_tls *out)
{
	struct mgr_internal_tls t;
	int n;

	env_str("MANAGER_INTERNAL_TLS_CERT", "", t.cert, sizeof(t.cert));
	env_str("MANAGER_INTERNAL_TLS_KEY", "", t.key, sizeof(t.key));
	env_str("MANAGER_INTERNAL_TLS_CA", "", t.ca, sizeof(t.ca));
	n = (*t.cert != '\0') + (*t.key != '\0') + (*t.ca != '\0');
	if (n != 0 && n != 3) {
		log_error(NULL,
		    "set all of MANAGER_INTERNAL_TLS_CERT, "
		    "MANAGER_INTERNAL_TLS_KEY and MANAGER_INTERNAL_TLS_CA, or none");
		return (MGR_EINVAL);
	}
	*out = t;
	return (MGR_OK);
}

/* MANAGER_PUBLIC_URL, or https://{bind}:{port} ([bind] for IPv6): an
 * http(s) URL of printable ASCII without spaces, quotes or a fragment,
 * written into every certificate as the base of its AIA and CRL URLs. */
static mgr_err
public_url(struct mgr_config *cfg)
{
	char *u = cfg->public_url;
	size_t n;

	if (getenv("MANAGER_PUBLIC_URL") != NULL &&
	    *getenv("MANAGER_PUBLIC_URL") != '\0') {
		env_str("MANAGER_PUBLIC_URL", "", u, sizeof(cfg->public_url));
	} else {
		snprintf(u, sizeof(cfg->public_url),
		    strchr(cfg->bind, ':') != NULL ? "https://[%s]:%d" : "https://%s:%d",
		    cfg->bind, cfg->https_port);
	}
	n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		goto bad;
	if (n >= sizeof(cfg->public_url) - 64)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] >= 0x7f || u[i] == '"' || u[i] == '#' ||
		    u[i] == '<' || u[i] == '>' || u[i] == '\\')
			goto bad;
	if (u[strcspn(u, ":") + 3] == '\0' || u[strcspn(u, ":") + 3] == '/')
		goto bad;
	return (MGR_OK);
bad:
	log_error(NULL,
	    "MANAGER_PUBLIC_URL must be an http(s) URL of printable "
	    "ASCII (at most %zu bytes)",
	    sizeof(cfg->public_url) - 65);
	return (MGR_EINVAL);
}

mgr_err
mgr_config_load(struct mgr_config *cfg)
{
	char dir[MGR_PATH_MAX + 64];
	char run[MGR_PATH_MAX + 8];
	const char *lvl, *fmt;
	int64_t n;

	memset(cfg, 0, sizeof(*cfg));
	/* The log's form first, so that every later complaint is in it. */
	fmt = getenv("MANAGER_LOG_FORMAT");
	if ((cfg->log_format = mgr_log_format_parse(fmt)) < 0) {
		mgr_log_set(MGR_LOG_INFO, MGR_LOG_TEXT);
		log_error(NULL, "MANAGER_LOG_FORMAT must be text or json, not '%.64s'",
		    fmt);
		return (MGR_EINVAL);
	}
	lvl = getenv("MANAGER_LOG_LEVEL");
	if ((cfg->log_level = mgr_log_level_parse(lvl)) < 0) {
		mgr_log_set(MGR_LOG_INFO, cfg->log_format);
		log_error(NULL,
		    "MANAGER_LOG_LEVEL must be error, warn, info or debug, not '%.64s'",
		    lvl);
		return (MGR_EINVAL);
	}
	mgr_log_set(cfg->log_level, cfg->log_format);
	env_str("MANAGER_DATA_DIR", "./.data", dir, sizeof(dir));
	if (mkdir_p(dir, 0700) != MGR_OK || realpath(dir, cfg->data_dir) == NULL) {
		log_error(NULL, "cannot create MANAGER_DATA_DIR %s", dir);
		return (MGR_EINVAL);
	}
	snprintf(run, sizeof(run), "%s/run", cfg->data_dir);
	if (mkdir_p(run, 0700) != MGR_OK)
		return (MGR_EINVAL);

	if (env_int("MANAGER_HTTPS_PORT", 8443, 1, 65535, &n) != MGR_OK)
		return (MGR_EINVAL);
	cfg->https_port = (int)n;
	if (env_int("MANAGER_S3_PORT", 8444, 0, 65535, &n) != MGR_OK)
		return (MGR_EINVAL);
	cfg->s3_port = (int)n;
	env_str("MANAGER_S3_DOMAIN", "", cfg->s3_domain, sizeof(cfg->s3_domain));
	env_str("MANAGER_BIND", "127.0.0.1", cfg->bind, sizeof(cfg->bind));
	env_str("MANAGER_REDIS_URL", "redis://127.0.0.1:6379/0", cfg->redis_url,
	    sizeof(cfg->redis_url));
	env_str("MANAGER_ADMIN_PASSWORD", "", cfg->admin_password,
	    sizeof(cfg->admin_password));
	if (env_int("MANAGER_MIN_CERT_VALIDITY_S", 3600, 0, 10LL * 365 * 86400,
	        &cfg->min_cert_validity_s) != MGR_OK ||
	    env_int("MANAGER_EXPIRY_NOTICE_DAYS", 30, 1, 3650,
	        &cfg->expiry_notice_days) != MGR_OK ||
	    env_int("MANAGER_EXPIRY_SCAN_INTERVAL_S", 60, 1, 86400,
	        &cfg->expiry_scan_interval_s) != MGR_OK ||
	    env_int("MANAGER_CERT_RETENTION_S", 90LL * 86400, 0, 10LL * 365 * 86400,
	        &cfg->cert_retention_s) != MGR_OK ||
	    env_int("MANAGER_MAX_OBJECT_BYTES", 5368709120LL, 0, 1LL << 40,
	        &cfg->max_object_bytes) != MGR_OK ||
	    env_int("MANAGER_VAULT_GC_INTERVAL_S", 60, 1, 86400,
	        &cfg->vault_gc_interval_s) != MGR_OK ||
	    env_int("MANAGER_VAULT_GC_GRACE_S", 600, 0, 7LL * 86400,
	        &cfg->vault_gc_grace_s) != MGR_OK ||
	    env_int("MANAGER_VAULT_SCRUB_INTERVAL_S", 86400, 0, 365LL * 86400,
	        &cfg->vault_scrub_interval_s) != MGR_OK)
		return (MGR_EINVAL);
	snprintf(dir, sizeof(dir), "%s/objects", cfg->data_dir);
	env_str("MANAGER_OBJECT_DIR", dir, cfg->object_dir, sizeof(cfg->object_dir));
	snprintf(dir, sizeof(dir), "%s/mirror", cfg->data_dir);
	env_str("MANAGER_MIRROR_DIR", dir, cfg->mirror_dir, sizeof(cfg->mirror_dir));
	snprintf(dir, sizeof(dir), "%s/master.key", cfg->data_dir);
	env_str("MANAGER_MASTER_KEY_FILE", dir, cfg->master_key_file,
	    sizeof(cfg->master_key_file));
	env_str("MANAGER_MASTER_KEY_OLD_FILES", "", cfg->master_key_old_files,
	    sizeof(cfg->master_key_old_files));
	env_str("MANAGER_CA_KEY_TYPE", "rsa2048", cfg->ca_key_type,
	    sizeof(cfg->ca_key_type));
	if (strcmp(cfg->ca_key_type, "rsa2048") != 0 &&
	    strcmp(cfg->ca_key_type, "ec-p256") != 0) {
		log_error(NULL, "MANAGER_CA_KEY_TYPE must be rsa2048 or ec-p256");
		return (MGR_EINVAL);
	}
	env_str("MANAGER_CA_KEY_FILE", "", cfg->ca_key_file, sizeof(cfg->ca_key_file));
	env_str("MANAGER_CA_CERT_FILE", "", cfg->ca_cert_file, sizeof(cfg->ca_cert_file));
	if ((*cfg->ca_key_file == '\0') != (*cfg->ca_cert_file == '\0')) {
		log_error(NULL, "set both MANAGER_CA_KEY_FILE and MANAGER_CA_CERT_FILE");
		return (MGR_EINVAL);
	}
	env_str("MANAGER_CA_PKCS11_MODULE", "", cfg->ca_pkcs11_module,
	    sizeof(cfg->ca_pkcs11_module));
	env_str("MANAGER_CA_KEY_URI", "", cfg->ca_key_uri, sizeof(cfg->ca_key_uri));
	if ((*cfg->ca_pkcs11_module == '\0') != (*cfg->ca_key_uri == '\0')) {
		log_error(NULL,
		    "set both MANAGER_CA_PKCS11_MODULE and MANAGER_CA_KEY_URI");
		return (MGR_EINVAL);
	}
	if (*cfg->ca_key_uri != '\0' && *cfg->ca_key_file != '\0') {
		log_error(NULL,
		    "MANAGER_CA_KEY_URI and MANAGER_CA_KEY_FILE exclude each other");
		return (MGR_EINVAL);
	}
	if (*cfg->ca_key_uri != '\0' && strncmp(cfg->ca_key_uri, "pkcs11:", 7) != 0) {
		log_error(NULL, "MANAGER_CA_KEY_URI must be a pkcs11: URI (RFC 7512)");
		return (MGR_EINVAL);
	}
	if (public_url(cfg) != MGR_OK)
		return (MGR_EINVAL);

	snprintf(dir, sizeof(dir), "ipc://%s/account.sock", run);
	env_str("MANAGER_ACCOUNT_ADDR", dir, cfg->account_addr,
	    sizeof(cfg->account_addr));
	snprintf(dir, sizeof(dir), "ipc://%s/ca.sock", run);
	env_str("MANAGER_CA_ADDR", dir, cfg->ca_addr, sizeof(cfg->ca_addr));
	snprintf(dir, sizeof(dir), "ipc://%s/vault.sock", run);
	env_str("MANAGER_VAULT_ADDR", dir, cfg->vault_addr, sizeof(cfg->vault_addr));
	env_str("MANAGER_TLS_SANS", "", cfg->tls_sans, sizeof(cfg->tls_sans));
	if (env_int("MANAGER_RPC_WORKERS", 16, 1, 256, &n) != MGR_OK)
		return (MGR_EINVAL);
	cfg->rpc_workers = (int)n;
	if (env_int("MANAGER_RPC_TIMEOUT_MS", 10000, 100, 600000, &n) != MGR_OK)
		return (MGR_EINVAL);
	cfg->rpc_timeout_ms = (int)n;
	/* Below the gateway's 60 s idle timeout. */
	if (env_int("MANAGER_SSE_HEARTBEAT_S", 15, 1, 50, &cfg->sse_heartbeat_s) !=
	    MGR_OK)
		return (MGR_EINVAL);
	if (mgr_config_internal_tls(&cfg->internal_tls) != MGR_OK)
		return (MGR_EINVAL);
	return (MGR_OK);
}
