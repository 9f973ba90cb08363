/* Object data streams (objio.h). A PUT sends chunk i+1 while the service
 * stores chunk i; a GET fetches the next chunks while the client receives
 * this one. */
#include "gateway/objio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/util.h"

/* ---- PUT ---------------------------------------------------------------- */

/* How long a commit may take to happen (by the Redis clock), how far the
 * clocks of gateway and Redis may disagree, and how long after that the
 * gateway keeps asking for the outcome before it gives up. */
#define COMMIT_WINDOW_MS 15000
#define COMMIT_SKEW_MS 2000
#define COMMIT_ASK_MS 30000

struct gw_obj_put {
	char vault_id[MGR_ID_MAX];
	char upload_id[40];
	uint8_t *buf; /* the chunk being filled */
	size_t fill;
	size_t cap;
	size_t cs;      /* the upload's chunk size */
	uint32_t index; /* of the chunk being filled */
	int64_t total;
	int64_t declared; /* -1: unknown */
	EVP_MD_CTX *sha, *md5;
	int digested;
	char sha_hex[65], md5_hex[33];
	/* PutChunk calls in flight, oldest first (a ring). */
	struct rpc_pending *sent[GW_CHUNKS_IN_FLIGHT];
	int first, nsent;
	int committed;
};

static mgr_err
put_wait_one(struct gw_req *r, struct gw_obj_put *s)
{
	struct rpc_pending *p = s->sent[s->first];
	mgr_err rv;

	s->sent[s->first] = NULL;
	s->first = (s->first + 1) % GW_CHUNKS_IN_FLIGHT;
	s->nsent--;
	rv = rpc_call_wait(p, NULL, NULL, r->errmsg, sizeof(r->errmsg));
	if (rv == MGR_EUNAVAIL || rv == MGR_EINTERNAL || rv == MGR_ENOMEM)
		gw_metrics_rpc_error("vault.PutChunk", rv);
	if (rv == MGR_EUNAVAIL)
		log_warn(r->request_id, "vault.PutChunk: backing service unavailable");
	return (rv);
}

static mgr_err
put_wait_all(struct gw_req *r, struct gw_obj_put *s)
{
	mgr_err rv = MGR_OK, e;

	while (s->nsent > 0)
		if ((e = put_wait_one(r, s)) != MGR_OK && rv == MGR_OK)
			rv = e;
	return (rv);
}

/* Sends the chunk in s->buf (the call copies it: the buffer is free again
 * on return), first waiting for the oldest call when all slots are busy. */
static mgr_err
put_flush(struct gw_req *r, struct gw_obj_put *s)
{
	Mgr__Vault__PutChunkRequest in = MGR__VAULT__PUT_CHUNK_REQUEST__INIT;
	struct rpc_pending *p = NULL;
	mgr_err rv;

	if (s->nsent == GW_CHUNKS_IN_FLIGHT && (rv = put_wait_one(r, s)) != MGR_OK)
		return (rv);
	in.vault_id = s->vault_id;
	in.upload_id = s->upload_id;
	in.index = s->index;
	in.data.data = s->buf;
	in.data.len = s->fill;
	if ((rv = rpc_call_start(gw.vault, "vault.PutChunk", r->rpc_id, &r->caller,
	         &in.base, 0, &p)) != MGR_OK) {
		gw_metrics_rpc_error("vault.PutChunk", rv);
		return (gw_fail(r, rv, "%s", mgr_strerror(rv)));
	}
	s->sent[(s->first + s->nsent) % GW_CHUNKS_IN_FLIGHT] = p;
	s->nsent++;
	s->index++;
	s->fill = 0;
	return (MGR_OK);
}

mgr_err
gw_obj_put_begin(struct gw_req *r, const Mgr__Vault__PutBeginRequest *in,
    struct gw_obj_put **out)
{
	Mgr__Vault__PutBeginReply *rep = NULL;
	struct gw_obj_put *s;
	mgr_err rv;

