/* mgr: what the commands share — settings, the HTTP client of the public
 * API (libcurl), the application's state directory, output. */
#ifndef MGR_CLI_CLI_H
#define MGR_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <curl/curl.h>
#include <jansson.h>

#include "cli/args.h"
#include "common/buf.h"

#define MGR_CLI_VERSION "2.0.0"
#define CLI_DEFAULT_URL "https://127.0.0.1:8443"
#define CLI_REASON_MAX 1024
#define CLI_JSON_MAX (16u << 20) /* the largest JSON answer read */

/* Exit codes (API.md). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

enum cli_auth {
	CLI_AUTH_NONE,
	CLI_AUTH_ADMIN, /* Basic, MANAGER_ADMIN_USER / MANAGER_ADMIN_PASSWORD */
	CLI_AUTH_TEMP,  /* Basic, the bundle's one-time credentials */
	CLI_AUTH_APP,   /* client certificate: DIR/key.pem + DIR/cert.pem */
};

struct cli {
	const char *url;     /* --url / MANAGER_URL; NULL: account.json, default */
	const char *ca_file; /* --ca / MANAGER_CA_CERT */
	const char *dir;     /* --dir, default "." */
	const char *admin_password_file;
	int json;
	int quiet;
	int verbose;
	int progress; /* stdout is a terminal */
	char reason[CLI_REASON_MAX];
	CURL *curl;
	/* filled per request by the commands */
	char base[512];       /* the URL requests go to */
	const char *ca_pem;   /* CA certificate as PEM in memory, or NULL */
	char *admin_password; /* read once (env, file or prompt); wiped at exit */
	const char *temp_user, *temp_pass;
	int lock_fd, lock_depth; /* DIR/.mgr.lock (state.c) */
};

