/* Runs a fuzz target over files and directories of inputs, without
 * libFuzzer: the normal (gcc, ASan/UBSan) build replays the committed corpus
 * with it in ctest. Every input is run once; a crash or a failed FUZZ_CHECK
 * aborts, which fails the test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

#define REPLAY_MAX_BYTES (4u << 20)

__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return (0);
}

static int
run_file(const char *path, long *count)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc = 1;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return (1);
	}
	if ((buf = malloc(REPLAY_MAX_BYTES)) == NULL)
		goto out;
	n = fread(buf, 1, REPLAY_MAX_BYTES, f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "%s: unreadable or over %u bytes\n", path,
		    REPLAY_MAX_BYTES);
		goto out;
	}
	/* A copy of exactly n bytes, so ASan sees reads past the input. */
	{
		uint8_t *exact = malloc(n ? n : 1);

		if (exact == NULL)
			goto out;
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	(*count)++;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return (rc);
}

static int
run_path(const char *path, long *count)
{
	struct stat st;
	struct dirent **ents = NULL;
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return (1);
	}
	if (!S_ISDIR(st.st_mode))
		return (run_file(path, count));
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		perror(path);
		return (1);
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (ents[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			rc |= run_path(sub, count);
		}
		free(ents[i]);
	}
	free(ents);
	return (rc);
}

int
main(int argc, char **argv)
{
	long count = 0;
	int rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		rc |= run_path(argv[i], &count);
	printf("%s: %ld inputs replayed\n", argv[0], count);
	if (count == 0) {
		fprintf(stderr, "no inputs: give corpus files or directories\n");
		return (1);
	}
	return (rc);
}