	if ((rv = gw_rpc(r, gw.vault, "vault.PutBegin", &in->base,
	         &mgr__vault__put_begin_reply__descriptor, (ProtobufCMessage **)&rep)) !=
	    MGR_OK)
		return (rv);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		mgr__vault__put_begin_reply__free_unpacked(rep, NULL);
		return (MGR_ENOMEM);
	}
	snprintf(s->vault_id, sizeof(s->vault_id), "%s", rep->vault_id);
	snprintf(s->upload_id, sizeof(s->upload_id), "%s", rep->upload_id);
	s->cs = rep->chunk_bytes > 0 && rep->chunk_bytes <= RPC_CHUNK_BYTES
	    ? rep->chunk_bytes
	    : RPC_CHUNK_BYTES;
	mgr__vault__put_begin_reply__free_unpacked(rep, NULL);
	s->declared = in->size;
	*out = s;
	if (in->size > gw.cfg.max_object_bytes)
		return (gw_fail(r, MGR_ETOOBIG, "an object is at most %lld bytes",
		    (long long)gw.cfg.max_object_bytes));
	s->cap = in->size >= 0 && in->size < (int64_t)s->cs ? (size_t)in->size : s->cs;
	if ((s->buf = malloc(s->cap > 0 ? s->cap : 1)) == NULL ||
	    (s->sha = EVP_MD_CTX_new()) == NULL || (s->md5 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) != 1)
		return (MGR_ENOMEM);
	return (MGR_OK);
}

mgr_err
gw_obj_put_data(struct gw_req *r, struct gw_obj_put *s, const char *data, size_t len)
{
	mgr_err rv;

	if ((int64_t)len > gw.cfg.max_object_bytes - s->total)
		return (gw_fail(r, MGR_ETOOBIG, "an object is at most %lld bytes",
		    (long long)gw.cfg.max_object_bytes));
	if (s->declared >= 0 && (int64_t)len > s->declared - s->total)
		return (gw_fail(r, MGR_EINVAL, "body longer than Content-Length"));
	s->total += (int64_t)len;
	if (EVP_DigestUpdate(s->sha, data, len) != 1 ||
	    EVP_DigestUpdate(s->md5, data, len) != 1)
		return (MGR_EINTERNAL);
	while (len > 0) {
		size_t n = s->cap - s->fill;

		if (n == 0)
			return (
			    gw_fail(r, MGR_EINVAL, "body longer than Content-Length"));
		if (n > len)
			n = len;
		memcpy(s->buf + s->fill, data, n);
		s->fill += n;
		data += n;
		len -= n;
		if (s->fill == s->cs && (rv = put_flush(r, s)) != MGR_OK)
			return (rv);
	}
	return (MGR_OK);
}

int64_t
gw_obj_put_size(const struct gw_obj_put *p)
{
	return (p->total);
}

