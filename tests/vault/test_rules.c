/* services/vault/rules.c: vault names and object keys. */
#include <stdio.h>
#include <string.h>

#include "services/vault/store.h"
#include "tests/lib/check.h"


static void
test_names(void)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
	    {"abc", 1},
	    {"a-b-c", 1},
	    {"0123", 1},
	    {"---", 1},
	    {"ab", 0},
	    {"", 0},
	    {"Abc", 0},
	    {"a_b", 0},
	    {"a b", 0},
	    {"a.b", 0},
	    {"caf\xc3\xa9", 0},
	    {"abc/", 0},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(vault_name_valid(cases[i].name) == cases[i].ok,
		    "vault_name_valid(\"%s\") != %d", cases[i].name, cases[i].ok);
}

static void
test_keys(void)
{
	static const struct {
		const char *key;
		size_t len; /* 0: strlen */
		int ok;
		const char *what;
	} cases[] = {
	    {"a", 0, 1, "one byte"},
	    {"dir/sub/file.txt", 0, 1, "slashes"},
	    {"with space", 0, 1, "space"},
	    {"../x", 0, 1, "dot-dot is just bytes"},
	    {"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", 0, 1, "2-byte UTF-8"},
	    {"\xe6\x97\xa5\xe6\x9c\xac", 0, 1, "3-byte UTF-8"},
	    {"\xf0\x9f\x98\x80", 0, 1, "4-byte UTF-8"},
	    {"\xf4\x8f\xbf\xbf", 0, 1, "U+10FFFF"},
	    {"", 0, 0, "empty"},
	    {"a\0b", 3, 0, "NUL"},
	    {"\xff", 0, 0, "0xff"},
	    {"\x80", 0, 0, "lone continuation"},
	    {"\xc0\xaf", 0, 0, "overlong 2-byte"},
	    {"\xe0\x80\xaf", 0, 0, "overlong 3-byte"},
	    {"\xf0\x80\x80\xaf", 0, 0, "overlong 4-byte"},
	    {"\xed\xa0\x80", 0, 0, "surrogate"},
	    {"\xf4\x90\x80\x80", 0, 0, "past U+10FFFF"},
	    {"\xe6\x97", 0, 0, "truncated"},
	    {"\xc3(", 0, 0, "bad continuation"},
	};
	char big[VAULT_KEY_MAX + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].key);

		CHECK(vault_key_valid(cases[i].key, n) == cases[i].ok, "key %s: want %d",
		    cases[i].what, cases[i].ok);
	}
	memset(big, 'k', sizeof(big));
	CHECK(vault_key_valid(big, VAULT_KEY_MAX) == 1, "1024-byte key");
	CHECK(vault_key_valid(big, VAULT_KEY_MAX + 1) == 0, "1025-byte key");
}

int
main(void)
{
	test_names();
	test_keys();
	if (fails == 0)
		printf("ok\n");
	return (fails == 0 ? 0 : 1);
}
