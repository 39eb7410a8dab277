/* Unit tests of lib/launch.c: the #! check a spawn makes before it
 * starts anything, against the kernel's reading of the line; and the
 * start through a forked monitor where a sandbox refuses the clone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/*
 * Run $AG_BIN/PROG ARGS in dir, with clone(CLONE_VM | signal) refused as
 * a sandbox's filter might (exactly the monitor's clone: not a thread's,
 * not a vfork's, not a fork's); its stdout into out.  Returns its exit
 * status, or -1 where no such filter can be set up here.
 */
static int
run_refusing_clone_vm(const char *prog, char *const args[], const char *where,
    char *out, size_t cap)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xc000003e /* x86_64 */, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[0])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~0xffU),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CLONE_VM, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog fp = { sizeof f / sizeof f[0], f };
	char path[4096];
	int pfd[2], st;
	ssize_t n;
	size_t got = 0;
	pid_t c;

	snprintf(path, sizeof path, "%s/%s", getenv("AG_BIN"), prog);
	if (pipe(pfd) < 0 || (c = fork()) < 0)
		return -1;
	if (c == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		if (chdir(where) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) < 0)
			_exit(99);
		execv(path, args);
		_exit(98);
	}
	close(pfd[1]);
	while (got < cap - 1 && (n = read(pfd[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	if (waitpid(c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 99)
		return -1;
	return WEXITSTATUS(st);
#else
	(void)prog; (void)args; (void)where; (void)out; (void)cap;
	return -1;
#endif
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

	/* A sandbox that refuses the clone of the monitor into our memory:
	 * it is forked, and the spawner, which cannot see where the kernel
	 * put A's pid (in the fork's memory), learns it from A's word. */
	if (getenv("AG_BIN")) {
		char proj[128], out[256], log[256];
		char *spawn[] = { "ag-spawn", "-n", "fb", "--", "sh", "-c",
		    "echo ran", NULL };
		char *wait[] = { "ag-wait", "fb", NULL };
		int r;

		snprintf(proj, sizeof proj, "%s/proj", dir);
		snprintf(log, sizeof log, "%s/.project", proj);
		if (mkdir(proj, 0755) < 0 || mkdir(log, 0755) < 0)
			perror(log);
		snprintf(log, sizeof log, "%s/.project/agents/fb/output.log",
		    proj);
		r = run_refusing_clone_vm("ag-spawn", spawn, proj, out, sizeof out);
		if (r < 0) {
			printf("ok - # SKIP no seccomp filter here\n");
		} else {
			OK(r == 0 && !strcmp(out, "fb\n"),
			    "with the monitor's clone refused, ag-spawn forks it "
			    "and prints the id (exit %d)", r);
			r = run_refusing_clone_vm("ag-wait", wait, proj, out,
			    sizeof out);
			OK(r == 0 && !strcmp(out, "fb completed 0\n"),
			    "  and the agent runs and ends recorded");
			{
				FILE *f = fopen(log, "r");
				char line[64] = "";

				while (f && fgets(line, sizeof line, f) &&
				    strcmp(line, "ran\n"))
					;
				OK(!strcmp(line, "ran\n"), "  its output in output.log");
				if (f)
					fclose(f);
			}
		}
	}

	if (fork() == 0) {
		execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
		_exit(1);
	}
	return DONE();
}
