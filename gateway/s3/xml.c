/* S3 XML with libxml2 (gateway/s3/wire.h): responses through its text
 * writer, request bodies through its parser with the network off, no
 * entity substitution, no DTD accepted at all, and size and depth bounded. */
#include "gateway/s3/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "common/util.h"

struct s3_xml {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	int failed;
};

mgr_err
s3_xml_new(struct s3_xml **out, const char *root)
{
	struct s3_xml *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (MGR_ENOMEM);
	if ((x->buf = xmlBufferCreate()) == NULL ||
	    (x->w = xmlNewTextWriterMemory(x->buf, 0)) == NULL ||
	    xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(x->w, BAD_CAST root) < 0 ||
	    xmlTextWriterWriteAttribute(x->w, BAD_CAST "xmlns", BAD_CAST S3_XMLNS) < 0) {
		s3_xml_free(x);
		return (MGR_ENOMEM);
	}
	*out = x;
	return (MGR_OK);
}

void
s3_xml_open(struct s3_xml *x, const char *name)
{
	if (xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

void
s3_xml_close(struct s3_xml *x)
{
	if (xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

void
s3_xml_text(struct s3_xml *x, const char *name, const char *text, size_t len)
{
	char *t;

	if (len == (size_t)-1)
		len = strlen(text);
	if ((t = strndup(text, len)) == NULL) {
		x->failed = 1;
		return;
	}
	if (xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST t) < 0)
		x->failed = 1;
	free(t);
}

void
s3_xml_printf(struct s3_xml *x, const char *name, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s3_xml_text(x, name, text, (size_t)-1);
}

void
s3_xml_free(struct s3_xml *x)
{
	if (x == NULL)
		return;
	if (x->w != NULL)
		xmlFreeTextWriter(x->w);
	if (x->buf != NULL)
		xmlBufferFree(x->buf);
	free(x);
}

mgr_err
s3_xml_finish(struct s3_xml *x, char **out, size_t *len)
{
	const xmlChar *c;
	size_t n;
	char *s;
	mgr_err rv = MGR_ENOMEM;

	if (x->failed || xmlTextWriterEndDocument(x->w) < 0 ||
	    xmlTextWriterFlush(x->w) < 0)
		goto out;
	c = xmlBufferContent(x->buf);
	n = (size_t)xmlBufferLength(x->buf);
	if (c == NULL || (s = malloc(n + 1)) == NULL)
		goto out;
	memcpy(s, c, n);
	s[n] = '\0';
	*out = s;
	*len = n;
	rv = MGR_OK;
out:
	s3_xml_free(x);
	return (rv);
}

mgr_err
s3_xml_error(const char *code, const char *message, const char *resource,
    const char *request_id, char **out, size_t *len)
{
	struct s3_xml *x = NULL;
	xmlBufferPtr buf = NULL;
	mgr_err rv;

	(void)buf;
	/* <Error> carries no namespace in S3's answers. */
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (MGR_ENOMEM);
	if ((x->buf = xmlBufferCreate()) == NULL ||
	    (x->w = xmlNewTextWriterMemory(x->buf, 0)) == NULL ||
	    xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(x->w, BAD_CAST "Error") < 0) {
		s3_xml_free(x);
		return (MGR_ENOMEM);
	}
	s3_xml_text(x, "Code", code, (size_t)-1);
	s3_xml_text(x, "Message", message, (size_t)-1);
	if (resource != NULL)
		s3_xml_text(x, "Resource", resource, (size_t)-1);
	s3_xml_text(x, "RequestId", request_id, (size_t)-1);
	rv = s3_xml_finish(x, out, len);
	return (rv);
}

/* ---- parsing ------------------------------------------------------------ */

static int
depth_ok(xmlNodePtr n, int depth)
{
	if (depth > S3_XML_DEPTH_MAX)
		return (0);
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !depth_ok(c, depth + 1))
			return (0);
	return (1);
}

/* Parses a request body; *root is its root element, named root. */
static mgr_err
parse(const char *data, size_t len, const char *root, xmlDocPtr *doc, xmlNodePtr *out)
{
	xmlDocPtr d;
	xmlNodePtr r;

	if (len == 0 || len > S3_XML_IN_MAX)
		return (MGR_EINVAL);
	/* No DTD, so no entity can be declared, let alone expanded; a
	 * document type is no part of any S3 request body. */
	if (memmem(data, len, "<!", 2) != NULL)
		return (MGR_EINVAL);
	d = xmlReadMemory(data, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	        XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA);
	if (d == NULL)
		return (MGR_EINVAL);
	r = xmlDocGetRootElement(d);
	if (r == NULL || d->intSubset != NULL ||
	    strcmp((const char *)r->name, root) != 0 || !depth_ok(r, 1)) {
		xmlFreeDoc(d);
		return (MGR_EINVAL);
	}
	*doc = d;
	*out = r;
	return (MGR_OK);
}

/* The text of an element (its text children), bounded; 0 when too long. */
static int
text_of(xmlNodePtr n, char *out, size_t outlen, size_t *olen)
{
	size_t len = 0;

	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		size_t l;

		if (c->type != XML_TEXT_NODE)
			continue;
		l = strlen((const char *)c->content);
		if (l >= outlen - len)
			return (0);
		memcpy(out + len, c->content, l);
		len += l;
	}
	out[len] = '\0';
	if (olen != NULL)
		*olen = len;
	return (1);
}

static int
is(xmlNodePtr n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0);
}

