/* common/log.c: the JSON escaper, the level and format names, and records in
 * both formats read back from stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/log.h"
#include "tests/lib/check.h"

static void
test_escape(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
	    {"plain", 5, "plain"},
	    {"", 0, ""},
	    {"a\"b\\c", 5, "a\\\"b\\\\c"},
	    {"l1\nl2\r\t", 7, "l1\\nl2\\r\\t"},
	    {"\x01\x1f\x7f", 3, "\\u0001\\u001f\x7f"},
	    {"nul\0in", 6, "nul\\u0000in"},
	    {"caf\xc3\xa9", 5, "caf\xc3\xa9"},
	    {"\xe2\x82\xac\xf0\x9f\x98\x80", 7, "\xe2\x82\xac\xf0\x9f\x98\x80"},
	    {"\xff", 1, "\\ufffd"},
	    {"\xc3", 1, "\\ufffd"},                                  /* cut sequence */
	    {"\xc0\xaf", 2, "\\ufffd\\ufffd"},                       /* overlong '/' */
	    {"\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd"},            /* overlong */
	    {"\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"},            /* surrogate */
	    {"\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* > U+10FFFF */
	    {"\xe2\x82", 2, "\\ufffd\\ufffd"},
	    {"ok\xe2\x82x", 5, "ok\\ufffd\\ufffdx"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mgr_buf b;

		mgr_buf_init(&b, 1024);
		CHECK(mgr_log_json_escape(&b, cases[i].in, cases[i].len) == 0, "case %zu",
		    i);
		CHECK(b.data != NULL || cases[i].out[0] == '\0', "case %zu: empty", i);
		CHECK(strcmp(b.data != NULL ? b.data : "", cases[i].out) == 0,
		    "case %zu: got '%s', want '%s'", i, b.data != NULL ? b.data : "",
		    cases[i].out);
		mgr_buf_free(&b);
	}
	/* Every byte value at once: the result is a valid JSON string. */
	{
		char all[256], *doc;
		struct mgr_buf b;
		json_t *j;

		for (int i = 0; i < 256; i++)
			all[i] = (char)i;
		mgr_buf_init(&b, 1 << 16);
		mgr_buf_add(&b, "[\"", 2);
		CHECK(mgr_log_json_escape(&b, all, sizeof(all)) == 0, "all bytes");
		mgr_buf_add(&b, "\"]", 2);
		doc = b.data;
		j = json_loads(doc, JSON_ALLOW_NUL, NULL);
		CHECK(j != NULL, "all bytes: valid JSON");
		json_decref(j);
		mgr_buf_free(&b);
	}
	/* The buffer's max is honoured. */
	{
		struct mgr_buf b;

		mgr_buf_init(&b, 4);
		CHECK(mgr_log_json_escape(&b, "\"\"\"", 3) == -1, "past max refused");
		mgr_buf_free(&b);
	}
}

static void
test_names(void)
{
	CHECK(mgr_log_level_parse("error") == MGR_LOG_ERROR, "error");
	CHECK(mgr_log_level_parse("debug") == MGR_LOG_DEBUG, "debug");
	CHECK(mgr_log_level_parse(NULL) == MGR_LOG_INFO, "unset: info");
	CHECK(mgr_log_level_parse("") == MGR_LOG_INFO, "empty: info");
	CHECK(mgr_log_level_parse("verbose") == -1, "unknown level refused");
	CHECK(mgr_log_level_parse("INFO") == -1, "names are lower case");
	CHECK(mgr_log_level_parse("info ") == -1, "no trailing space");
	CHECK(mgr_log_format_parse("json") == MGR_LOG_JSON, "json");
	CHECK(mgr_log_format_parse("text") == MGR_LOG_TEXT, "text");
	CHECK(mgr_log_format_parse(NULL) == MGR_LOG_TEXT, "unset: text");
	CHECK(mgr_log_format_parse("logfmt") == -1, "unknown format refused");
}

