/*
 * replay: run a fuzz target over its saved corpus, without libFuzzer, as a
 * TAP test for make check. Every file of tests/fuzz/corpus/NAME (NAME is
 * compiled in as FUZZ_NAME; the directory is found through $TOP_SRCDIR,
 * or given as directory arguments) is one test, run in a child process:
 * it passes if the target returns having checked every property, and is
 * "not ok", named by its file, if a property failed (FUZZ_CHECK says which
 * on standard error and aborts) or the target crashed; the run goes on
 * with the next file and fails at the end. The corpus holds the seeds and
 * every input that once found a bug, so each stays fixed.
 * libFuzzer's flags are refused: this is not libFuzzer (make fuzz).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the corpus directory"
#endif

static int tests, failed;

/* Read the whole file at path into memory; NULL on error. */
static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE	      *f;
	unsigned char *data = NULL;
	long	       size;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)size + 1)) != NULL &&
	    fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	if (data != NULL)
		*len = (size_t)size;
	fclose(f);
	return data;
}

/*
 * Run the target on one input in a child; 0 if it returned, else the
 * signal that ended it (or 256 + its exit status).
 */
static int
run_one(const unsigned char *data, size_t len)
{
	pid_t pid;
	int   status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("fork");
		abort();
	}
	if (pid == 0) {
		LLVMFuzzerTestOneInput(data, len);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WEXITSTATUS(status) == 0 ? 0 : 256 + WEXITSTATUS(status);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run the target on every file of dir, in name order. -1 if unreadable. */
static int
replay_dir(const char *dir)
{
	DIR	      *d;
	struct dirent *e;
	char	     **names = NULL, path[4096];
	size_t	       n = 0, i, len;
	unsigned char *data;
	int	       why;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (names[n] = strdup(e->d_name)) == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, compare_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if ((data = read_file(path, &len)) == NULL) {
			printf("not ok %d - %s: unreadable\n", ++tests, path);
			failed = 1;
			free(names[i]);
			continue;
		}
		if ((why = run_one(data, len)) == 0)
			printf("ok %d - %s %s\n", ++tests, FUZZ_NAME, names[i]);
		else {
			printf("not ok %d - %s %s: %s %d (a property failed: "
			       "see the line above it on standard error)\n",
			    ++tests, FUZZ_NAME, names[i],
			    why < 256 ? "killed by signal" : "exit status",
			    why < 256 ? why : why - 256);
			failed = 1;
		}
		free(data);
		free(names[i]);
	}
	free(names);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("TOP_SRCDIR");
	char	    dir[4096];
	int	    i, bad = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (argv[i][0] == '-') {
				fprintf(stderr,
				    "%s: %s: not libFuzzer; configure "
				    "--enable-fuzzing for that\n",
				    argv[0], argv[i]);
				return 2;
			}
			if (replay_dir(argv[i]) == -1)
				bad = 1;
		}
	} else {
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", FUZZ_NAME);
		bad = replay_dir(dir) == -1;
	}
	if (bad || tests == 0)
		printf(
		    "not ok %d - corpus of %s not found\n", ++tests, FUZZ_NAME);
	printf("1..%d\n", tests);
	return bad || failed;
}
