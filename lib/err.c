#include <errno.h>
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

static void
vmsg(int errnum, const char *fmt, va_list ap)
{
	char buf[2048];
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
	if (n >= sizeof buf - 1)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	/* One write: a message is never split by another process's. */
	if (write(2, buf, n) < 0) {
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
