#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "project.h"

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A directory itself (2), through a link (1), or not one (0). */
static int
dir_kind(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return 2;
	return S_ISLNK(st.st_mode) && is_dir(path);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * canonical: path is a directory found under getcwd's name, which has no
 * link and no dot in it: it needs neither a mkdir nor a realpath (five
 * system calls a spawn can do without).
 */
static int
open_at(struct project *p, const char *path, int flags, int canonical)
{
	char *real;

	if (canonical && strlen(path) < sizeof p->path) {
		memcpy(p->path, path, strlen(path) + 1);
	} else {
		if ((flags & PROJ_CREATE) && mkdir(path, 0755) < 0 &&
		    errno != EEXIST)
			return -1;
		if (!(real = realpath(path, NULL)))
			return -1;
		if (strlen(real) >= sizeof p->path) {
			free(real);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(p->path, real, strlen(real) + 1);
		free(real);
	}
	p->fd = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->fd < 0)
		return -1;
	p->agents = openat(p->fd, "agents", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->agents < 0 && errno == ENOENT && (flags & PROJ_CREATE)) {
		if (mkdirat(p->fd, "agents", 0755) < 0 && errno != EEXIST)
			return -1;
		p->agents = openat(p->fd, "agents",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (p->agents < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
project_open(struct project *p, int flags)
{
	char dir[PATH_MAX], cand[PATH_MAX + 16], git_top[PATH_MAX];
	const char *env = getenv("AG_PROJECT");
	char *slash;
	int kind;

	p->fd = p->agents = -1;
	p->path[0] = '\0';
	if (env && *env) {
		if (!is_dir(env) && !(flags & PROJ_CREATE)) {
			errno = ENOENT;
			return -1;
		}
		return open_at(p, env, flags, 0);
	}
	if (!getcwd(dir, sizeof dir))
		return -1;
	git_top[0] = '\0';
	for (;;) {
		snprintf(cand, sizeof cand, "%s/.project",
		    strcmp(dir, "/") ? dir : "");
		if ((kind = dir_kind(cand)))
			return open_at(p, cand, flags, kind == 2);
		if (!git_top[0]) {
			snprintf(cand, sizeof cand, "%s/.git",
			    strcmp(dir, "/") ? dir : "");
			if (exists(cand))
				memcpy(git_top, dir, strlen(dir) + 1);
		}
		if (!strcmp(dir, "/"))
			break;
		slash = strrchr(dir, '/');
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	if (!(flags & PROJ_CREATE)) {
		errno = ENOENT;
		return -1;
	}
	if (!git_top[0] && !getcwd(git_top, sizeof git_top))
		return -1;
	snprintf(cand, sizeof cand, "%s/.project",
	    strcmp(git_top, "/") ? git_top : "");
	return open_at(p, cand, flags, 0);
}

_Noreturn void
project_fail(const struct project *p)
{
	const char *env = getenv("AG_PROJECT");

	ag_die(AG_EXIT_FAIL, "cannot open project %s", p->path[0] ? p->path :
	    env && *env ? env : ".project");
}

void
project_open_or_die(struct project *p, int flags)
{
	const char *env = getenv("AG_PROJECT");

	if (project_open(p, flags) == 0)
		return;
	if (errno == ENOENT && !(flags & PROJ_CREATE) && env && *env)
		ag_diex(AG_EXIT_USAGE, "no project directory at %s (from "
		    "AG_PROJECT)", env);
	if (errno == ENOENT && !(flags & PROJ_CREATE))
		ag_diex(AG_EXIT_USAGE, "no .project directory found here or "
		    "in any parent (set AG_PROJECT, or start an agent first)");
	project_fail(p);
}

int
project_subdir(struct project *p, const char *name, int flags)
{
	int fd;

	if (p->fd < 0) {                /* no project: nothing in it */
		errno = ENOENT;
		return -1;
	}
	fd = openat(p->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && (flags & PROJ_CREATE)) {
		if (mkdirs_at(p->fd, name) < 0)
			return -1;
		fd = openat(p->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd;
}

void
project_close(struct project *p)
{
	if (p->agents >= 0)
		close(p->agents);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = p->agents = -1;
}
