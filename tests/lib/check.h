/* The check macro of the unit tests: CHECK(cond, "format", ...) reports a
 * failed condition with file, line and message and counts it in fails; the
 * format must be a string literal (a message in a variable goes as "%s"). */
#ifndef MGR_TESTS_CHECK_H
#define MGR_TESTS_CHECK_H

#include <stdio.h>

static int fails;

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, "" __VA_ARGS__); \
			fputc('\n', stderr); \
			fails++; \
		} \
	} while (0)

#endif
