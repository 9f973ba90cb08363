/* The envelope in JSON (jansson) and XML (libxml2's text writer). */
#include "gateway/adm/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

mgr_err
adm_flavour_parse(const char *s, enum adm_flavour *out)
{
	if (strcmp(s, "json") == 0)
		*out = ADM_JSON;
	else if (strcmp(s, "xml") == 0)
		*out = ADM_XML;
	else
		return (MGR_ENOTFOUND);
	return (MGR_OK);
}

const char *
adm_content_type(enum adm_flavour fl)
{
	return (fl == ADM_XML ? "application/xml; charset=UTF-8"
	                      : "application/json; charset=UTF-8");
}

/* TEXT as a JSON string that XML can carry too: control characters (which
 * XML 1.0 cannot hold at all) become '?', and so does every non-ASCII byte
 * when TEXT is not valid UTF-8. Messages may quote what a client sent. */
static json_t *
clean_string(const char *text)
{
	char buf[512];
	size_t n = 0;
	json_t *s;

	for (; text[n] != '\0' && n < sizeof(buf) - 1; n++) {
		unsigned char c = (unsigned char)text[n];

		buf[n] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
	}
	buf[n] = '\0';
	if ((s = json_string(buf)) != NULL)
		return (s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	return (json_string(buf));
}

json_t *
adm_errors(const char *field, const char *message, const char *code)
{
	return (json_pack("{s:[{s:o, s:o, s:s}]}", "errors", "field",
	    clean_string(field != NULL ? field : ""), "message", clean_string(message),
	    "code", code));
}

static json_t *
envelope_tree(int ok, const char *request_id, int64_t now_ms, const json_t *data)
{
	const char *st = ok ? "ok" : "fail";
	json_t *d = data != NULL ? json_deep_copy(data) : json_object();

	if (d == NULL)
		return (NULL);
	return (json_pack("{s:s, s:{s:s, s:I, s:s}, s:o}", "responseStatus", st,
	    "responseHeader", "status", st, "now", (json_int_t)now_ms, "requestId",
	    request_id, "responseData", d));
}

/* An XML name of our own keys: letters, digits, '_', '-', '.', not starting
 * with a digit, '-' or '.'. */
static int
xml_name_ok(const char *s)
{
	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '.')
		return (0);
	return (strspn(s,
	            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	            "0123456789_-.") == strlen(s));
}

/* The element name of an array's items: "errors" → "error", "ids" → "id",
 * anything else → "item". */
static void
item_name(const char *key, char *out, size_t outlen)
{
	size_t n = strlen(key);

	if (n > 1 && n < outlen && key[n - 1] == 's') {
		memcpy(out, key, n - 1);
		out[n - 1] = '\0';
	} else {
		snprintf(out, outlen, "item");
	}
}

#define XML_DEPTH_MAX 8

/* Text XML 1.0 can hold: C0 controls but tab, LF and CR become '?'. */
static int
xml_text(xmlTextWriterPtr w, const char *s)
{
	size_t n = strlen(s);
	char *t;
	int rc;

	if (strcspn(s,
	        "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10"
	        "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f") == n)
		return (xmlTextWriterWriteString(w, BAD_CAST s));
	if ((t = malloc(n + 1)) == NULL)
		return (-1);
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		t[i] = (char)(c != 0 && c < 0x20 && c != '\t' && c != '\n' && c != '\r'
		        ? '?'
		        : c);
	}
	rc = xmlTextWriterWriteString(w, BAD_CAST t);
	free(t);
	return (rc);
}

static int
xml_value(xmlTextWriterPtr w, const char *name, const json_t *v, int depth)
{
	char buf[64], item[64];
	const char *k;
	json_t *e;
	size_t i;

	if (depth > XML_DEPTH_MAX || !xml_name_ok(name) ||
	    xmlTextWriterStartElement(w, BAD_CAST name) < 0)
		return (-1);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k,
		    e) if (xml_value(w, k, e, depth + 1) < 0) return (-1);
		break;
	case JSON_ARRAY:
		item_name(name, item, sizeof(item));
		json_array_foreach(v, i,
		    e) if (xml_value(w, item, e, depth + 1) < 0) return (-1);
		break;
	case JSON_STRING:
		if (xml_text(w, json_string_value(v)) < 0)
			return (-1);
		break;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		if (xmlTextWriterWriteString(w, BAD_CAST buf) < 0)
			return (-1);
		break;
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		if (xmlTextWriterWriteString(w, BAD_CAST buf) < 0)
			return (-1);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		if (xmlTextWriterWriteString(w,
		        BAD_CAST(json_is_true(v) ? "true" : "false")) < 0)
			return (-1);
		break;
	case JSON_NULL:
		break; /* an empty element */
	}
	return (xmlTextWriterEndElement(w) < 0 ? -1 : 0);
}

static mgr_err
to_xml(const json_t *tree, char **out, size_t *len)
{
	xmlBufferPtr buf = NULL;
	xmlTextWriterPtr w = NULL;
	const char *k;
	json_t *e;
	mgr_err rv = MGR_EINVAL;

	if ((buf = xmlBufferCreate()) == NULL ||
	    (w = xmlNewTextWriterMemory(buf, 0)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "response") < 0)
		goto out;
	json_object_foreach((json_t *)tree, k, e) if (xml_value(w, k, e, 0) < 0) goto out;
	if (xmlTextWriterEndDocument(w) < 0)
		goto out;
	xmlFreeTextWriter(w); /* flushes into buf */
	w = NULL;
	*len = (size_t)xmlBufferLength(buf);
	if ((*out = malloc(*len + 1)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	memcpy(*out, xmlBufferContent(buf), *len);
	(*out)[*len] = '\0';
	rv = MGR_OK;
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (buf != NULL)
		xmlBufferFree(buf);
	return (rv);
}

mgr_err
adm_envelope(enum adm_flavour fl, int ok, const char *request_id, int64_t now_ms,
    const json_t *data, char **out, size_t *len)
{
	json_t *tree;
	mgr_err rv = MGR_OK;

	if (data != NULL && !json_is_object(data))
		return (MGR_EINVAL);
	if ((tree = envelope_tree(ok, request_id, now_ms, data)) == NULL)
		return (MGR_ENOMEM);
	if (fl == ADM_XML) {
		rv = to_xml(tree, out, len);
	} else if ((*out = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		rv = MGR_ENOMEM;
	} else {
		*len = strlen(*out);
	}
	json_decref(tree);
	return (rv);
}
