/* Vault names and object keys. */
#include "services/vault/rules.h"

#include "services/vault/store.h"

#include <string.h>

int
vault_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < VAULT_NAME_MIN || n > VAULT_NAME_MAX)
		return (0);
	return (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n);
}

int
vault_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		uint32_t cp, min;
		size_t need;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return (0); /* continuation byte, 0xc0/0xc1, 0xf5.. */
		}
		if (len - i - 1 < need)
			return (0);
		for (size_t k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += need + 1;
	}
	return (1);
}

int
vault_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > VAULT_KEY_MAX || memchr(key, '\0', len) != NULL)
		return (0);
	return (vault_utf8_valid(key, len));
}