/* A one-line reason for the failure; the command then returns EXIT_FAIL. */
int cli_fail(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a usage error (EXIT_USAGE). */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_log(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints v (stolen) to stdout as JSON. */
void cli_print_json(json_t *v);

/* ---- HTTP (http.c) ------------------------------------------------------- */

struct http_resp {
	long status;
	struct mgr_buf body;
	char etag[160];
	char content_type[128];
};

/* Streams of a request: upload from `in` (size bytes, or -1: chunked), or
 * the body to `sink` (then resp.body holds only an error body). */
struct http_stream {
	FILE *in;
	curl_off_t in_size;
	size_t (*read)(char *p, size_t size, size_t n, void *arg); /* else fread */
	void *read_arg;
	size_t (*sink)(const char *p, size_t n, void *arg); /* n on success */
	void *sink_arg;
	int (*progress)(void *arg, curl_off_t dltotal, curl_off_t dlnow,
	    curl_off_t ultotal, curl_off_t ulnow); /* non-zero aborts */
	void *progress_arg;
	long low_speed_time; /* seconds under 1 byte/s that end the transfer */
	const char *last_event_id;
};

/* Sets base from --url / MANAGER_URL, else fallback, else the default. */
int cli_set_base(struct cli *c, const char *fallback);
/* Reads the administrator's password (MANAGER_ADMIN_PASSWORD, the file of
 * --admin-password-file / MANAGER_ADMIN_PASSWORD_FILE, else a prompt on the
 * terminal). 0 or -1 with the reason set. */
int cli_admin_password(struct cli *c);
/* One request. path is below base ("/api/v1/..."), already encoded. Returns
 * 0 when an HTTP answer came (any status), -1 with the reason set when none
 * did (connection, TLS, aborted). */
int http_request(struct cli *c, enum cli_auth auth, const char *method, const char *path,
    const char *body, size_t body_len, struct http_stream *st, struct http_resp *out);
void http_resp_free(struct http_resp *r);
/* A JSON call: body (not stolen) may be NULL. On a 2xx answer *out gets the
 * parsed body (or NULL for 204) and 0 is returned; otherwise -1 with the
 * reason "METHOD PATH: HTTP 409 conflict: message". status may be NULL. */
int http_json(struct cli *c, enum cli_auth auth, const char *method, const char *path,
    json_t *body, long *status, json_t **out);
/* The reason of a non-2xx answer into c->reason. */
void http_set_error(struct cli *c, const char *method, const char *path,
    const struct http_resp *r);
/* Drops open connections (after the client certificate changed). */
void http_reset(struct cli *c);
/* Percent-encodes s into out (keeps unreserved characters, and '/' when
 * keep_slash). -1 when out is too small. */
int http_escape(const char *s, int keep_slash, char *out, size_t outlen);
/* Fetches every page of a listing: GET path?after=…, appending the items of
 * member `key` of each page to *out (a new array). */
int http_list_all(struct cli *c, enum cli_auth auth, const char *path, const char *key,
    json_t **out);
/* The same from the page after cursor start ("" for the first). */
int http_list_from(struct cli *c, enum cli_auth auth, const char *path, const char *key,
    const char *start, json_t **out);

/* ---- the application's directory (state.c) ------------------------------ */

struct app_state {
	json_t *account; /* account.json */
	const char *account_id;
	struct mgr_buf key_pem, cert_pem, ca_pem;
};

/* Loads DIR (after the start-up recovery of an interrupted rotation) and
 * points c at the account's URL and CA. 0 or -1 with the reason. */
int state_load(struct cli *c, struct app_state *s);
void state_free(struct app_state *s);
/* Holds an exclusive lock on DIR/.mgr.lock (blocking; nested calls of one
 * process count up); -1 on error. state_unlock(c, -1) does nothing. */
int state_lock(struct cli *c);
void state_unlock(struct cli *c, int fd);
/* Finishes or undoes an interrupted rotation (the rule in state.c). */
int state_recover(struct cli *c);
/* Replaces DIR/cert.pem with pem atomically (same key). */
int state_write_cert(struct cli *c, const char *pem);

/* ---- commands ------------------------------------------------------------ */

struct cli_cmd {
	const char *name; /* "account create" */
	int (*run)(struct cli *c, struct args *a);
	const struct args_spec *opts;
	size_t nopts;
	const char *args;    /* positional arguments, for usage */
	const char *summary; /* one line */
	size_t min_pos, max_pos;
	int auth; /* the credentials it uses (for --help) */
};

extern const struct cli_cmd cli_admin_cmds[];
extern const size_t cli_admin_ncmds;
extern const struct cli_cmd cli_app_cmds[];
extern const size_t cli_app_ncmds;
extern const struct cli_cmd cli_vault_cmds[];
extern const size_t cli_vault_ncmds;

/* The value of option `name` of the command's table, NULL when not given. */
const char *cli_opt(const struct args *a, const char *name);
int cli_flag(const struct args *a, const char *name);
const struct args_val *cli_optv(const struct args *a, const char *name);
#define OPT(a, name) cli_opt((a), (name))
#define FLAG(a, name) cli_flag((a), (name))

/* The daemon (daemon.c) and the event stream reader it shares with `mgr
 * events --follow`. */
int cli_renew_daemon(struct cli *c, const char *exec_cmd, int64_t backoff_max_s);
/* Follows the account's event stream from after (NULL: from now), printing
 * each event; reconnects with Last-Event-ID. Takes s over. Returns at
 * SIGINT/SIGTERM (0). */
int cli_follow_events(struct cli *c, struct app_state *s, const char *after);
/* Set by SIGINT/SIGTERM once cli_signals() is installed. */
extern volatile int cli_stop;
void cli_signals(void);
/* Sleeps ms milliseconds or until cli_stop. */
void cli_sleep_ms(int64_t ms);
/* Random password of n characters from [A-Za-z0-9] (n + 1 bytes of out). */
int cli_random_password(char *out, size_t n);
/* A time in RFC 3339 from a date option ("2027-01-01", RFC 3339, or "+20d",
 * "+36h", "+90m", "+3600s" from now). -1 when malformed. */
int cli_parse_when(const char *s, int64_t *out);
/* Renews once: the API call, the checks, the write. *changed is 1 when a
 * new certificate was written. expires 0: the server's rule. */
int cli_renew_once(struct cli *c, struct app_state *s, int64_t expires, int *changed,
    json_t **answer);

#endif