static void
hex(const unsigned char *b, unsigned int n, char *out)
{
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

mgr_err
gw_obj_put_digests(struct gw_obj_put *s, char sha256[65], char md5[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!s->digested) {
		if (EVP_DigestFinal_ex(s->sha, md, &mdlen) != 1 || mdlen != 32)
			return (MGR_EINTERNAL);
		hex(md, mdlen, s->sha_hex);
		if (EVP_DigestFinal_ex(s->md5, md, &mdlen) != 1 || mdlen != 16)
			return (MGR_EINTERNAL);
		hex(md, mdlen, s->md5_hex);
		s->digested = 1;
	}
	memcpy(sha256, s->sha_hex, 65);
	memcpy(md5, s->md5_hex, 33);
	return (MGR_OK);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

mgr_err
gw_obj_put_commit(struct gw_req *r, struct gw_obj_put *s,
    Mgr__Vault__PutCommitReply **out)
{
	Mgr__Vault__PutCommitRequest in = MGR__VAULT__PUT_COMMIT_REQUEST__INIT;
	char sha[65], md5[33];
	int64_t deadline, now;
	int tries = 0;
	mgr_err rv;

	if (s->fill > 0 && (rv = put_flush(r, s)) != MGR_OK)
		return (rv);
	if ((rv = put_wait_all(r, s)) != MGR_OK)
		return (rv);
	if ((rv = gw_obj_put_digests(s, sha, md5)) != MGR_OK)
		return (rv);
	deadline = mgr_now_ms() + COMMIT_WINDOW_MS;
	in.vault_id = s->vault_id;
	in.upload_id = s->upload_id;
	in.size = s->total;
	in.sha256 = sha;
	in.md5 = md5;
	in.commit_deadline_ms = deadline;
	/* The same request (same id, same bytes) each time: a commit that
	 * happened answers its recorded reply; past the deadline one that did
	 * not happen answers "late:" (proto/vault.proto). */
	for (;;) {
		r->errmsg[0] = '\0';
		rv = gw_rpc(r, gw.vault, "vault.PutCommit", &in.base,
		    &mgr__vault__put_commit_reply__descriptor, (ProtobufCMessage **)out);
		if (rv != MGR_EUNAVAIL)
			break;
		if (strncmp(r->errmsg, "late:", 5) == 0) {
			log_warn(r->request_id,
			    "vault.PutCommit: not committed by its "
			    "deadline; nothing changed");
			snprintf(r->errmsg, sizeof(r->errmsg),
			    "the vault service was "
			    "unavailable; nothing was stored");
			return (MGR_EUNAVAIL);
		}
		now = mgr_now_ms();
		if (now > deadline + COMMIT_SKEW_MS + COMMIT_ASK_MS) {
			log_error(r->request_id,
			    "vault.PutCommit: outcome unknown "
			    "after %d tries",
			    tries + 1);
			snprintf(r->errmsg, sizeof(r->errmsg),
			    "the outcome of the write "
			    "is unknown (the vault service was unreachable); read the "
			    "object to find out");
			return (MGR_EINTERNAL);
		}
		if (tries++ == 0)
			log_warn(r->request_id,
			    "vault.PutCommit: no answer; asking again "
			    "until its outcome is known");
		sleep_ms(250);
	}
	if (rv == MGR_OK)
		s->committed = 1;
	return (rv);
}

void
gw_obj_put_free(struct gw_req *r, struct gw_obj_put *s)
{
	if (s == NULL)
		return;
	/* Chunks still in flight are stored or refused before the abort, which
	 * then finds them all. */
	put_wait_all(r, s);
	if (!s->committed) {
		Mgr__Vault__PutAbortRequest in = MGR__VAULT__PUT_ABORT_REQUEST__INIT;

		/* The collector would find the blob; free it now. */
		in.vault_id = s->vault_id;
		in.upload_id = s->upload_id;
		if (gw_rpc(r, gw.vault, "vault.PutAbort", &in.base, NULL, NULL) != MGR_OK)
			log_warn(r->request_id,
			    "upload %s not aborted; it is collected "
			    "later",
			    s->upload_id);
	}
	EVP_MD_CTX_free(s->sha);
	EVP_MD_CTX_free(s->md5);
	free(s->buf);
	free(s);
}

/* ---- GET ---------------------------------------------------------------- */

struct seg {
	char blob[40];
	uint32_t first, count, cs;
	int64_t size;
	int64_t off; /* of its first byte in the object */
	uint32_t g0; /* its first chunk's number in the object */
};

/* Lives as long as the MHD response, which may outlive the request. */
struct get_state {
	char request_id[40];
	char caller_id[128];
	char caller_serial[64];
	char caller_role[32];
	Mgr__Caller__Kind caller_kind;
	char vault_id[MGR_ID_MAX];
	char version[40];
	int64_t size;
	int64_t start, end; /* the bytes sent: [start, end) */
	uint32_t legacy_cs; /* no segments: the layout before v2 */
	struct seg *segs;
	size_t nsegs;
	uint32_t nchunks;
	Mgr__Vault__GetChunkReply *chunk; /* the chunk in hand */
	uint32_t chunk_index;
	/* GetChunk calls in flight for chunks next, next + 1, ... (a ring). */
	struct rpc_pending *ahead[GW_CHUNKS_IN_FLIGHT];
	int first, nahead;
	uint32_t next, last; /* the chunks of [start, end): next .. last */
};

/* The segment of chunk g (binary search). */
static const struct seg *
seg_of_chunk(const struct get_state *s, uint32_t g)
{
	size_t lo = 0, hi = s->nsegs;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (s->segs[mid].g0 <= g)
			lo = mid;
		else
			hi = mid;
	}
	return (&s->segs[lo]);
}

/* Chunk g: its first byte in the object and its length. */
static void
chunk_span(const struct get_state *s, uint32_t g, int64_t *off, int64_t *len)
{
	const struct seg *sg;
	int64_t k;

	if (s->nsegs == 0) {
		*off = (int64_t)g * s->legacy_cs;
		*len = s->size - *off < s->legacy_cs ? s->size - *off : s->legacy_cs;
		return;
	}
	sg = seg_of_chunk(s, g);
	k = g - sg->g0;
	*off = sg->off + k * sg->cs;
	*len = sg->size - k * sg->cs < sg->cs ? sg->size - k * sg->cs : sg->cs;
}

/* The chunk holding byte pos (< size). */
static uint32_t
chunk_at(const struct get_state *s, int64_t pos)
{
	size_t lo = 0, hi = s->nsegs;

	if (s->nsegs == 0)
		return ((uint32_t)(pos / s->legacy_cs));
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (s->segs[mid].off <= pos)
			lo = mid;
		else
			hi = mid;
	}
	/* Empty segments share their offset with the next: skip them. */
	while (lo + 1 < s->nsegs && s->segs[lo].size == 0)
		lo++;
	return (s->segs[lo].g0 + (uint32_t)((pos - s->segs[lo].off) / s->segs[lo].cs));
}

