#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

const char *ag_prog = "ag";

void
ag_setprog(const char *argv0)
{
	const char *s;

	if (!argv0 || !*argv0)
		return;
	s = strrchr(argv0, '/');
	ag_prog = s ? s + 1 : argv0;
}

size_t
ag_escape(char *dst, size_t cap, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		char e = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
		size_t need = e ? 2 : c < 0x20 || c == 0x7f ? 4 : 1;

		if (o + need >= cap)
			break;
		if (need == 1) {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		if (e) {
			dst[o++] = e;
		} else {
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

void
ag_init(const char *argv0)
{
	int fd, n;

	ag_setprog(argv0);
	/* A descriptor 0, 1 or 2 closed by whoever started us would be the
	 * next file we open: the project's directory as stdout, an agent's
	 * lock as stdin, each then overwritten when a monitor gives its agent
	 * its stdio.  Each closed one is held by /dev/null, opened the wrong
	 * way round: a read of 0, or a write of 1 or 2, fails as it did. */
	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free descriptor: fd, those below being open. */
		n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (n >= 0 && n != fd)
			close(n);
	}
}

static char **rerun_argv;

void
ag_init_rerun(int argc, char **argv)
{
	ag_init(argv[0]);
#ifdef AG_NOJQ
	if ((rerun_argv = malloc(((size_t)argc + 1) * sizeof *argv)))
		memcpy(rerun_argv, argv, ((size_t)argc + 1) * sizeof *argv);
#endif
}

void
ag_rerun_off(void)
{
	rerun_argv = NULL;
}

/* The executable we are, cut at its last '/': *base its name. */
static int
self_exe(char *buf, size_t cap, const char **base)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	char *slash;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/'))) {
		*slash = '\0';
		*base = slash + 1;
	} else {
		*base = buf;
	}
	return 0;
}

int
ag_libexec_path(char *buf, size_t cap, const char *name)
{
	const char *dir = getenv("AG_LIBEXEC"), *base;
	char self[4096];
	int r;

	if (dir && *dir)
		r = snprintf(buf, cap, "%s/%s", dir, name);
	else if (self_exe(self, sizeof self, &base) == 0)
		r = snprintf(buf, cap, "%s/../libexec/ag/%s", self, name);
	else
		return -1;
	if (r < 0 || (size_t)r >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* PREFIX/libexec/ag/jq/NAME for PREFIX/bin/NAME (by its name, not by
 * whatever argv[0] says): the same command, linked with libjq. */
_Noreturn void
ag_rerun_with_jq(void)
{
	char self[4096], name[4096 + 8], path[8400];
	const char *base;

	if (!rerun_argv)
		ag_diex(AG_EXIT_FAIL, "internal error: JSON needed after the "
		    "point of no return, in a build without libjq");
	if (self_exe(self, sizeof self, &base) < 0)
		ag_die(AG_EXIT_FAIL, "cannot find my own executable");
	snprintf(name, sizeof name, "jq/%s", base);
	if (ag_libexec_path(path, sizeof path, name) < 0)
		ag_die(AG_EXIT_FAIL, "cannot find the helpers of %s", ag_prog);
	fflush(NULL);
	execv(path, rerun_argv);
	ag_die(AG_EXIT_FAIL, "cannot run %s", path);
}

static void
vmsg(int errnum, const char *fmt, va_list ap)
{
	char buf[2048], out[sizeof buf + 64];
	size_t n = 0;
	int r;

	r = snprintf(buf, sizeof buf, "%s: ", ag_prog);
	if (r > 0)
		n = (size_t)r < sizeof buf ? (size_t)r : sizeof buf - 1;
	r = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof buf - n ? (size_t)r : sizeof buf - n - 1;
	if (errnum) {
		r = snprintf(buf + n, sizeof buf - n, ": %s", strerror(errnum));
		if (r > 0)
			n += (size_t)r < sizeof buf - n ? (size_t)r : sizeof buf - n - 1;
	}
	/* One line, whatever the names and texts in it hold: a newline or
	 * a terminal's escape sequence in a bad name is shown, not obeyed. */
	n = ag_escape(out, sizeof out - 1, buf, n);
	out[n++] = '\n';
	/* One write: a message is never split by another process's. */
	if (write(2, out, n) < 0) {
		/* nowhere left to report it */
	}
}

void
ag_die(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
	exit(code);
}

void
ag_diex(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	exit(code);
}

void
ag_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
ag_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

void
ag_exit(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		ag_warn("cannot write standard output");
		if (code == 0 || code == 1)
			code = AG_EXIT_FAIL;
	}
	exit(code);
}
