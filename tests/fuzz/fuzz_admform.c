/* Fuzz target: the `.adm` front's form decoder (gateway/adm/form.c) and
 * its failure envelope (gateway/adm/envelope.c), which quotes parameter
 * names back. The input is a form body as a client sends it. */
#include <string.h>

#include <libxml/parser.h>

#include "gateway/adm/envelope.h"
#include "gateway/adm/form.h"
#include "tests/fuzz/fuzz.h"

/* Every answer must be well-formed JSON and well-formed XML. */
static void
check_envelopes(const char *field, const char *message)
{
	json_t *data = adm_errors(field, message, "invalid_argument");
	char *body = NULL;
	size_t len = 0;

	FUZZ_CHECK(data != NULL);
	FUZZ_CHECK(adm_envelope(ADM_JSON, 0, "req_x", 1, data, &body, &len) == MGR_OK);
	{
		json_t *back = json_loads(body, 0, NULL);

		FUZZ_CHECK(back != NULL);
		json_decref(back);
	}
	free(body);
	FUZZ_CHECK(adm_envelope(ADM_XML, 0, "req_x", 1, data, &body, &len) == MGR_OK);
	{
		xmlDocPtr d = xmlReadMemory(body, (int)len, "r.xml", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

		FUZZ_CHECK(d != NULL);
		xmlFreeDoc(d);
	}
	free(body);
	json_decref(data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct adm_form f;
	char err[256], msg[320];
	const char *v;
	mgr_err rv;

	if (size > ADM_FORM_MAX)
		return (0);
	adm_form_init(&f);
	err[0] = '\0';
	rv = adm_form_parse(&f, (const char *)data, size, err, sizeof(err));
	FUZZ_CHECK(rv == MGR_OK || rv == MGR_EINVAL);
	FUZZ_CHECK(f.n >= 0 && f.n <= ADM_PARAMS_MAX);
	if (rv != MGR_OK)
		check_envelopes("", err);
	for (int i = 0; i < f.n; i++) {
		size_t kl = strlen(f.p[i].key);

		/* Decoded, NUL-free (the length is the string's), bounded. */
		FUZZ_CHECK(kl >= 1 && kl <= ADM_KEY_MAX);
		FUZZ_CHECK(f.p[i].value != NULL && strlen(f.p[i].value) == f.p[i].len);
		FUZZ_CHECK(f.p[i].len <= size);
		rv = adm_form_one(&f, f.p[i].key, &v);
		FUZZ_CHECK((rv == MGR_OK && v != NULL) || rv == MGR_EINVAL);
		snprintf(msg, sizeof(msg), "unknown parameter \"%s\"", f.p[i].key);
		check_envelopes(f.p[i].key, msg);
	}
	adm_form_free(&f);
	return (0);
}
