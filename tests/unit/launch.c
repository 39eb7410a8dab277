/* Unit tests of lib/launch.c: the #! check a spawn makes before it
 * starts anything, against the kernel's reading of the line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "unit.h"

static char dir[64];

/* A script named name holding n bytes of text, mode mode. */
static const char *
script(const char *name, const char *text, size_t n, mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) < 0) {
		perror(path);
		exit(1);
	}
	chmod(path, mode);
	return path;
}

#define SCRIPT(name, text) script(name, text, sizeof text - 1, 0755)

/* A script named name whose interpreter is the script named interp. */
static const char *
via(const char *name, const char *interp)
{
	char line[128];

	snprintf(line, sizeof line, "#!%s/%s\n", dir, interp);
	return script(name, line, strlen(line), 0755);
}

static int
check(const char *path, char *interp)
{
	interp[0] = '\0';
	return command_interp_check(path, interp, 256);
}

int
main(void)
{
	char interp[256], line[400], plain[128];
	const char *p;

	snprintf(dir, sizeof dir, "/tmp/ag-unit-launch.XXXXXX");
	if (!mkdtemp(dir))
		return 1;

	OK(check("/bin/sh", interp) == 0, "a program is no script: nothing to check");
	OK(check(SCRIPT("ok", "#!/bin/sh\necho hi\n"), interp) == 0,
	    "a script whose interpreter runs passes");
	OK(check(SCRIPT("tabs", "#!\t /bin/sh \t-e\t \n"), interp) == 0,
	    "  with blanks around the name and an argument");
	OK(check(SCRIPT("noint", "#!/no/such/sh -e\n"), interp) == ENOENT &&
	    !strcmp(interp, "/no/such/sh"),
	    "a missing interpreter is ENOENT, named without its argument");
	OK(check(SCRIPT("crlf", "#!/bin/sh\r\n"), interp) == ENOENT &&
	    !strcmp(interp, "/bin/sh\r"),
	    "a DOS line ending is part of the name, as to the kernel");
	OK(check(SCRIPT("nonl", "#!/no/such/sh"), interp) == ENOENT &&
	    !strcmp(interp, "/no/such/sh"),
	    "a line without a newline ends at the end of the file");
	OK(check(SCRIPT("blank", "#!   \nexit 0\n"), interp) == 0,
	    "a blank #! line is for the shell, not refused");
	OK(check(SCRIPT("dir", "#!/tmp\n"), interp) == EACCES,
	    "a directory as interpreter is EACCES (126)");
	OK(check(SCRIPT("notdir", "#!/etc/passwd/sh\n"), interp) == ENOTDIR,
	    "a path through a file is ENOTDIR (127)");
	snprintf(plain, sizeof plain, "#!%s\n", script("plain", "#!/bin/sh\n",
	    10, 0644));
	OK(check(script("viaplain", plain, strlen(plain), 0755), interp) == EACCES,
	    "an interpreter that is not executable is EACCES");

	/* The name must end inside the 256 bytes the kernel reads. */
	memset(line, 0, sizeof line);
	memcpy(line, "#!/", 3);
	memset(line + 3, 'x', 300);
	p = script("long", line, 303, 0755);
	OK(check(p, interp) == 0, "a name longer than the kernel reads is left to the exec");
	line[200] = ' ';
	p = script("longarg", line, 303, 0755);
	OK(check(p, interp) == ENOENT && strlen(interp) == 198,
	    "  but one that ends inside it, before a long argument, is checked");

	/* Interpreters that are scripts are followed. */
	OK(check(via("via1", "noint"), interp) == ENOENT &&
	    !strcmp(interp, "/no/such/sh"),
	    "a script as interpreter is checked in turn");
	OK(check(via("via2", "via1"), interp) == ENOENT, "  two levels down");
	via("via3", "via2");
	OK(check(via("via4", "via3"), interp) == ENOENT &&
	    !strcmp(interp, "/no/such/sh"),
	    "  five scripts deep, as far as the kernel goes");
	OK(check(via("via5", "via4"), interp) == 0,
	    "  but not past it: the exec's to judge");
	OK(check(via("viaok", "ok"), interp) == 0,
	    "a script as interpreter that runs passes");

	if (fork() == 0) {
		execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
		_exit(1);
	}
	return DONE();
}