/* Runs the records through stderr into a file and returns its text. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	static char text[65536];
	ssize_t n;

	if (fd < 0 || saved < 0)
		return (NULL);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	text[n > 0 ? n : 0] = '\0';
	return (text);
}

static void
emit(void)
{
	static const struct mgr_log_field f[] = {
	    MGR_LF_S("route", "/api/v1/vaults/{name}"),
	    MGR_LF_I("status", 201),
	    MGR_LF_D("duration_ms", 1.5),
	    MGR_LF_S("left_out", NULL),
	    MGR_LF_S("odd", "a \"b\"\n\xff"),
	};

	mgr_log(MGR_LOG_INFO, "rid-1", "hello \"world\"\n%s", "second line");
	mgr_log(MGR_LOG_DEBUG, NULL, "not shown at info");
	mgr_log_fields(MGR_LOG_WARN, NULL, f, sizeof(f) / sizeof(f[0]), "with fields");
}

static void
test_records(void)
{
	char *text, *line, *save = NULL;
	int n = 0;

	mgr_log_init("test", MGR_LOG_INFO);
	mgr_log_set(MGR_LOG_INFO, MGR_LOG_JSON);
	text = capture(emit);
	CHECK(text != NULL, "captured");
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);
		const char *t;

		n++;
		CHECK(j != NULL, "line %d is JSON: %s (%s)", n, line, err.text);
		if (j == NULL)
			continue;
		t = json_string_value(json_object_get(j, "time"));
		CHECK(t != NULL && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z',
		    "time is RFC 3339 UTC: %s", t != NULL ? t : "(none)");
		CHECK(json_is_string(json_object_get(j, "level")), "level");
		CHECK(strcmp(json_string_value(json_object_get(j, "service")), "test") ==
		        0,
		    "service");
		CHECK(json_is_string(json_object_get(j, "msg")), "msg");
		if (n == 1) {
			CHECK(strcmp(json_string_value(json_object_get(j, "msg")),
			          "hello \"world\"\nsecond line") == 0,
			    "msg kept whole");
			CHECK(strcmp(json_string_value(json_object_get(j, "request_id")),
			          "rid-1") == 0,
			    "request_id");
		} else {
			CHECK(strcmp(json_string_value(json_object_get(j, "level")),
			          "warn") == 0,
			    "warn");
			CHECK(json_object_get(j, "request_id") == NULL, "no request_id");
			CHECK(json_integer_value(json_object_get(j, "status")) == 201,
			    "status");
			CHECK(json_real_value(json_object_get(j, "duration_ms")) == 1.5,
			    "duration");
			CHECK(strcmp(json_string_value(json_object_get(j, "route")),
			          "/api/v1/vaults/{name}") == 0,
			    "route");
			CHECK(json_object_get(j, "left_out") == NULL,
			    "NULL field left out");
			CHECK(strcmp(json_string_value(json_object_get(j, "odd")),
			          "a \"b\"\n\xef\xbf\xbd") == 0,
			    "odd field escaped");
		}
		json_decref(j);
	}
	CHECK(n == 2, "two records at info, got %d", n);

	mgr_log_set(MGR_LOG_INFO, MGR_LOG_TEXT);
	text = capture(emit);
	CHECK(strstr(text, "test info [rid-1] hello \"world\" second line\n") != NULL,
	    "text record on one line: %s", text);
	CHECK(strstr(text,
	          " status=201 duration_ms=1.500 odd=\"a \\\"b\\\"\\n\\ufffd\"\n") !=
	        NULL,
	    "text fields: %s", text);
	mgr_log_set(MGR_LOG_ERROR, MGR_LOG_TEXT);
	text = capture(emit);
	CHECK(*text == '\0', "nothing at error: %s", text);
}

int
main(void)
{
	test_escape();
	test_names();
	test_records();
	return (fails != 0);
}
