/* aws-chunked request bodies (gateway/s3/wire.h). Chunk signatures are not
 * checked: AWS signatures are no credential here (API.md), the TLS client
 * certificate is; the data is checked by the trailing checksum instead. */
#include "gateway/s3/wire.h"

#include <string.h>
#include <strings.h>

enum {
	CK_SIZE = 0, /* reading a size line */
	CK_DATA,     /* reading chunk data */
	CK_DATA_CR,  /* the CR after chunk data */
	CK_DATA_LF,  /* the LF after chunk data */
	CK_TRAILER,  /* reading trailer lines after the last chunk */
	CK_DONE,     /* the empty line after the trailers came */
};

void
s3_chunked_init(struct s3_chunked *c, uint64_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/* "hex[;ext]" → the chunk size. */
static mgr_err
size_line(struct s3_chunked *c)
{
	uint64_t n = 0;
	size_t i = 0;
	int digits = 0, h;

	while (i < c->linelen && (h = hexval(c->line[i])) >= 0) {
		if (++digits > 15)
			return (MGR_EINVAL);
		n = n * 16 + (uint64_t)h;
		i++;
	}
	if (digits == 0 || (i < c->linelen && c->line[i] != ';'))
		return (MGR_EINVAL);
	if (n > c->max - c->decoded)
		return (MGR_ETOOBIG);
	c->remain = n;
	c->state = n == 0 ? CK_TRAILER : CK_DATA;
	return (MGR_OK);
}

/* "name:value" (value trimmed of spaces) of a trailer. */
static mgr_err
trailer_line(struct s3_chunked *c)
{
	const char *colon = memchr(c->line, ':', c->linelen);
	size_t nl, vl, vs;

	if (colon == NULL)
		return (MGR_EINVAL);
	nl = (size_t)(colon - c->line);
	vs = nl + 1;
	while (vs < c->linelen && (c->line[vs] == ' ' || c->line[vs] == '\t'))
		vs++;
	vl = c->linelen - vs;
	while (vl > 0 && (c->line[vs + vl - 1] == ' ' || c->line[vs + vl - 1] == '\t'))
		vl--;
	if (nl == 0 || nl >= S3_TRAILER_NAME_MAX || vl >= S3_TRAILER_VALUE_MAX ||
	    c->ntrailers >= S3_TRAILERS_MAX)
		return (MGR_EINVAL);
	memcpy(c->tname[c->ntrailers], c->line, nl);
	c->tname[c->ntrailers][nl] = '\0';
	memcpy(c->tvalue[c->ntrailers], c->line + vs, vl);
	c->tvalue[c->ntrailers][vl] = '\0';
	c->ntrailers++;
	return (MGR_OK);
}

mgr_err
s3_chunked_feed(struct s3_chunked *c, const char *data, size_t len, s3_sink sink,
    void *arg)
{
	mgr_err rv;

	while (len > 0) {
		switch (c->state) {
		case CK_SIZE:
		case CK_TRAILER: {
			char ch = *data++;

			len--;
			if (ch == '\n') {
				if (c->linelen == 0 || c->line[c->linelen - 1] != '\r')
					return (MGR_EINVAL);
				c->linelen--;
				if (c->state == CK_SIZE)
					rv = size_line(c);
				else if (c->linelen == 0) {
					c->state = CK_DONE;
					rv = MGR_OK;
				} else
					rv = trailer_line(c);
				c->linelen = 0;
				if (rv != MGR_OK)
					return (rv);
				continue;
			}
			if (c->linelen >= sizeof(c->line) - 1 ||
			    (ch == '\r' && c->linelen > 0 &&
			        c->line[c->linelen - 1] == '\r') ||
			    (c->linelen > 0 && c->line[c->linelen - 1] == '\r'))
				return (MGR_EINVAL); /* too long, or a CR not before LF */
			c->line[c->linelen++] = ch;
			continue;
		}
		case CK_DATA: {
			size_t n = len < c->remain ? len : (size_t)c->remain;

			if ((rv = sink(arg, data, n)) != MGR_OK)
				return (rv);
			data += n;
			len -= n;
			c->remain -= n;
			c->decoded += n;
			if (c->remain == 0)
				c->state = CK_DATA_CR;
			continue;
		}
		case CK_DATA_CR:
			if (*data != '\r')
				return (MGR_EINVAL);
			data++;
			len--;
			c->state = CK_DATA_LF;
			continue;
		case CK_DATA_LF:
			if (*data != '\n')
				return (MGR_EINVAL);
			data++;
			len--;
			c->state = CK_SIZE;
			continue;
		default: /* CK_DONE: nothing may follow */
			return (MGR_EINVAL);
		}
	}
	return (MGR_OK);
}

mgr_err
s3_chunked_finish(const struct s3_chunked *c)
{
	/* Some encoders end after the trailers without the empty line. */
	if (c->state == CK_DONE ||
	    (c->state == CK_TRAILER && c->linelen == 0 && c->ntrailers > 0))
		return (MGR_OK);
	return (MGR_EINVAL);
}

const char *
s3_chunked_trailer(const struct s3_chunked *c, const char *name)
{
	for (int i = 0; i < c->ntrailers; i++)
		if (strcasecmp(c->tname[i], name) == 0)
			return (c->tvalue[i]);
	return (NULL);
}
