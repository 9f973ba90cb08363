/* services/account/password.c: hashing, verification, stored formats,
 * password rules. */
#include <stdio.h>
#include <string.h>

#include "services/account/password.h"
#include "tests/lib/check.h"


/* Known answers: RFC 7914 (scrypt) and the common PBKDF2-HMAC-SHA256
 * vector, in our stored format. */
static const struct {
	const char *password;
	const char *stored;
	mgr_err want;
} known[] = {
    {"password",
        "scrypt$1024$8$16$4e61436c$fdbabe1c9d3472007856e7190d01e9fe7c6ad7cb"
        "c8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a"
        "83ee6d8360cbdfa2cc0640",
        MGR_OK},
    {"passwore",
        "scrypt$1024$8$16$4e61436c$fdbabe1c9d3472007856e7190d01e9fe7c6ad7cb"
        "c8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a"
        "83ee6d8360cbdfa2cc0640",
        MGR_EUNAUTH},
    {"passwordPASSWORDpassword",
        "pbkdf2-sha256$4096$73616c7453414c5473616c7453414c5473616c7453414c54"
        "73616c7453414c5473616c74$348c89dbcbd32b2f32d814b8116e84cf2b17347eb"
        "c1800181c4e2a1fb8dd53e1c635518c7dac47e9",
        MGR_OK},
    {"passwordPASSWORDpassworD",
        "pbkdf2-sha256$4096$73616c7453414c5473616c7453414c5473616c7453414c54"
        "73616c7453414c5473616c74$348c89dbcbd32b2f32d814b8116e84cf2b17347eb"
        "c1800181c4e2a1fb8dd53e1c635518c7dac47e9",
        MGR_EUNAUTH},
    /* Malformed stored strings are refused, never "match". */
    {"x", "", MGR_EINVAL}, {"x", "plain", MGR_EINVAL}, {"x", "md5$abc", MGR_EINVAL},
    {"x",
        "scrypt$1000$8$1$00112233445566778899aabbccddeeff$"
        "00112233445566778899aabbccddeeff",
        MGR_EINVAL},                                    /* N not 2^k */
    {"x", "scrypt$1024$8$1$0011$00112233", MGR_EINVAL}, /* short hash */
    {"x", "scrypt$1024$8$1$zz112233$00112233445566778899aabbccddeeff",
        MGR_EINVAL}, /* bad hex */
    {"x", "scrypt$1024$8$1$00112233$00112233445566778899aabbccddeeff$",
        MGR_EINVAL}, /* extra $ */
    {"x", "scrypt$1048576000$8$1$00112233$00112233445566778899aabbccddeeff",
        MGR_EINVAL}, /* huge N */
    {"x", "pbkdf2-sha256$10$00112233$00112233445566778899aabbccddeeff",
        MGR_EINVAL}, /* few iters */
};

static const struct {
	const char *password;
	int ok;
} rules[] = {
    {"", 0}, {"12345678901", 0}, {"123456789012", 1},
    {"ééééééééééé", 0},  /* 11 characters, 22 bytes */
    {"éééééééééééé", 1}, /* 12 characters */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        1}, /* 128 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        0}, /* 129 */
};

int
main(void)
{
	char h1[ACCT_PWHASH_MAX], h2[ACCT_PWHASH_MAX], tiny[16];

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "known[%zu]", i);
		CHECK(acct_pw_verify(known[i].password, known[i].stored) == known[i].want,
		    "%s", what);
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "rules[%zu]", i);
		CHECK(acct_pw_acceptable(rules[i].password) == rules[i].ok, "%s", what);
	}

	/* Fresh hashes: salted (two differ), verify, refuse a wrong password. */
	CHECK(acct_pw_hash("correct horse battery", h1, sizeof(h1)) == MGR_OK, "hash 1");
	CHECK(acct_pw_hash("correct horse battery", h2, sizeof(h2)) == MGR_OK, "hash 2");
	CHECK(strcmp(h1, h2) != 0, "same password, different salts");
	CHECK(strncmp(h1, "scrypt$", 7) == 0, "scrypt is the default");
	CHECK(strstr(h1, "correct") == NULL, "no clear text in the hash");
	CHECK(acct_pw_verify("correct horse battery", h1) == MGR_OK, "verify 1");
	CHECK(acct_pw_verify("correct horse battery", h2) == MGR_OK, "verify 2");
	CHECK(acct_pw_verify("correct horse batterY", h1) == MGR_EUNAUTH,
	    "wrong password");
	CHECK(acct_pw_verify("", h1) == MGR_EUNAUTH, "empty password");
	CHECK(acct_pw_hash("x", tiny, sizeof(tiny)) == MGR_ETOOBIG, "bounded output");
	/* A flipped hash digit no longer matches. */
	h1[strlen(h1) - 1] = h1[strlen(h1) - 1] == '0' ? '1' : '0';
	CHECK(acct_pw_verify("correct horse battery", h1) == MGR_EUNAUTH,
	    "tampered hash");
	acct_pw_dummy("anything"); /* must not crash */

	if (fails == 0)
		printf("test_password: all passed\n");
	return (fails == 0 ? 0 : 1);
}