static mgr_err
get_prefetch(struct get_state *s)
{
	Mgr__Vault__GetChunkRequest in = MGR__VAULT__GET_CHUNK_REQUEST__INIT;
	Mgr__Caller caller = MGR__CALLER__INIT;
	struct rpc_pending *p;
	mgr_err rv;

	caller.kind = s->caller_kind;
	caller.id = s->caller_id;
	caller.cert_serial = s->caller_serial;
	caller.role = s->caller_role;
	in.vault_id = s->vault_id;
	while (
	    s->nahead < GW_CHUNKS_IN_FLIGHT && s->next + (uint32_t)s->nahead <= s->last) {
		uint32_t g = s->next + (uint32_t)s->nahead;

		if (s->nsegs == 0) {
			in.version = s->version;
			in.size = s->size;
			in.chunk_bytes = s->legacy_cs;
			in.index = g;
		} else {
			const struct seg *sg = seg_of_chunk(s, g);
			int64_t off, len;

			chunk_span(s, g, &off, &len);
			in.blob = (char *)sg->blob;
			in.chunk = sg->first + (g - sg->g0);
			in.length = (uint32_t)len;
		}
		if ((rv = rpc_call_start(gw.vault, "vault.GetChunk", s->request_id,
		         &caller, &in.base, 0, &p)) != MGR_OK)
			return (rv);
		s->ahead[(s->first + s->nahead) % GW_CHUNKS_IN_FLIGHT] = p;
		s->nahead++;
	}
	return (MGR_OK);
}

static mgr_err
get_wait_one(struct get_state *s, Mgr__Vault__GetChunkReply **out, char *msg,
    size_t msglen)
{
	struct rpc_pending *p = s->ahead[s->first];

	s->ahead[s->first] = NULL;
	s->first = (s->first + 1) % GW_CHUNKS_IN_FLIGHT;
	s->nahead--;
	s->next++;
	return (rpc_call_wait(p,
	    out != NULL ? &mgr__vault__get_chunk_reply__descriptor : NULL,
	    (ProtobufCMessage **)out, msg, msglen));
}

static void
get_drain(struct get_state *s)
{
	while (s->nahead > 0)
		get_wait_one(s, NULL, NULL, 0);
}

