/* gateway/adm/envelope.c: IBM's JSON and XML envelopes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "gateway/adm/envelope.h"
#include "tests/lib/check.h"

/* The text of XPath EXPR in the document, or NULL (caller frees). */
static char *
xpath(const char *doc, const char *expr)
{
	xmlDocPtr d = xmlReadMemory(doc, (int)strlen(doc), "r.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR);
	xmlXPathContextPtr c = d != NULL ? xmlXPathNewContext(d) : NULL;
	xmlXPathObjectPtr o = c != NULL ? xmlXPathEvalExpression(BAD_CAST expr, c) : NULL;
	char *s = NULL;

	if (o != NULL && o->nodesetval != NULL && o->nodesetval->nodeNr > 0) {
		xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);

		s = strdup((const char *)t);
		xmlFree(t);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(c);
	xmlFreeDoc(d);
	return (s);
}

int
main(void)
{
	enum adm_flavour fl;
	json_t *data, *got;
	char *body = NULL, *s;
	size_t len = 0;
	const char *pem =
	    "-----BEGIN CERTIFICATE-----\nMII<&>\"'\n-----END CERTIFICATE-----\n";

	CHECK(adm_flavour_parse("json", &fl) == MGR_OK && fl == ADM_JSON, "json");
	CHECK(adm_flavour_parse("xml", &fl) == MGR_OK && fl == ADM_XML, "xml");
	CHECK(adm_flavour_parse("yaml", &fl) == MGR_ENOTFOUND, "yaml");

	/* JSON success: IBM's fields, responseData as given. */
	data = json_pack("{s:s, s:I}", "certificate", pem, "id", (json_int_t)124);
	CHECK(adm_envelope(ADM_JSON, 1, "req_1", 1700000000123LL, data, &body, &len) ==
	        MGR_OK,
	    "json envelope");
	got = json_loads(body, 0, NULL);
	CHECK(got != NULL && len == strlen(body), "valid JSON of its length");
	CHECK(strcmp(json_string_value(json_object_get(got, "responseStatus")), "ok") ==
	        0,
	    "responseStatus ok");
	CHECK(json_integer_value(json_object_get(json_object_get(got, "responseHeader"),
	          "now")) == 1700000000123LL,
	    "now in ms");
	CHECK(strcmp(json_string_value(
	                 json_object_get(json_object_get(got, "responseHeader"),
	                     "requestId")),
	          "req_1") == 0,
	    "requestId");
	CHECK(strcmp(json_string_value(
	                 json_object_get(json_object_get(got, "responseData"),
	                     "certificate")),
	          pem) == 0,
	    "certificate");
	json_decref(got);
	free(body);

	/* XML success: the same tree, escaped by the writer. */
	CHECK(adm_envelope(ADM_XML, 1, "req_1", 1700000000123LL, data, &body, &len) ==
	        MGR_OK,
	    "xml envelope");
	s = xpath(body, "/response/responseStatus");
	CHECK(s != NULL && strcmp(s, "ok") == 0, "xml responseStatus");
	free(s);
	s = xpath(body, "/response/responseHeader/now");
	CHECK(s != NULL && strcmp(s, "1700000000123") == 0, "xml now");
	free(s);
	s = xpath(body, "/response/responseData/certificate");
	CHECK(s != NULL && strcmp(s, pem) == 0, "xml certificate byte for byte");
	free(s);
	s = xpath(body, "/response/responseData/id");
	CHECK(s != NULL && strcmp(s, "124") == 0, "xml id");
	free(s);
	free(body);
	json_decref(data);

	/* Failure: errors[] with field, message, code; <errors><error>. */
	data = adm_errors("csr", "not a PEM CSR", "invalid_argument");
	CHECK(adm_envelope(ADM_JSON, 0, "req_2", 1, data, &body, &len) == MGR_OK,
	    "json failure");
	got = json_loads(body, 0, NULL);
	CHECK(strcmp(json_string_value(json_object_get(got, "responseStatus")), "fail") ==
	        0,
	    "responseStatus fail");
	CHECK(strcmp(json_string_value(
	                 json_object_get(json_object_get(got, "responseHeader"),
	                     "status")),
	          "fail") == 0,
	    "header status fail");
	CHECK(strcmp(json_string_value(
	                 json_object_get(json_array_get(json_object_get(json_object_get(got,
	                                                                    "responseData"),
	                                                    "errors"),
	                                     0),
	                     "field")),
	          "csr") == 0,
	    "errors[0].field");
	json_decref(got);
	free(body);
	CHECK(adm_envelope(ADM_XML, 0, "req_2", 1, data, &body, &len) == MGR_OK,
	    "xml failure");
	s = xpath(body, "/response/responseData/errors/error/code");
	CHECK(s != NULL && strcmp(s, "invalid_argument") == 0, "xml error code");
	free(s);
	free(body);
	json_decref(data);

	/* null, booleans, nested objects; a key XML cannot name is refused. */
	data = json_pack("{s:n, s:b, s:{s:i}}", "registeredAt", "renewed", 1, "inner",
	    "x", 3);
	CHECK(adm_envelope(ADM_XML, 1, "r", 1, data, &body, &len) == MGR_OK, "xml mix");
	s = xpath(body, "/response/responseData/renewed");
	CHECK(s != NULL && strcmp(s, "true") == 0, "boolean");
	free(s);
	s = xpath(body, "/response/responseData/inner/x");
	CHECK(s != NULL && strcmp(s, "3") == 0, "nested");
	free(s);
	free(body);
	json_decref(data);
	data = json_pack("{s:s}", "bad name", "x");
	CHECK(adm_envelope(ADM_XML, 1, "r", 1, data, &body, &len) == MGR_EINVAL,
	    "a key that is no XML name");
	json_decref(data);
	CHECK(adm_envelope(ADM_JSON, 1, "r", 1, NULL, &body, &len) == MGR_OK, "no data");
	CHECK(strstr(body, "\"responseData\":{}") != NULL, "empty responseData: %s",
	    body);
	free(body);
	if (fails == 0)
		printf("ok\n");
	return (fails != 0);
}
