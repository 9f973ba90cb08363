/* Configuration from the environment: the variables of API.md plus internal ones. */
#ifndef MGR_COMMON_CONFIG_H
#define MGR_COMMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "common/err.h"

#define MGR_PATH_MAX 1024
#define MGR_ADDRS_MAX 8

/* Internal mutual TLS for tls+tcp:// service addresses: this process's
 * certificate and key and the internal CA that every peer must chain to
 * (PEM file paths; all three or none). */
struct mgr_internal_tls {
	char cert[MGR_PATH_MAX]; /* MANAGER_INTERNAL_TLS_CERT */
	char key[MGR_PATH_MAX];  /* MANAGER_INTERNAL_TLS_KEY */
	char ca[MGR_PATH_MAX];   /* MANAGER_INTERNAL_TLS_CA */
};

struct mgr_config {
	char data_dir[MGR_PATH_MAX];    /* MANAGER_DATA_DIR, made absolute */
	int https_port;                 /* MANAGER_HTTPS_PORT */
	int s3_port;                    /* MANAGER_S3_PORT (8444; 0: no S3) */
	char s3_domain[256];            /* MANAGER_S3_DOMAIN: virtual-hosted
	                                     buckets {bucket}.{domain}; "" none */
	char bind[256];                 /* MANAGER_BIND */
	char redis_url[512];            /* MANAGER_REDIS_URL */
	char admin_password[256];       /* MANAGER_ADMIN_PASSWORD, may be empty */
	int64_t min_cert_validity_s;    /* MANAGER_MIN_CERT_VALIDITY_S */
	int64_t expiry_notice_days;     /* MANAGER_EXPIRY_NOTICE_DAYS */
	int64_t expiry_scan_interval_s; /* MANAGER_EXPIRY_SCAN_INTERVAL_S */
	int64_t cert_retention_s;       /* MANAGER_CERT_RETENTION_S: how long a
	                                     certificate's record is kept after
	                                     its expiry (default 90 days) */
	int64_t max_object_bytes;       /* MANAGER_MAX_OBJECT_BYTES (5 GiB) */
	/* Vault storage (vault-svc only). */
	char object_dir[MGR_PATH_MAX];      /* MANAGER_OBJECT_DIR ($DATA/objects) */
	char mirror_dir[MGR_PATH_MAX];      /* MANAGER_MIRROR_DIR ($DATA/mirror) */
	char master_key_file[MGR_PATH_MAX]; /* MANAGER_MASTER_KEY_FILE
	                                     ($DATA/master.key) */
	char master_key_old_files[4 * MGR_PATH_MAX]; /* MANAGER_MASTER_KEY_OLD_FILES:
	                                     earlier master keys, comma separated,
	                                     still read during a rotation */
	int64_t vault_gc_interval_s;     /* MANAGER_VAULT_GC_INTERVAL_S (60) */
	int64_t vault_gc_grace_s;        /* MANAGER_VAULT_GC_GRACE_S (600): how
	                                     long the data of an overwritten or
	                                     deleted object stays for reads that
	                                     began before */
	int64_t vault_scrub_interval_s;  /* MANAGER_VAULT_SCRUB_INTERVAL_S
	                                     (86400; 0: never): how often every
	                                     stored chunk is read and checked */
	char ca_key_type[32];            /* MANAGER_CA_KEY_TYPE: rsa2048 | ec-p256 */
	char ca_key_file[MGR_PATH_MAX];  /* MANAGER_CA_KEY_FILE */
	char ca_cert_file[MGR_PATH_MAX]; /* MANAGER_CA_CERT_FILE */
	/* The CA key in a PKCS#11 token: the module and an RFC 7512 URI naming
	 * token and key (with pin-value or pin-source). Both or neither. */
	char ca_pkcs11_module[MGR_PATH_MAX]; /* MANAGER_CA_PKCS11_MODULE */
	char ca_key_uri[1024];               /* MANAGER_CA_KEY_URI */
	/* MANAGER_PUBLIC_URL: the base of the URLs written into certificates
	 * (AIA, CRL distribution point), no trailing '/'. Default
	 * https://{MANAGER_BIND}:{MANAGER_HTTPS_PORT}. */
	char public_url[512];
	/* Internal service addresses (nng URLs); several, comma separated, to
	 * spread over replicas. Default ipc:// under $MANAGER_DATA_DIR/run. */
	char account_addr[1024]; /* MANAGER_ACCOUNT_ADDR */
	char ca_addr[1024];      /* MANAGER_CA_ADDR */
	char vault_addr[1024];   /* MANAGER_VAULT_ADDR */
	char tls_sans[1024];     /* MANAGER_TLS_SANS: extra gateway SANs */
	int rpc_workers;         /* MANAGER_RPC_WORKERS */
	int rpc_timeout_ms;      /* MANAGER_RPC_TIMEOUT_MS */
	int log_level;           /* MANAGER_LOG_LEVEL: error|warn|info|debug */
	int log_format;          /* MANAGER_LOG_FORMAT: text|json */
	int64_t sse_heartbeat_s; /* MANAGER_SSE_HEARTBEAT_S: event stream ping */
	struct mgr_internal_tls internal_tls;
};

/* Reads the environment into *cfg; creates the data dir (0700) if missing. */
mgr_err mgr_config_load(struct mgr_config *cfg);

/* Reads the MANAGER_INTERNAL_TLS_* variables into *out (empty strings when
 * unset). MGR_EINVAL when only some of the three are set. */
mgr_err mgr_config_internal_tls(struct mgr_internal_tls *out);

/* Joins data_dir and a relative name into out. */
mgr_err mgr_config_path(const struct mgr_config *cfg, const char *name, char *out,
    size_t outlen);

#endif