static ssize_t
get_read(void *cls, uint64_t rpos, char *buf, size_t max)
{
	struct get_state *s = cls;
	int64_t pos = s->start + (int64_t)rpos, coff, clen;
	uint32_t idx;
	size_t off, n;

	if (pos >= s->end)
		return (MHD_CONTENT_READER_END_OF_STREAM);
	idx = chunk_at(s, pos);
	chunk_span(s, idx, &coff, &clen);
	if (s->chunk == NULL || s->chunk_index != idx) {
		char msg[256];
		mgr_err rv;

		if (s->chunk != NULL)
			mgr__vault__get_chunk_reply__free_unpacked(s->chunk, NULL);
		s->chunk = NULL;
		msg[0] = '\0';
		if (s->next != idx || s->nahead == 0) {
			/* Not the chunk fetched ahead (MHD reads in order, so
			 * this is not expected): start over from idx. */
			get_drain(s);
			s->next = idx;
		}
		if ((rv = get_prefetch(s)) == MGR_OK)
			rv = get_wait_one(s, &s->chunk, msg, sizeof(msg));
		if (rv == MGR_OK && (int64_t)s->chunk->data.len != clen)
			rv = MGR_EINTERNAL;
		/* The next chunks are on their way while this one is sent. */
		if (rv == MGR_OK)
			rv = get_prefetch(s);
		if (rv != MGR_OK) {
			/* Headers are out: all we can do is cut the stream short. */
			log_warn(s->request_id, "object read stopped at %lld: %s (%s)",
			    (long long)pos, mgr_err_code(rv), msg);
			gw_metrics_rpc_error("vault.GetChunk", rv);
			if (s->chunk != NULL)
				mgr__vault__get_chunk_reply__free_unpacked(s->chunk,
				    NULL);
			s->chunk = NULL;
			return (MHD_CONTENT_READER_END_WITH_ERROR);
		}
		s->chunk_index = idx;
	}
	off = (size_t)(pos - coff);
	if (off >= s->chunk->data.len)
		return (MHD_CONTENT_READER_END_WITH_ERROR);
	n = s->chunk->data.len - off;
	if ((int64_t)n > s->end - pos)
		n = (size_t)(s->end - pos);
	if (n > max)
		n = max;
	memcpy(buf, s->chunk->data.data + off, n);
	return ((ssize_t)n);
}

static void
get_free(void *cls)
{
	struct get_state *s = cls;

	get_drain(s);
	if (s->chunk != NULL)
		mgr__vault__get_chunk_reply__free_unpacked(s->chunk, NULL);
	free(s->segs);
	free(s);
}

/* The read state of bytes [start, start + len) of the object h describes
 * (len > 0). */
