/*
 * ag - the dispatcher: "ag spawn ..." runs ag-spawn.
 *
 *   ag [--version | help | COMMAND [ARG...]]
 *
 * ag-COMMAND is looked for in .project/plugins/, then beside the ag
 * binary, then on PATH, and exec'd in place (no fork: the exit status is
 * the command's own).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "names.h"
#include "project.h"

#ifndef AG_VERSION
#define AG_VERSION "0"
#endif

static const char usage_text[] =
    "usage: ag [--version | help | COMMAND [ARG...]]\n";

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* The directory holding this binary, or "" when unknown. */
static void
self_dir(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	char *slash;

	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')))
		*slash = '\0';
}

/* Directories to search, in order; returns how many. */
static int
search_dirs(char dirs[][PATH_MAX], int cap, char **pathcopy)
{
	struct project p;
	int n = 0;
	char *path, *tok, *save = NULL;

	if (project_open(&p, 0) == 0) {
		snprintf(dirs[n++], PATH_MAX, "%s/plugins", p.path);
		project_close(&p);
	}
	self_dir(dirs[n], PATH_MAX);
	if (dirs[n][0])
		n++;
	path = getenv("PATH");
	*pathcopy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!*pathcopy)
		return n;
	for (tok = strtok_r(*pathcopy, ":", &save); tok && n < cap;
	    tok = strtok_r(NULL, ":", &save))
		snprintf(dirs[n++], PATH_MAX, "%s", *tok ? tok : ".");
	return n;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_commands(void)
{
	char dirs[64][PATH_MAX], *pathcopy = NULL, **names = NULL, buf[PATH_MAX * 2];
	size_t n = 0, cap = 0, i;
	int nd = search_dirs(dirs, 64, &pathcopy), k;

	printf("%s", usage_text);
	printf("commands:\n");
	for (k = 0; k < nd; k++) {
		struct dirent *de;
		DIR *d = opendir(dirs[k]);

		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, "ag-", 3) || name_check(de->d_name + 3))
				continue;
			snprintf(buf, sizeof buf, "%s/%s", dirs[k], de->d_name);
			if (!executable(buf))
				continue;
			for (i = 0; i < n; i++)
				if (!strcmp(names[i], de->d_name + 3))
					break;
			if (i < n)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				if (!(names = realloc(names, cap * sizeof *names)))
					ag_die(AG_EXIT_FAIL, "out of memory");
			}
			if (!(names[n++] = strdup(de->d_name + 3)))
				ag_die(AG_EXIT_FAIL, "out of memory");
		}
		closedir(d);
	}
	qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		printf("  %s\n", names[i]);
		free(names[i]);
	}
	free(names);
	free(pathcopy);
}

int
main(int argc, char **argv)
{
	char dirs[64][PATH_MAX], *pathcopy = NULL, path[PATH_MAX * 2];
	const char *cmd, *r;
	int nd, k;

	ag_init(argv[0]);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return AG_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("ag %s\n", AG_VERSION);
		ag_exit(0);
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		if (argc > 2 && !name_check(argv[2])) {
			/* "ag help spawn": the command's own usage */
			argv[1] = argv[2];
			argv[2] = "--help";
			argc = 3;
			cmd = argv[1];
		} else {
			list_commands();
			ag_exit(0);
		}
	}
	if ((r = name_check(cmd)))
		ag_diex(AG_EXIT_USAGE, "bad command '%s': %s", cmd, r);
	nd = search_dirs(dirs, 64, &pathcopy);
	for (k = 0; k < nd; k++) {
		snprintf(path, sizeof path, "%s/ag-%s", dirs[k], cmd);
		if (!executable(path))
			continue;
		snprintf(dirs[0], PATH_MAX, "ag-%s", cmd);
		argv[1] = dirs[0];
		execv(path, argv + 1);
		ag_die(AG_EXIT_NOEXEC, "cannot execute %s", path);
	}
	free(pathcopy);
	ag_diex(AG_EXIT_USAGE, "unknown command '%s' (see 'ag help')", cmd);
}