mgr_err
s3_xml_parse_complete(const char *data, size_t len, struct s3_part_ref **parts, size_t *n)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	struct s3_part_ref *p = NULL;
	size_t np = 0;
	mgr_err rv;

	if ((rv = parse(data, len, "CompleteMultipartUpload", &doc, &root)) != MGR_OK)
		return (rv);
	rv = MGR_EINVAL;
	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		char num[16], etag[sizeof(p->etag) + 2];
		int have_num = 0, have_etag = 0;
		size_t el = 0;
		int64_t v;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is(c, "Part") || np >= S3_PARTS_MAX)
			goto out;
		for (xmlNodePtr f = c->children; f != NULL; f = f->next) {
			if (is(f, "PartNumber")) {
				if (!text_of(f, num, sizeof(num), NULL))
					goto out;
				have_num = 1;
			} else if (is(f, "ETag")) {
				if (!text_of(f, etag, sizeof(etag), &el))
					goto out;
				have_etag = 1;
			}
			/* Checksum* members are accepted and not needed:
			 * each part's checksum was checked when it came. */
		}
		if (!have_num || !have_etag || mgr_parse_i64(num, &v) != MGR_OK ||
		    v < 1 || v > S3_PARTS_MAX)
			goto out;
		if (np == 0 && (p = calloc(S3_PARTS_MAX, sizeof(*p))) == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
		p[np].number = (uint32_t)v;
		/* The ETag as the client quotes it, or not: "…", &quot;…&quot;. */
		{
			const char *e = etag;

			if (el >= 2 && e[0] == '"' && e[el - 1] == '"') {
				e++;
				el -= 2;
			}
			if (el >= sizeof(p->etag))
				goto out;
			memcpy(p[np].etag, e, el);
			p[np].etag[el] = '\0';
		}
		np++;
	}
	if (np == 0)
		goto out;
	*parts = p;
	*n = np;
	p = NULL;
	rv = MGR_OK;
out:
	free(p);
	xmlFreeDoc(doc);
	return (rv);
}

void
s3_keys_free(char **keys, size_t *keylens, size_t n)
{
	for (size_t i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
	free(keylens);
}

mgr_err
s3_xml_parse_delete(const char *data, size_t len, char ***keys, size_t **keylens,
    size_t *n, int *quiet)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	char **k = NULL, buf[8];
	size_t *kl = NULL, nk = 0;
	int q = 0;
	mgr_err rv;

	if ((rv = parse(data, len, "Delete", &doc, &root)) != MGR_OK)
		return (rv);
	rv = MGR_EINVAL;
	if ((k = calloc(S3_DELETE_MAX, sizeof(*k))) == NULL ||
	    (kl = calloc(S3_DELETE_MAX, sizeof(*kl))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "Quiet")) {
			if (!text_of(c, buf, sizeof(buf), NULL))
				goto out;
			if (strcmp(buf, "true") == 0)
				q = 1;
			else if (strcmp(buf, "false") != 0)
				goto out;
			continue;
		}
		if (!is(c, "Object") || nk >= S3_DELETE_MAX)
			goto out;
		for (xmlNodePtr f = c->children; f != NULL; f = f->next) {
			if (!is(f, "Key"))
				continue;
			if (k[nk] != NULL || (k[nk] = malloc(S3_KEY_MAX + 1)) == NULL ||
			    !text_of(f, k[nk], S3_KEY_MAX + 1, &kl[nk]))
				goto out;
		}
		if (k[nk] == NULL)
			goto out;
		nk++;
	}
	if (nk == 0)
		goto out;
	*keys = k;
	*keylens = kl;
	*n = nk;
	*quiet = q;
	k = NULL;
	kl = NULL;
	rv = MGR_OK;
out:
	s3_keys_free(k, kl, S3_DELETE_MAX);
	xmlFreeDoc(doc);
	return (rv);
}

mgr_err
s3_xml_parse_location(const char *data, size_t len, char *out, size_t outlen)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	mgr_err rv;

	out[0] = '\0';
	if (len == 0)
		return (MGR_OK);
	if ((rv = parse(data, len, "CreateBucketConfiguration", &doc, &root)) != MGR_OK)
		return (rv);
	for (xmlNodePtr c = root->children; c != NULL; c = c->next)
		if (is(c, "LocationConstraint") && !text_of(c, out, outlen, NULL)) {
			rv = MGR_EINVAL;
			break;
		}
	xmlFreeDoc(doc);
	return (rv);
}
