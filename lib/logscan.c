#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logscan.h"

/*
 * Read up to max bytes from the end of the log open at fd into a malloc'd
 * buffer, starting at a line boundary when the read began mid-file.
 * *last gets the log's last byte ('\n' for an empty or unread log).
 */
static char *
read_tail_fd(int fd, size_t max, size_t *lenp, char *last, long long *size)
{
	struct stat st;
	size_t want, n = 0;
	off_t off;
	char *buf;

	*last = '\n';
	*size = 0;
	if (fstat(fd, &st) < 0)
		return NULL;
	*size = (long long)st.st_size;
	want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	off = st.st_size - (off_t)want;
	if (!(buf = malloc(want + 1)))
		return NULL;
	while (n < want) {
		ssize_t r = pread(fd, buf + n, want - n, off + (off_t)n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (n == want && n > 0)
		*last = buf[n - 1];
	if (off > 0) {
		char *nl = memchr(buf, '\n', n);
		size_t skip = nl ? (size_t)(nl - buf) + 1 : n;

		memmove(buf, buf + skip, n - skip + 1);
		n -= skip;
	}
	*lenp = n;
	return buf;
}

static char *
read_tail(int dirfd, size_t max, size_t *lenp)
{
	char *buf, last;
	long long size;
	int fd = openat(dirfd, "output.log", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = read_tail_fd(fd, max, lenp, &last, &size);
	close(fd);
	return buf;
}

static int
starts(const char *line, size_t len, const char *pfx)
{
	size_t n = strlen(pfx);

	return len >= n && memcmp(line, pfx, n) == 0;
}

/* Lines ag itself writes around the agent's own output. */
static int
is_frame(const char *line, size_t len)
{
	return starts(line, len, "[START] ") || starts(line, len, "Task: ") ||
	    starts(line, len, "[COMPLETE] ") || starts(line, len, "[FAILED] ") ||
	    starts(line, len, "[TIMEOUT] ") || starts(line, len, "[STOPPED] ") ||
	    starts(line, len, "[LOST] ");
}

static int
log_line_is_error(const char *line, size_t len)
{
	static const char *const words[] = { "error", "fatal", "exception",
	    "traceback", "panic", "failed", "failure", "cannot ", "denied",
	    "not found", "no such file", "segmentation fault", NULL };
	char low[512];
	size_t i, n = len < sizeof low - 1 ? len : sizeof low - 1;
	int k;

	for (i = 0; i < n; i++)
		low[i] = (char)((line[i] >= 'A' && line[i] <= 'Z') ?
		    line[i] + 32 : line[i]);
	low[n] = '\0';
	for (k = 0; words[k]; k++)
		if (strstr(low, words[k]))
			return 1;
	return 0;
}

static jv
cut_line(const char *line, size_t len)
{
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	return jv_string_sized(line, (int)len);
}

/* Keep the last LOG_KEEP_LINES entries of a ring of line spans. */
struct ring {
	const char *p[LOG_KEEP_LINES];
	size_t n[LOG_KEEP_LINES];
	size_t count;
};

static void
ring_push(struct ring *r, const char *p, size_t n)
{
	r->p[r->count % LOG_KEEP_LINES] = p;
	r->n[r->count % LOG_KEEP_LINES] = n;
	r->count++;
}

static jv
ring_array(const struct ring *r)
{
	size_t first = r->count > LOG_KEEP_LINES ? r->count - LOG_KEEP_LINES : 0;
	size_t i;
	jv a = jv_array();

	for (i = first; i < r->count; i++)
		a = jv_array_append(a, cut_line(r->p[i % LOG_KEEP_LINES],
		    r->n[i % LOG_KEEP_LINES]));
	return a;
}

/* A Claude Code result line: cheap test before a real parse. */
static int
maybe_claude(const char *line, size_t len)
{
	return len > 20 && line[0] == '{' && memmem(line, len, "\"result\"", 8) &&
	    memmem(line, len, "total_cost_usd", 14);
}

/* Append the result object on line to arr, unless it is not one, or it
 * is there already (the same line printed twice is one run).  Consumes
 * arr. */
static jv
claude_add(jv arr, const char *line, size_t len)
{
	jv c = jv_parse_sized(line, (int)len), t;
	int i, n, seen = 0;

	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		jv_free(c);
		return arr;
	}
	t = jv_object_get(jv_copy(c), jv_string("type"));
	if (jv_get_kind(t) != JV_KIND_STRING ||
	    strcmp(jv_string_value(t), "result")) {
		jv_free(t);
		jv_free(c);
		return arr;
	}
	jv_free(t);
	n = jv_array_length(jv_copy(arr));
	for (i = 0; i < n && !seen; i++)
		seen = jv_equal(jv_array_get(jv_copy(arr), i), jv_copy(c));
	if (seen) {
		jv_free(c);
		return arr;
	}
	return jv_array_append(arr, c);
}

/* The text of a [PROGRESS] line from p (just past the marker) to its end:
 * leading blanks and a trailing CR dropped, control characters shown as
 * spaces, cut to cap - 1 bytes. */
static void
progress_text(const char *p, char *out, size_t cap)
{
	const char *e;
	size_t len, i;

	while (*p == ' ' || *p == '\t')
		p++;
	e = strchr(p, '\n');
	len = e ? (size_t)(e - p) : strlen(p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
}

/*
 * The Claude result objects in [from, to) of the log, appended to arr:
 * up to LOG_CLAUDE_BYTES before to, which is where a line starts.  Read a
 * chunk at a time; a chunk without "total_cost_usd" is not split into
 * lines, and a line longer than a chunk is not looked at.  Consumes arr.
 */
static jv
claude_before(int fd, long long to, jv arr)
{
	enum { CHUNK = 1 << 20 };
	long long off = to > LOG_CLAUDE_BYTES ? to - LOG_CLAUDE_BYTES : 0;
	int partial = off > 0;          /* the first line began before off */
	size_t have = 0;
	char *buf;

	if (off >= to || !(buf = malloc(CHUNK)))
		return arr;
	while (off < to) {
		size_t want = CHUNK - have;
		ssize_t n;
		char *p, *nl, *end;

		if ((long long)want > to - off)
			want = (size_t)(to - off);
		if ((n = pread(fd, buf + have, want, (off_t)off)) <= 0)
			break;
		off += n;
		have += (size_t)n;
		end = buf + have;
		p = buf;
		if (!memmem(buf, have, "total_cost_usd", 14)) {
			/* Nothing here: keep only the unfinished line. */
			char *l = memrchr(buf, '\n', have);

			if (l) {
				p = l + 1;
				partial = 0;
			}
		}
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			if (!partial && maybe_claude(p, (size_t)(nl - p)))
				arr = claude_add(arr, p, (size_t)(nl - p));
			partial = 0;
			p = nl + 1;
		}
		if (p == buf && have == CHUNK) {
			have = 0;               /* too long a line: past it */
			partial = 1;
		} else {
			have = (size_t)(end - p);
			memmove(buf, p, have);
		}
	}
	free(buf);
	return arr;
}

void
log_scan(int fd, struct log_summary *s, char *last)
{
	struct ring logs = { 0 }, errs = { 0 };
	const char *result = NULL;
	size_t result_len = 0, len, i, start = 0;
	char *buf = read_tail_fd(fd, LOG_SCAN_BYTES, &len, last, &s->size);
	const char *prog = NULL;

	s->metrics = jv_object();
	s->claude = jv_array();
	s->progress_at = -1;
	s->progress[0] = '\0';
	if (!buf) {
		s->logs = jv_array();
		s->errors = jv_array();
		return;
	}
	/* Result objects before the tail first: in the order printed. */
	if (s->size > (long long)len)
		s->claude = claude_before(fd, s->size - (long long)len, s->claude);
	for (i = 0; i <= len; i++) {
		const char *line;
		size_t n;

		if (i < len && buf[i] != '\n')
			continue;
		line = buf + start;
		n = i - start;
		start = i + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0 || is_frame(line, n))
			continue;
		if (starts(line, n, "[PROGRESS]"))
			prog = line;
		if (starts(line, n, "[RESULT]")) {
			result = line + 8;
			result_len = n - 8;
		}
		if (maybe_claude(line, n))
			s->claude = claude_add(s->claude, line, n);
		ring_push(&logs, line, n);
		if (log_line_is_error(line, n))
			ring_push(&errs, line, n);
	}
	if (prog) {
		/* The buffer ends where the log does. */
		s->progress_at = s->size - (long long)len + (prog - buf);
		progress_text(prog + 10, s->progress, sizeof s->progress);
	}
	s->logs = ring_array(&logs);
	s->errors = ring_array(&errs);
	if (result) {
		jv m = jv_parse_sized(result, (int)result_len);

		if (jv_get_kind(m) == JV_KIND_OBJECT) {
			jv_free(s->metrics);
			s->metrics = m;
		} else if (jv_is_valid(m)) {
			jv_free(s->metrics);
			s->metrics = jv_object_set(jv_object(),
			    jv_string("value"), m);
		} else {
			jv_free(m);
			s->errors = jv_array_append(s->errors,
			    jv_string("malformed [RESULT] line: not JSON"));
		}
	}
	free(buf);
}

void
log_summary_free(struct log_summary *s)
{
	jv_free(s->logs);
	jv_free(s->errors);
	jv_free(s->metrics);
	jv_free(s->claude);
}

void
log_last_progress(int dirfd, char *out, size_t cap)
{
	size_t len, i;
	char *buf = read_tail(dirfd, LOG_PROGRESS_BYTES, &len), *p = NULL;

	out[0] = '\0';
	if (!buf)
		return;
	for (i = 0; i + 10 <= len; i++) {
		if (buf[i] == '[' && (i == 0 || buf[i - 1] == '\n') &&
		    !memcmp(buf + i, "[PROGRESS]", 10))
			p = buf + i + 10;
	}
	if (p)
		progress_text(p, out, cap);
	free(buf);
}

void
log_progress_after(const struct log_summary *s, size_t n, char *out,
    size_t cap)
{
	long long end = s->size + (long long)n;

	out[0] = '\0';
	/* log_last_progress reads the last LOG_PROGRESS_BYTES, and drops the
	 * line they begin in: a line starting right at their start too. */
	if (s->progress_at < 0 || (end > LOG_PROGRESS_BYTES &&
	    s->progress_at < end - LOG_PROGRESS_BYTES + 1))
		return;
	snprintf(out, cap, "%s", s->progress);
}
