/*
 * err.h - the one error idiom of ag: every message is
 *   PROG: what failed: why
 * on stderr, written with a single write(2) so that concurrent
 * commands never interleave half messages.
 */
#ifndef AG_ERR_H
#define AG_ERR_H

#include <stddef.h>

/* Exit codes, SPEC section 2. */
enum {
	AG_EXIT_OK = 0,
	AG_EXIT_NO = 1,         /* a documented "no" */
	AG_EXIT_USAGE = 2,      /* usage, bad input, unknown id, no project */
	AG_EXIT_ASK = 3,
	AG_EXIT_TIMEOUT = 124,
	AG_EXIT_FAIL = 125,     /* the command itself failed: I/O, library */
	AG_EXIT_NOEXEC = 126,
	AG_EXIT_NOTFOUND = 127,
};

extern const char *ag_prog;

/* Set the program name from argv[0] (its basename). */
void ag_setprog(const char *argv0);
/*
 * What every command does first: ag_setprog, and hold each of 0, 1 and
 * 2 that was closed open on /dev/null (read-only for 1 and 2, write-only
 * for 0, so that using it still fails), lest a file we open take its
 * number.
 */
void ag_init(const char *argv0);
/*
 * ag_init for the commands built without libjq (AG_NOJQ: ag-spawn and
 * ag-wait, linked statically with musl, see jvnone.c), which run again
 * from the start in their build with libjq where they need JSON: it
 * keeps a copy of argv, before getopt reorders it, for that run.
 */
void ag_init_rerun(int argc, char **argv);
/*
 * The command has done what a second run would do again (made an agent,
 * printed): from here on, JSON in a build without libjq is a bug to
 * report, not a reason to run again.
 */
void ag_rerun_off(void);
/*
 * The path of NAME among ag's helpers: in $AG_LIBEXEC when set, else in
 * ../libexec/ag beside the executable we are.  0, or -1 with errno.  No
 * malloc: a monitor calls it in its spawner's memory.
 */
int ag_libexec_path(char *buf, size_t cap, const char *name);
/* Run again, in the build with libjq (jvnone.c). */
_Noreturn void ag_rerun_with_jq(void);

/* With strerror(errno) appended. */
_Noreturn void ag_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Without errno. */
_Noreturn void ag_diex(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ag_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy n bytes of src to dst (cap bytes, NUL included), spelling out
 * control characters (\n, \r, \t, \x1b); returns the length written,
 * stopping before a character that would not fit.  No malloc and no
 * stdio: an agent calls it between clone and exec.
 */
size_t ag_escape(char *dst, size_t cap, const char *src, size_t n);

/* Exit after checking that stdout was written (a full disk is an error). */
_Noreturn void ag_exit(int code);

#endif
