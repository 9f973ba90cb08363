/* The HTTP client of the public API: one libcurl easy handle per process,
 * so that requests reuse their HTTP/1.1 keep-alive connection. */
#include "cli/cli.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "cli/fsx.h"

#define ERR_BODY_MAX (64u * 1024)
#define LIST_MAX_ITEMS 1000000

struct xfer {
	struct cli *c;
	struct http_resp *r;
	struct http_stream *st;
	int sink_failed;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	long code = 0;

	curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (x->st != NULL && x->st->sink != NULL && code >= 200 && code < 300) {
		if (x->st->sink(p, n, x->st->sink_arg) != n) {
			x->sink_failed = 1;
			return (0);
		}
		return (n);
	}
	if (mgr_buf_add(&x->r->body, p, n) != MGR_OK)
		return (0);
	return (n);
}

static void
header_value(const char *p, size_t n, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (n <= nl + 1 || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return;
	v = p + nl + 1;
	vl = n - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl < outlen) {
		memcpy(out, v, vl);
		out[vl] = '\0';
	}
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new answer (after 100) */
		x->r->etag[0] = '\0';
		x->r->content_type[0] = '\0';
		mgr_buf_reset(&x->r->body);
	}
	header_value(p, n, "ETag", x->r->etag, sizeof(x->r->etag));
	header_value(p, n, "Content-Type", x->r->content_type,
	    sizeof(x->r->content_type));
	return (n);
}

int
cli_set_base(struct cli *c, const char *fallback)
{
	const char *u = c->url;

	if (u == NULL || *u == '\0')
		u = getenv("MANAGER_URL");
	if (u == NULL || *u == '\0')
		u = fallback;
	if (u == NULL || *u == '\0')
		u = CLI_DEFAULT_URL;
	if (strlen(u) >= sizeof(c->base))
		return (cli_usage(c, "the URL is too long"));
	snprintf(c->base, sizeof(c->base), "%s", u);
	for (size_t n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
	if (strncmp(c->base, "https://", 8) != 0 && strncmp(c->base, "http://", 7) != 0)
		return (cli_usage(c, "the URL must start with https:// (got %.100s)",
		    c->base));
	return (0);
}

void
http_resp_free(struct http_resp *r)
{
	mgr_buf_free(&r->body);
}

void
http_reset(struct cli *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

int
http_request(struct cli *c, enum cli_auth auth, const char *method, const char *path,
    const char *body, size_t body_len, struct http_stream *st, struct http_resp *out)
{
	char url[8192], errbuf[CURL_ERROR_SIZE], certp[FSX_PATH_MAX], keyp[FSX_PATH_MAX],
	    leid[200];
	struct curl_slist *h = NULL;
	struct xfer x = {c, out, st, 0};
	struct curl_blob blob;
	CURLcode cc;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	mgr_buf_init(&out->body,
	    st != NULL && st->sink != NULL ? ERR_BODY_MAX : CLI_JSON_MAX);
	if (c->curl == NULL && (c->curl = curl_easy_init()) == NULL)
		return (cli_fail(c, "cannot start libcurl"), -1);
	curl_easy_reset(c->curl);
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->base, path) >= sizeof(url))
		return (cli_fail(c, "the request path is too long"), -1);
	errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "mgr/" MGR_CLI_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L); /* object keys as they are */
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME,
	    st != NULL && st->low_speed_time > 0 ? st->low_speed_time : 300L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x);
	if (c->ca_file != NULL && *c->ca_file != '\0') {
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_file);
	} else if (c->ca_pem != NULL) {
		blob.data = (void *)c->ca_pem;
		blob.len = strlen(c->ca_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(c->curl, CURLOPT_CAINFO_BLOB, &blob);
	}
	switch (auth) {
	case CLI_AUTH_ADMIN:
		if (cli_admin_password(c) != 0)
			return (-1);
		{
			const char *u = getenv("MANAGER_ADMIN_USER");

			curl_easy_setopt(c->curl, CURLOPT_USERNAME,
			    u != NULL && *u != '\0' ? u : "admin");
		}
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->admin_password);
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		break;
	case CLI_AUTH_TEMP:
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->temp_user);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->temp_pass);
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		break;
	case CLI_AUTH_APP:
		if (fsx_join(c->dir, "cert.pem", certp) != MGR_OK ||
		    fsx_join(c->dir, "key.pem", keyp) != MGR_OK)
			return (cli_fail(c, "the directory name is too long"), -1);
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, certp);
		curl_easy_setopt(c->curl, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, keyp);
		curl_easy_setopt(c->curl, CURLOPT_SSLKEYTYPE, "PEM");
		break;
	case CLI_AUTH_NONE:
		break;
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	if (st != NULL && st->in != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c->curl, CURLOPT_READDATA,
		    st->read != NULL ? st->read_arg : (void *)st->in);
		if (st->read != NULL)
			curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, st->read);
		curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, st->in_size);
		h = curl_slist_append(h, "Content-Type: application/octet-stream");
	}
	if (st != NULL && st->last_event_id != NULL) {
		h = curl_slist_append(h, "Accept: text/event-stream");
		if (*st->last_event_id != '\0') {
			snprintf(leid, sizeof(leid), "Last-Event-ID: %.150s",
			    st->last_event_id);
			h = curl_slist_append(h, leid);
		}
	}
	if (st != NULL && st->progress != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, st->progress);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, st->progress_arg);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0 &&
	    !(strcmp(method, "POST") == 0 && (st == NULL || st->in == NULL)))
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (h != NULL)
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (cc == CURLE_OK) {
		rv = 0;
	} else if (x.sink_failed) {
		if (c->reason[0] == '\0')
			cli_fail(c, "%s %s: writing the data failed", method, path);
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		if (c->reason[0] == '\0')
			cli_fail(c, "%s %s: stopped", method, path);
	} else if (cc == CURLE_WRITE_ERROR && st != NULL && st->last_event_id != NULL) {
		rv = 0; /* the event callback asked to stop */
	} else {
		cli_fail(c, "%s %s: cannot reach %s: %s", method, path, c->base,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
	}
	curl_slist_free_all(h);
	if (rv != 0)
		http_resp_free(out);
	return (rv);
}

