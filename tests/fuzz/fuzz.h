/* Shared by the fuzz targets: the libFuzzer entry point and a check that
 * stays on in release builds (assert() does not: NDEBUG). */
#ifndef MGR_TESTS_FUZZ_H
#define MGR_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, \
			    __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* A NUL-terminated copy of the input (the parsers take C strings), or NULL
 * when out of memory. Free with free(). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return (NULL);
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return (s);
}

#endif
