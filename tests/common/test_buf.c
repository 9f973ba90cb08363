/* common/buf.c: the bounded buffer. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/lib/check.h"

/* Adds pieces of the given sizes to a buffer of max bytes; the results. */
static void
test_add(void)
{
	static const struct {
		size_t max;
		size_t pieces[4]; /* 0 ends, but for a first 0: an empty add */
		int npieces;
		mgr_err last; /* the last add's result */
		size_t len;   /* the length after */
		const char *what;
	} cases[] = {
	    {16, {0}, 1, MGR_OK, 0, "an empty add"},
	    {16, {16}, 1, MGR_OK, 16, "exactly max"},
	    {16, {17}, 1, MGR_ETOOBIG, 0, "one past max"},
	    {16, {10, 6}, 2, MGR_OK, 16, "two pieces up to max"},
	    {16, {10, 7}, 2, MGR_ETOOBIG, 10, "the second past max keeps the first"},
	    {1000, {300, 300, 300}, 3, MGR_OK, 900, "growth past the first block"},
	    {0, {1}, 1, MGR_ETOOBIG, 0, "max 0"},
	    /* max + 1 wrapped to 0 and capped the allocation at nothing. */
	    {(size_t)-1, {1}, 1, MGR_OK, 1, "max SIZE_MAX: no wrap of max + 1"},
	};
	char src[1024];

	memset(src, 'x', sizeof(src));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mgr_buf b;
		mgr_err rv = MGR_OK;

		mgr_buf_init(&b, cases[i].max);
		for (int k = 0; k < cases[i].npieces; k++)
			rv = mgr_buf_add(&b, src, cases[i].pieces[k]);
		CHECK(rv == cases[i].last, "%s: result %d", cases[i].what, (int)rv);
		CHECK(b.len == cases[i].len, "%s: length %zu", cases[i].what, b.len);
		CHECK(b.data == NULL || b.data[b.len] == '\0', "%s: NUL-terminated",
		    cases[i].what);
		CHECK(b.data == NULL || b.cap <= cases[i].max + 1 ||
		        cases[i].max == (size_t)-1,
		    "%s: capacity %zu over max + 1", cases[i].what, b.cap);
		mgr_buf_free(&b);
	}
}

static void
test_printf(void)
{
	static const struct {
		size_t max;
		size_t width; /* %*s of this many spaces */
		mgr_err rv;
		const char *what;
	} cases[] = {
	    {64, 10, MGR_OK, "short"},
	    {64, 64, MGR_OK, "exactly max"},
	    {64, 65, MGR_ETOOBIG, "past max"},
	    {4096, 2000, MGR_OK, "past the stack buffer"},
	    {1000, 2000, MGR_ETOOBIG, "past the stack buffer and max"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mgr_buf b;
		mgr_err rv;

		mgr_buf_init(&b, cases[i].max);
		rv = mgr_buf_printf(&b, "%*s", (int)cases[i].width, "");
		CHECK(rv == cases[i].rv, "%s: result %d", cases[i].what, (int)rv);
		CHECK(rv != MGR_OK || b.len == cases[i].width, "%s: length %zu",
		    cases[i].what, b.len);
		mgr_buf_free(&b);
	}
}

static void
test_reset_take(void)
{
	struct mgr_buf b;
	size_t len = 0;
	char *s;

	mgr_buf_init(&b, 64);
	mgr_buf_reset(&b); /* before any storage */
	CHECK(b.len == 0, "reset of an empty buffer");
	CHECK(mgr_buf_add(&b, "hello", 5) == MGR_OK, "add");
	mgr_buf_reset(&b);
	CHECK(b.len == 0 && b.data != NULL && b.data[0] == '\0', "reset keeps storage");
	CHECK(mgr_buf_printf(&b, "%s-%d", "a", 7) == MGR_OK, "printf");
	s = mgr_buf_take(&b, &len);
	CHECK(s != NULL && strcmp(s, "a-7") == 0 && len == 3, "take: \"%s\" %zu",
	    s != NULL ? s : "(null)", len);
	CHECK(b.data == NULL && b.len == 0, "empty after take");
	CHECK(mgr_buf_add(&b, "again", 5) == MGR_OK && b.len == 5, "usable after take");
	free(s);
	mgr_buf_free(&b);
	mgr_buf_free(&b); /* twice is fine */
}

int
main(void)
{
	test_add();
	test_printf();
	test_reset_take();
	return (fails != 0);
}
