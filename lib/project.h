/*
 * project.h - finding and laying out the .project directory (SPEC 2):
 * $AG_PROJECT; else the nearest .project in the current directory or a
 * parent; else, for a command that writes, a new .project at the top of
 * the enclosing git work tree, or in the current directory.
 */
#ifndef AG_PROJECT_H
#define AG_PROJECT_H

#include <limits.h>

struct project {
	char path[PATH_MAX];    /* absolute path of .project */
	int fd;                 /* O_DIRECTORY fd of .project */
	int agents;             /* fd of .project/agents, or -1 */
};

#define PROJ_CREATE 1           /* create .project (and agents/) if missing */

/*
 * Open the project.  Returns 0; or -1 with errno ENOENT when there is
 * none (and PROJ_CREATE was not given), another errno on failure.
 */
int project_open(struct project *p, int flags);
/* project_open, dying with the right message and exit code. */
void project_open_or_die(struct project *p, int flags);
/* Die (125) saying the project could not be opened, naming it. */
_Noreturn void project_fail(const struct project *p);
/* Open (creating with PROJ_CREATE) a subdirectory such as "queued"; -1
 * with ENOENT when there is no project (p->fd < 0). */
int project_subdir(struct project *p, const char *name, int flags);
void project_close(struct project *p);

#endif
