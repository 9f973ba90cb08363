/* gateway/s3/xml.c: S3 documents written, request bodies parsed and bad
 * ones (malformed, huge, deep, with entities) refused. */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "gateway/s3/wire.h"
#include "tests/lib/check.h"

#define NS "xmlns=\"" S3_XMLNS "\""

static const struct {
	const char *name;
	const char *body;
	mgr_err rv;
	size_t n;
	uint32_t first, last;
	const char *first_etag;
} completes[] = {
    {"two parts, quoted ETags",
        "<CompleteMultipartUpload " NS "><Part><PartNumber>1</PartNumber>"
        "<ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part><Part><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>"
        "<PartNumber>2</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>",
        MGR_OK, 2, 1, 2, "a54357aff0632cce46d942af68356b38"},
    {"unquoted ETag, no namespace, whitespace",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload>\n  <Part>\n"
        "    <PartNumber>7</PartNumber>\n    <ETag>abc</ETag>\n  </Part>\n</CompleteMultipartUpload>",
        MGR_OK, 1, 7, 7, "abc"},
    {"no parts", "<CompleteMultipartUpload " NS "></CompleteMultipartUpload>", MGR_EINVAL,
        0, 0, 0, NULL},
    {"part number 0",
        "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"part number 10001",
        "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"part number not a number",
        "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"no ETag",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"wrong root",
        "<Delete><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Delete>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"not well-formed", "<CompleteMultipartUpload><Part>", MGR_EINVAL, 0, 0, 0, NULL},
    {"not XML", "hello", MGR_EINVAL, 0, 0, 0, NULL},
    {"empty", "", MGR_EINVAL, 0, 0, 0, NULL},
    {"a DTD with entities (billion laughs)",
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&lol2;</ETag></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"an external entity",
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><CompleteMultipartUpload><Part>"
        "<PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"an undeclared entity",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
    {"an unknown member", "<CompleteMultipartUpload><Other/></CompleteMultipartUpload>",
        MGR_EINVAL, 0, 0, 0, NULL},
};

static char *
deep(int depth)
{
	size_t cap = (size_t)depth * 8 + 128, o = 0;
	char *s = malloc(cap);

	o += (size_t)snprintf(s + o, cap - o, "<Delete>");
	for (int i = 0; i < depth; i++)
		o += (size_t)snprintf(s + o, cap - o, "<a>");
	for (int i = 0; i < depth; i++)
		o += (size_t)snprintf(s + o, cap - o, "</a>");
	snprintf(s + o, cap - o, "</Delete>");
	return (s);
}

int
main(void)
{
	struct s3_part_ref *parts = NULL;
	struct s3_xml *x = NULL;
	char **keys = NULL, loc[128], *out = NULL, *big, *d;
	size_t *kl = NULL, n = 0, len = 0;
	int quiet = 0;

	xmlInitParser();
	for (size_t i = 0; i < sizeof(completes) / sizeof(completes[0]); i++) {
		const char *b = completes[i].body;
		mgr_err rv = s3_xml_parse_complete(b, strlen(b), &parts, &n);

		CHECK(rv == completes[i].rv, "%s: %d", completes[i].name, rv);
		if (rv == MGR_OK && completes[i].rv == MGR_OK) {
			CHECK(n == completes[i].n &&
			        parts[0].number == completes[i].first &&
			        parts[n - 1].number == completes[i].last,
			    "%s: parts", completes[i].name);
			CHECK(strcmp(parts[0].etag, completes[i].first_etag) == 0,
			    "%s: etag %s", completes[i].name, parts[0].etag);
			free(parts);
		}
	}

	/* 10,000 parts pass, 10,001 do not. */
	big = malloc(S3_XML_IN_MAX + 16);
	for (int np = 10000; np <= 10001; np++) {
		size_t o = 0;

		o += (size_t)snprintf(big + o, S3_XML_IN_MAX - o,
		    "<CompleteMultipartUpload>");
		for (int i = 1; i <= np; i++)
			o += (size_t)snprintf(big + o, S3_XML_IN_MAX - o,
			    "<Part><PartNumber>%d</PartNumber><ETag>\"%032x\"</ETag></Part>",
			    i > 10000 ? 10000 : i, i);
		o += (size_t)snprintf(big + o, S3_XML_IN_MAX - o,
		    "</CompleteMultipartUpload>");
		CHECK((s3_xml_parse_complete(big, o, &parts, &n) == MGR_OK) ==
		        (np == 10000),
		    "%d parts", np);
		if (np == 10000) {
			CHECK(n == 10000 && parts[9999].number == 10000,
			    "10,000 parts read");
			free(parts);
		}
	}
	/* Over S3_XML_IN_MAX, well-formed or not. */
	memset(big, ' ', S3_XML_IN_MAX + 1);
	memcpy(big, "<Delete>", 8);
	memcpy(big + S3_XML_IN_MAX + 1 - 9, "</Delete>", 9);
	CHECK(s3_xml_parse_delete(big, S3_XML_IN_MAX + 1, &keys, &kl, &n, &quiet) ==
	        MGR_EINVAL,
	    "huge body");
	free(big);
	d = deep(S3_XML_DEPTH_MAX + 1);
	CHECK(s3_xml_parse_delete(d, strlen(d), &keys, &kl, &n, &quiet) == MGR_EINVAL,
	    "too deep");
	free(d);
	d = deep(100000);
	CHECK(s3_xml_parse_delete(d, strlen(d), &keys, &kl, &n, &quiet) == MGR_EINVAL,
	    "far too deep");
	free(d);

	{
		const char *b =
		    "<Delete " NS "><Quiet>true</Quiet><Object><Key>a/b c</Key></Object>"
		    "<Object><Key>x&amp;y</Key><VersionId>null</VersionId></Object></Delete>";

		CHECK(s3_xml_parse_delete(b, strlen(b), &keys, &kl, &n, &quiet) ==
		            MGR_OK &&
		        n == 2 && quiet == 1 && strcmp(keys[0], "a/b c") == 0 &&
		        strcmp(keys[1], "x&y") == 0 && kl[1] == 3,
		    "delete");
		if (keys != NULL)
			s3_keys_free(keys, kl, n);
		keys = NULL;
		b = "<Delete><Object><Key>a</Key></Object></Delete>";
		CHECK(s3_xml_parse_delete(b, strlen(b), &keys, &kl, &n, &quiet) ==
		            MGR_OK &&
		        n == 1 && quiet == 0,
		    "delete, not quiet");
		s3_keys_free(keys, kl, n);
		b = "<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>";
		CHECK(s3_xml_parse_delete(b, strlen(b), &keys, &kl, &n, &quiet) ==
		        MGR_EINVAL,
		    "bad Quiet");
		b = "<Delete><Object><VersionId>1</VersionId></Object></Delete>";
		CHECK(s3_xml_parse_delete(b, strlen(b), &keys, &kl, &n, &quiet) ==
		        MGR_EINVAL,
		    "object without a key");
	}

	{
		const char *b = "<CreateBucketConfiguration " NS
		                "><LocationConstraint>tpl_abc"
		                "</LocationConstraint></CreateBucketConfiguration>";

		CHECK(s3_xml_parse_location(b, strlen(b), loc, sizeof(loc)) == MGR_OK &&
		        strcmp(loc, "tpl_abc") == 0,
		    "location");
		CHECK(s3_xml_parse_location("", 0, loc, sizeof(loc)) == MGR_OK &&
		        loc[0] == '\0',
		    "empty body");
		b = "<CreateBucketConfiguration/>";
		CHECK(s3_xml_parse_location(b, strlen(b), loc, sizeof(loc)) == MGR_OK &&
		        loc[0] == '\0',
		    "no constraint");
		b = "<CreateBucketConfiguration><LocationConstraint>x";
		CHECK(s3_xml_parse_location(b, strlen(b), loc, sizeof(loc)) == MGR_EINVAL,
		    "malformed");
	}

	/* Writing: escaping, the namespace. */
	CHECK(s3_xml_new(&x, "ListBucketResult") == MGR_OK, "new");
	s3_xml_text(x, "Name", "b", (size_t)-1);
	s3_xml_open(x, "Contents");
	s3_xml_text(x, "Key", "a<b>&c\"", (size_t)-1);
	s3_xml_printf(x, "Size", "%d", 42);
	s3_xml_close(x);
	CHECK(s3_xml_finish(x, &out, &len) == MGR_OK, "finish");
	CHECK(out != NULL &&
	        strstr(out, "<ListBucketResult xmlns=\"" S3_XMLNS "\">") != NULL &&
	        strstr(out, "<Key>a&lt;b&gt;&amp;c&quot;</Key>") != NULL &&
	        strstr(out, "<Size>42</Size></Contents></ListBucketResult>") != NULL &&
	        strlen(out) == len,
	    "document: %s", out != NULL ? out : "");
	free(out);
	CHECK(s3_xml_error("NoSuchKey", "The specified key does not exist.", "/b/k<",
	          "req_1", &out, &len) == MGR_OK,
	    "error");
	CHECK(strstr(out,
	          "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
	          "</Message><Resource>/b/k&lt;</Resource><RequestId>req_1</RequestId></Error>") !=
	        NULL,
	    "error body: %s", out);
	free(out);
	xmlCleanupParser();
	return (fails != 0);
}