static mgr_err
get_state_new(struct gw_req *r, const Mgr__Vault__HeadReply *h, int64_t start,
    int64_t len, struct get_state **out)
{
	const Mgr__Vault__Object *o = h->object;
	struct get_state *s;
	int64_t off = 0;
	uint32_t g = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (MGR_ENOMEM);
	snprintf(s->request_id, sizeof(s->request_id), "%s", r->request_id);
	snprintf(s->caller_id, sizeof(s->caller_id), "%s", r->caller.id);
	snprintf(s->caller_serial, sizeof(s->caller_serial), "%s", r->caller.cert_serial);
	snprintf(s->caller_role, sizeof(s->caller_role), "%s", r->caller.role);
	s->caller_kind = r->caller.kind;
	snprintf(s->vault_id, sizeof(s->vault_id), "%s", h->vault_id);
	snprintf(s->version, sizeof(s->version), "%s", o->version);
	s->size = o->size;
	s->start = start;
	s->end = start + len;
	s->legacy_cs = h->chunk_bytes > 0 && h->chunk_bytes <= RPC_CHUNK_BYTES
	    ? h->chunk_bytes
	    : RPC_CHUNK_BYTES;
	if (h->n_segments > 0 &&
	    (s->segs = calloc(h->n_segments, sizeof(*s->segs))) == NULL) {
		free(s);
		return (MGR_ENOMEM);
	}
	for (size_t i = 0; i < h->n_segments; i++) {
		const Mgr__Vault__Segment *sg = h->segments[i];
		struct seg *d = &s->segs[i];

		if (strlen(sg->blob) >= sizeof(d->blob) || sg->chunk_bytes == 0 ||
		    sg->chunk_bytes > RPC_CHUNK_BYTES || sg->size < 0 ||
		    (sg->size + sg->chunk_bytes - 1) / sg->chunk_bytes != sg->count) {
			free(s->segs);
			free(s);
			return (gw_fail(r, MGR_EINTERNAL, "bad object layout"));
		}
		snprintf(d->blob, sizeof(d->blob), "%s", sg->blob);
		d->first = sg->first;
		d->count = sg->count;
		d->cs = sg->chunk_bytes;
		d->size = sg->size;
		d->off = off;
		d->g0 = g;
		off += sg->size;
		g += sg->count;
	}
	s->nsegs = h->n_segments;
	if (s->nsegs > 0 && off != s->size) {
		free(s->segs);
		free(s);
		return (gw_fail(r, MGR_EINTERNAL, "bad object layout"));
	}
	s->nchunks = s->nsegs > 0
	    ? g
	    : (uint32_t)((s->size + s->legacy_cs - 1) / s->legacy_cs);
	s->next = chunk_at(s, start);
	s->last = chunk_at(s, s->end - 1);
	*out = s;
	return (MGR_OK);
}

mgr_err
gw_obj_body(struct gw_req *r, const Mgr__Vault__HeadReply *h, int64_t start, int64_t len,
    int fetch, struct MHD_Response **out)
{
	const Mgr__Vault__Object *o = h->object;
	struct MHD_Response *resp;
	struct get_state *s;
	mgr_err rv;

	if (len <= 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		goto done;
	}
	if (h->has_data && (int64_t)h->data.len == o->size && start + len <= o->size) {
		resp = MHD_create_response_from_buffer((size_t)len, h->data.data + start,
		    MHD_RESPMEM_MUST_COPY);
		goto done;
	}
	if ((rv = get_state_new(r, h, start, len, &s)) != MGR_OK)
		return (rv);
	/* A GET asks for the first chunks now (a failure shows in get_read,
	 * which starts over); a HEAD reads nothing. */
	if (fetch)
		get_prefetch(s);
	resp = MHD_create_response_from_callback((uint64_t)len, 64 * 1024, get_read, s,
	    get_free);
	if (resp == NULL)
		get_free(s);
done:
	if (resp == NULL)
		return (MGR_ENOMEM);
	if (!r->responded)
		r->bytes = fetch && len > 0 ? len : 0; /* for the access log */
	*out = resp;
	return (MGR_OK);
}

mgr_err
gw_obj_copy(struct gw_req *r, const Mgr__Vault__HeadReply *h, int64_t start, int64_t len,
    struct gw_obj_put *p)
{
	struct get_state *s = NULL;
	char *buf = NULL;
	int64_t pos = 0;
	ssize_t n;
	mgr_err rv;

	if (len <= 0)
		return (MGR_OK);
	if (start < 0 || start + len > h->object->size)
		return (gw_fail(r, MGR_ERANGE, "the range is not in the object"));
	if ((rv = get_state_new(r, h, start, len, &s)) != MGR_OK)
		return (rv);
	if ((buf = malloc(RPC_CHUNK_BYTES)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	get_prefetch(s);
	while (pos < len) {
		n = get_read(s, (uint64_t)pos, buf, RPC_CHUNK_BYTES);
		if (n <= 0) {
			rv = gw_fail(r, MGR_EINTERNAL,
			    "the source object could not be "
			    "read");
			goto out;
		}
		if ((rv = gw_obj_put_data(r, p, buf, (size_t)n)) != MGR_OK)
			goto out;
		pos += n;
	}
	rv = MGR_OK;
out:
	free(buf);
	get_free(s);
	return (rv);
}