void
http_set_error(struct cli *c, const char *method, const char *path,
    const struct http_resp *r)
{
	json_t *o = NULL, *e;
	const char *code = NULL, *msg = NULL, *rid = NULL;
	char where[300];
	const char *q = strchr(path, '?');

	snprintf(where, sizeof(where), "%s %.*s", method,
	    (int)(q != NULL ? (size_t)(q - path) : strlen(path)), path);
	if (r->body.data != NULL)
		o = json_loadb(r->body.data, r->body.len, 0, NULL);
	if ((e = json_object_get(o, "error")) != NULL) {
		code = json_string_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
		rid = json_string_value(json_object_get(e, "request_id"));
	}
	if (code != NULL)
		cli_fail(c, "%s: HTTP %ld %s: %.300s%s%.80s%s", where, r->status, code,
		    msg != NULL ? msg : "", rid != NULL ? " (request " : "",
		    rid != NULL ? rid : "", rid != NULL ? ")" : "");
	else
		cli_fail(c, "%s: HTTP %ld (no API error in the answer)", where,
		    r->status);
	json_decref(o);
}

int
http_json(struct cli *c, enum cli_auth auth, const char *method, const char *path,
    json_t *body, long *status, json_t **out)
{
	struct http_resp r;
	char *text = NULL;
	json_t *o = NULL;
	json_error_t je;
	int rv = -1;

	if (out != NULL)
		*out = NULL;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
		return (cli_fail(c, "out of memory"), -1);
	if (http_request(c, auth, method, path, text, text != NULL ? strlen(text) : 0,
	        NULL, &r) != 0) {
		if (text != NULL)
			OPENSSL_cleanse(text, strlen(text)); /* may hold a password */
		free(text);
		return (-1);
	}
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (status != NULL)
		*status = r.status;
	if (r.status < 200 || r.status > 299) {
		http_set_error(c, method, path, &r);
		goto out;
	}
	if (r.status != 204 && r.body.len > 0) {
		if ((o = json_loadb(r.body.data, r.body.len, 0, &je)) == NULL) {
			cli_fail(c, "%s %s: HTTP %ld with a body that is not JSON (%s)",
			    method, path, r.status, je.text);
			goto out;
		}
	}
	if (out != NULL)
		*out = o;
	else
		json_decref(o);
	rv = 0;
out:
	http_resp_free(&r);
	return (rv);
}

int
http_escape(const char *s, int keep_slash, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~' || (keep_slash && *p == '/');

		if (o + (plain ? 1 : 3) >= outlen)
			return (-1);
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return (0);
}

int
http_list_all(struct cli *c, enum cli_auth auth, const char *path, const char *key,
    json_t **out)
{
	return (http_list_from(c, auth, path, key, "", out));
}

int
http_list_from(struct cli *c, enum cli_auth auth, const char *path, const char *key,
    const char *start, json_t **out)
{
	json_t *all = json_array(), *page = NULL;
	char p[4096], after[512];
	int rv = -1;

	if (strlen(start) >= sizeof(after)) {
		json_decref(all);
		return (cli_usage(c, "the cursor is too long"), -1);
	}
	snprintf(after, sizeof(after), "%s", start);
	if (all == NULL)
		return (cli_fail(c, "out of memory"), -1);
	for (;;) {
		json_t *items, *next;
		char esc[1600];

		if (http_escape(after, 0, esc, sizeof(esc)) != 0 ||
		    (size_t)snprintf(p, sizeof(p), "%s%s%s%s", path,
		        after[0] != '\0' ? (strchr(path, '?') ? "&" : "?") : "",
		        after[0] != '\0' ? "after=" : "", esc) >= sizeof(p)) {
			cli_fail(c, "paging cursor too long");
			goto out;
		}
		if (http_json(c, auth, "GET", p, NULL, NULL, &page) != 0)
			goto out;
		items = json_object_get(page, key);
		if (!json_is_array(items)) {
			cli_fail(c, "GET %s: the answer has no \"%s\" list", path, key);
			goto out;
		}
		if (json_array_size(items) == 0)
			break;
		json_array_extend(all, items);
		if (json_array_size(all) > LIST_MAX_ITEMS) {
			cli_fail(c, "GET %s: more than %d items", path, LIST_MAX_ITEMS);
			goto out;
		}
		next = json_object_get(page, "next_after");
		if (!json_is_string(next) || json_string_length(next) >= sizeof(after) ||
		    strcmp(json_string_value(next), after) == 0)
			break;
		snprintf(after, sizeof(after), "%s", json_string_value(next));
		json_decref(page);
		page = NULL;
	}
	*out = all;
	all = NULL;
	rv = 0;
out:
	json_decref(page);
	json_decref(all);
	return (rv);
}
