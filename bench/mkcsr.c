/*
 * mkcsr: writes COUNT fresh CSRs, one per line, PEM with its newlines written
 * as the two characters \n (ready to go inside a JSON string). Each CSR has a
 * new EC P-256 key and the Subject DN "CN=PREFIX-i,O=mgr-bench".
 *
 * usage: mkcsr COUNT PREFIX > csrs.lines
 * Build: cc -O2 -o mkcsr mkcsr.c -lcrypto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int
main(int argc, char **argv)
{
	long count;
	char cn[256];
	EVP_PKEY_CTX *kctx;

	if (argc != 3 || (count = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: mkcsr COUNT PREFIX\n");
		return (2);
	}
	if ((kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kctx) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) != 1)
		return (1);
	for (long i = 0; i < count; i++) {
		EVP_PKEY *key = NULL;
		X509_REQ *req = X509_REQ_new();
		X509_NAME *name = X509_NAME_new();
		BIO *b = BIO_new(BIO_s_mem());
		char *data;
		long n;

		snprintf(cn, sizeof(cn), "%s-%ld", argv[2], i);
		if (req == NULL || name == NULL || b == NULL ||
		    EVP_PKEY_keygen(kctx, &key) != 1 ||
		    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		        (unsigned char *)cn, -1, -1, 0) != 1 ||
		    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		        (unsigned char *)"mgr-bench", -1, -1, 0) != 1 ||
		    X509_REQ_set_subject_name(req, name) != 1 ||
		    X509_REQ_set_pubkey(req, key) != 1 ||
		    X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
		    PEM_write_bio_X509_REQ(b, req) != 1)
			return (1);
		n = BIO_get_mem_data(b, &data);
		for (long k = 0; k < n; k++) {
			if (data[k] == '\n')
				fputs("\\n", stdout);
			else
				putchar(data[k]);
		}
		putchar('\n');
		BIO_free(b);
		X509_NAME_free(name);
		X509_REQ_free(req);
		EVP_PKEY_free(key);
	}
	EVP_PKEY_CTX_free(kctx);
	return (fflush(stdout) == 0 ? 0 : 1);
}
