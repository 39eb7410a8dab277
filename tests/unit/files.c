/* Unit tests: atomic files, locked appends under a real race, locks,
 * process identity. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "logscan.h"
#include "proc.h"
#include "unit.h"

static int
count_dot_files(int dirfd)
{
	int fd = dup(dirfd), n = 0;
	DIR *d = fdopendir(fd);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
		    strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

/* "torn" holds seed (unless NULL), then line is appended: is it want? */
static int
appended_is(int d, const char *seed, size_t n, const char *line,
    const char *want)
{
	size_t len;
	char *got;
	int ok;

	if (seed && atomic_write_at(d, "torn", seed, n, 0) < 0)
		return 0;
	if (append_locked_at(d, "torn", line, strlen(line), 0) < 0 ||
	    !(got = read_all_at(d, "torn", &len)))
		return 0;
	ok = len == strlen(want) && !memcmp(got, want, len);
	free(got);
	return ok;
}

/* Scan a log holding content (n bytes; unchanged when content is NULL). */
static void
scan_log(int d, const char *content, size_t n, struct log_summary *sum,
    char *last)
{
	int fd;

	if (content)
		atomic_write_at(d, "output.log", content, n, 0);
	fd = openat(d, "output.log", O_RDONLY);
	log_scan(fd, sum, last);
	if (fd >= 0)
		close(fd);
}

int
main(void)
{
	char tmpl[] = "/tmp/ag-unit.XXXXXX", buf[256], big[100000];
	int d, i, lines, bad, fd, st;
	struct proc_id me, other;
	struct log_summary sum;
	size_t len;
	char *all, last;
	pid_t kids[10], p;

	if (!mkdtemp(tmpl))
		return 1;
	d = open(tmpl, O_RDONLY | O_DIRECTORY);

	OK(atomic_puts_at(d, "status", "running", 0) == 0, "atomic write");
	OK(read_line_at(d, "status", buf, sizeof buf) == 0 && !strcmp(buf, "running"),
	    "read it back");
	OK(atomic_puts_at(d, "status", "completed", AF_FSYNC) == 0 &&
	    read_line_at(d, "status", buf, sizeof buf) == 0 &&
	    !strcmp(buf, "completed"), "atomic replace with fsync");
	OK(count_dot_files(d) == 0, "no temp files left");
	OK(create_puts_at(d, "status", "x") < 0 && errno == EEXIST,
	    "create refuses to overwrite");
	OK(atomic_write_at(-1, "x", "a", 1, 0) < 0, "a bad dirfd fails cleanly");
	OK(read_line_at(d, "missing", buf, sizeof buf) < 0 && errno == ENOENT,
	    "missing file is ENOENT");

	/* A swap: the new content in place, the old beside it until dropped. */
	{
		char old[NAME_MAX + 1], was[32];

		OK(atomic_swap_at(d, "status", "stopped\n", 8, old, sizeof old, 0) == 0 &&
		    read_line_at(d, "status", buf, sizeof buf) == 0 &&
		    !strcmp(buf, "stopped"), "atomic swap replaces");
		OK(old[0] == '.' && read_line_at(d, old, was, sizeof was) == 0 &&
		    !strcmp(was, "completed"), "  and names the old content's file");
		OK(unlinkat(d, old, 0) == 0 && count_dot_files(d) == 0,
		    "  which is the only file it leaves");
		OK(atomic_swap_at(d, "fresh", "new\n", 4, old, sizeof old, 0) == 0 &&
		    old[0] == '\0' && read_line_at(d, "fresh", buf, sizeof buf) == 0 &&
		    !strcmp(buf, "new") && count_dot_files(d) == 0,
		    "a swap with nothing there creates it, leaving nothing");
		OK(atomic_swap_at(-1, "x", "a", 1, old, sizeof old, 0) < 0 &&
		    old[0] == '\0', "a bad dirfd fails cleanly");
		unlinkat(d, "fresh", 0);
	}

	/* Through a file made ahead: its inode becomes the file. */
	{
		struct stat pre, got;
		char target[64];

		fd = openat(d, ".end-ready", O_WRONLY | O_CREAT, 0644);
		close(fd);
		fstatat(d, ".end-ready", &pre, 0);
		OK(atomic_puts_at(d, "ready", "done", AF_PREPARED) == 0 &&
		    fstatat(d, "ready", &got, 0) == 0 && got.st_ino == pre.st_ino &&
		    read_line_at(d, "ready", buf, sizeof buf) == 0 &&
		    !strcmp(buf, "done") && count_dot_files(d) == 0,
		    "AF_PREPARED writes through the file made ahead");
		/* A link planted there is never written through. */
		OK(atomic_puts_at(d, "target", "untouched", 0) == 0 &&
		    symlinkat("target", d, ".end-linked") == 0, "plant a link");
		OK(atomic_puts_at(d, "linked", "mine", AF_PREPARED) == 0 &&
		    read_line_at(d, "linked", buf, sizeof buf) == 0 &&
		    !strcmp(buf, "mine") &&
		    read_line_at(d, "target", target, sizeof target) == 0 &&
		    !strcmp(target, "untouched"),
		    "  a link in its place is not followed");
		unlinkat(d, ".end-linked", 0);
		unlinkat(d, "linked", 0);
		unlinkat(d, "target", 0);
		unlinkat(d, "ready", 0);
		/* Made ahead but not empty (opened without O_TRUNC): cut. */
		OK(create_puts_at(d, ".end-stale", "a much longer old text") == 0 &&
		    atomic_puts_at(d, "stale", "new", AF_PREPARED) == 0 &&
		    read_small_at(d, "stale", buf, sizeof buf) == 4 &&
		    !memcmp(buf, "new\n", 4) && count_dot_files(d) == 0,
		    "AF_PREPARED cuts a file made ahead that is not empty");
		unlinkat(d, "stale", 0);
	}

	/* Reuse: a file set aside becomes the new one, inode and all. */
	{
		struct stat pre, got;
		char target[64];

		create_puts_at(d, ".was", "a longer old content");
		fstatat(d, ".was", &pre, 0);
		OK(atomic_write_reuse_at(d, ".was", "now", "short\n", 6) == 0 &&
		    fstatat(d, "now", &got, 0) == 0 && got.st_ino == pre.st_ino &&
		    read_small_at(d, "now", buf, sizeof buf) == 6 &&
		    !memcmp(buf, "short\n", 6) && count_dot_files(d) == 0,
		    "reuse: the old file, cut to the new content, takes the name");
		OK(atomic_write_reuse_at(d, ".gone", "now", "x\n", 2) < 0 &&
		    errno == ENOENT && read_small_at(d, "now", buf, sizeof buf) == 6,
		    "  a file that is not there fails and changes nothing");
		atomic_puts_at(d, "target", "untouched", 0);
		symlinkat("target", d, ".linked");
		OK(atomic_write_reuse_at(d, ".linked", "now", "x\n", 2) < 0 &&
		    read_line_at(d, "target", target, sizeof target) == 0 &&
		    !strcmp(target, "untouched") &&
		    read_small_at(d, "now", buf, sizeof buf) == 6,
		    "  a link is not followed");
		mkdirat(d, ".dirvia", 0755);
		OK(atomic_write_reuse_at(d, ".dirvia", "now", "x\n", 2) < 0 &&
		    (errno == EINVAL || errno == EISDIR) &&
		    read_small_at(d, "now", buf, sizeof buf) == 6,
		    "  nor is anything but a regular file");
		unlinkat(d, ".dirvia", AT_REMOVEDIR);
		unlinkat(d, ".linked", 0);
		unlinkat(d, "target", 0);
		unlinkat(d, "now", 0);
	}

	/* A claim through a file no longer needed: its inode, the new text. */
	{
		struct stat pre, got;

		create_puts_at(d, "spent", "a longer old content");
		fstatat(d, "spent", &pre, 0);
		OK(claim_reuse_at(d, "spent", "mark", "m 1\n", 4) == 0 &&
		    fstatat(d, "mark", &got, 0) == 0 && got.st_ino == pre.st_ino &&
		    read_small_at(d, "mark", buf, sizeof buf) == 4 &&
		    !memcmp(buf, "m 1\n", 4) &&
		    faccessat(d, "spent", F_OK, 0) < 0 && errno == ENOENT,
		    "claim: the spent file, cut to the new text, takes the name");
		create_puts_at(d, "spent", "kept");
		OK(claim_reuse_at(d, "spent", "mark", "m 2\n", 4) < 0 &&
		    errno == EEXIST &&
		    read_small_at(d, "mark", buf, sizeof buf) == 4 &&
		    !memcmp(buf, "m 1\n", 4) &&
		    read_small_at(d, "spent", buf, sizeof buf) == 5 &&
		    !memcmp(buf, "kept\n", 5),
		    "  a name already claimed: EEXIST, and neither file changes");
		unlinkat(d, "spent", 0);
		OK(claim_reuse_at(d, "spent", "other", "x\n", 2) < 0 &&
		    errno == ENOENT && faccessat(d, "other", F_OK, 0) < 0,
		    "  nothing to reuse: ENOENT, and nothing made");
		unlinkat(d, "mark", 0);
	}

	/* Filling (AF_FILL): a new file, an empty one made ahead, or a
	 * longer one, which is cut; never through a link. */
	{
		struct stat pre, got;

		OK(fill_puts_at(d, "fnew", "one") == 0 &&
		    read_small_at(d, "fnew", buf, sizeof buf) == 4 &&
		    !memcmp(buf, "one\n", 4), "AF_FILL creates a file");
		fd = openat(d, "fmade", O_WRONLY | O_CREAT, 0644);
		close(fd);
		fstatat(d, "fmade", &pre, 0);
		OK(fill_puts_at(d, "fmade", "two") == 0 &&
		    fstatat(d, "fmade", &got, 0) == 0 &&
		    got.st_ino == pre.st_ino &&
		    read_small_at(d, "fmade", buf, sizeof buf) == 4 &&
		    !memcmp(buf, "two\n", 4), "  fills an empty one made ahead");
		OK(fill_puts_at(d, "fnew", "3") == 0 &&
		    read_small_at(d, "fnew", buf, sizeof buf) == 2 &&
		    !memcmp(buf, "3\n", 2), "  and cuts a longer one");
		OK(atomic_puts_at(d, "ftarget", "untouched", 0) == 0 &&
		    symlinkat("ftarget", d, "flink") == 0 &&
		    fill_puts_at(d, "flink", "x") < 0 &&
		    read_line_at(d, "ftarget", buf, sizeof buf) == 0 &&
		    !strcmp(buf, "untouched"), "  never through a link");
		unlinkat(d, "fnew", 0);
		unlinkat(d, "fmade", 0);
		unlinkat(d, "flink", 0);
		unlinkat(d, "ftarget", 0);
	}

	/* A reader racing a writer sees old or new, never a mix. */
	memset(big, 'a', sizeof big);
	atomic_write_at(d, "big", big, sizeof big, 0);
	if ((p = fork()) == 0) {
		for (i = 0; i < 300; i++) {
			memset(big, i % 2 ? 'b' : 'a', sizeof big);
			atomic_write_at(d, "big", big, sizeof big, 0);
		}
		_exit(0);
	}
	bad = 0;
	for (i = 0; i < 300; i++) {
		all = read_all_at(d, "big", &len);
		if (!all || len != sizeof big || memchr(all, all[0] == 'a' ? 'b' : 'a',
		    len))
			bad++;
		free(all);
	}
	waitpid(p, &st, 0);
	OK(bad == 0, "300 reads during 300 replaces: never torn (%d bad)", bad);

	/* 10 writers x 200 appends, concurrently: 2000 whole lines. */
	for (i = 0; i < 10; i++) {
		if ((kids[i] = fork()) == 0) {
			int k;

			for (k = 0; k < 200; k++) {
				char line[200];
				int n = snprintf(line, sizeof line,
				    "{\"writer\":%d,\"seq\":%d,\"pad\":\"%080d\"}\n", i, k, 0);

				if (append_locked_at(d, "log.jsonl", line, (size_t)n, 0) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	bad = 0;
	for (i = 0; i < 10; i++) {
		waitpid(kids[i], &st, 0);
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	OK(bad == 0, "10 concurrent appenders all succeeded");
	all = read_all_at(d, "log.jsonl", &len);
	lines = 0;
	bad = 0;
	{
		char *line = all, *nl;

		while (all && (nl = strchr(line, '\n'))) {
			jv v = jv_parse_sized(line, (int)(nl - line));

			if (!jv_is_valid(v))
				bad++;
			jv_free(v);
			lines++;
			line = nl + 1;
		}
	}
	free(all);
	OK(lines == 2000 && bad == 0, "2000 whole JSON lines, none torn (%d lines, %d bad)",
	    lines, bad);
	OK(append_locked_at(d, "log.jsonl", "no newline", 10, 0) < 0 && errno == EINVAL,
	    "a line without newline is refused");
	/* Half a line left by a writer killed mid-write is cut first, however
	 * far back its line began; a whole last line is kept. */
	{
		static char longer[6000];

		memset(longer, 'x', sizeof longer);
		memcpy(longer, "a\n", 2);
		OK(appended_is(d, "a\nhalf", 6, "b\n", "a\nb\n"),
		    "an append cuts a torn last line");
		OK(appended_is(d, "only half", 9, "b\n", "b\n"),
		    "  a file of one torn line too");
		OK(appended_is(d, longer, sizeof longer, "b\n", "a\nb\n"),
		    "  and one begun 6000 bytes back");
		OK(appended_is(d, NULL, 0, "c\n", "a\nb\nc\n"),
		    "  and keeps whole lines");
		unlinkat(d, "torn", 0);
	}

	/* Locks. */
	fd = lock_at(d, "lock", LOCK_EX);
	OK(fd >= 0 && lock_at(d, "lock", LOCK_EX | LOCK_NB) < 0 &&
	    errno == EWOULDBLOCK, "a second locker is refused");
	close(fd);
	OK((fd = lock_at(d, "lock", LOCK_EX | LOCK_NB)) >= 0, "closing releases");
	close(fd);
	{
		int hs[2];
		char c;

		if (pipe(hs) < 0)
			return 1;
		if ((p = fork()) == 0) {
			lock_at(d, "lock", LOCK_EX);
			if (write(hs[1], "l", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		close(hs[1]);
		OK(read(hs[0], &c, 1) == 1 &&
		    lock_at(d, "lock", LOCK_EX | LOCK_NB) < 0 &&
		    errno == EWOULDBLOCK, "a child's lock is seen held");
		close(hs[0]);
	}
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	OK((fd = lock_at(d, "lock", LOCK_EX | LOCK_NB)) >= 0,
	    "kill -9 of the holder frees it");
	close(fd);

	/* Process identity. */
	OK(proc_identify(getpid(), &me) == 0, "identify ourselves");
	OK(proc_alive(&me) == 1, "we are alive");
	other = me;
	other.start++;
	OK(proc_alive(&other) == 0, "same pid, other start time: not us");
	OK(proc_kill_group(&other, 0) == 1, "and never signalled");
	snprintf(other.boot, sizeof other.boot, "another-boot");
	other.start = me.start;
	OK(proc_alive(&other) == 0, "same pid and start, other boot: not us");
	proc_id_format(&me, buf, sizeof buf);
	OK(proc_id_parse(me.pid, buf, &other) == 0 && other.start == me.start &&
	    !strcmp(other.boot, me.boot), "format/parse round trip");
	if ((p = fork()) == 0)
		_exit(0);
	proc_identify(p, &other);
	waitpid(p, &st, 0);
	OK(proc_alive(&other) == 0, "a reaped child is gone");
	OK(proc_kill_group(&other, SIGTERM) == 1, "and is not signalled");

	/* Log scanning. */
	atomic_puts_at(d, "output.log",
	    "[START] 2026-11-21T14:23:00.123Z\nTask: x\nhello\n"
	    "[PROGRESS] 1/5\nError: disk on fire\n[PROGRESS] 2/5 files\n"
	    "{\"type\":\"result\",\"total_cost_usd\":0.5,\"usage\":{}}\n"
	    "{\"type\":\"result\",\"total_cost_usd\":0.5,\"usage\":{}}\n"
	    "{\"type\":\"other\",\"result\":1,\"total_cost_usd\":0.5}\n"
	    "{\"type\":\"result\",\"total_cost_usd\":1.5,\"usage\":{}}\n"
	    "[RESULT] {\"ok\":true}\n[COMPLETE] 2026-11-21T14:23:01.000Z", 0);
	scan_log(d, NULL, 0, &sum, &last);
	OK(last == '\n', "the log's last byte: the newline");
	OK(jv_array_length(jv_copy(sum.logs)) == 9, "frame lines are not logs");
	OK(jv_array_length(jv_copy(sum.errors)) == 1, "one error line");
	{
		jv ok = jv_object_get(jv_copy(sum.metrics), jv_string("ok"));

		OK(jv_get_kind(ok) == JV_KIND_TRUE, "[RESULT] object");
		jv_free(ok);
	}
	OK(jv_get_kind(sum.claude) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(sum.claude)) == 2,
	    "Claude results found: each once, only of type result");
	{
		jv c = jv_array_get(jv_copy(sum.claude), 1);
		jv t = jv_object_get(c, jv_string("total_cost_usd"));

		OK(jv_number_value(t) == 1.5, "  in order");
		jv_free(t);
	}
	log_summary_free(&sum);
	log_last_progress(d, buf, sizeof buf);
	IS(buf, "2/5 files", "last progress");
	{
		/* Result objects long before the tail: one whose key straddles
		 * the scan's 1 MiB chunks, one line longer than a chunk (not
		 * looked at), then more than the tail of filler, and one in
		 * the tail. */
		static const char r1[] = "{\"type\":\"result\",\"total_cost_usd\":1,\"usage\":{}}\n";
		size_t cap = 3u << 20, at = 0, k;
		char *log = malloc(cap);
		jv c;

		OK(log != NULL, "memory for a big log");
		while (at < (1u << 20) - 30) {
			k = (1u << 20) - 30 - at;
			k = k > 100 ? 100 : k;
			memset(log + at, 'x', k - 1);
			log[at + k - 1] = '\n';
			at += k;
		}
		memcpy(log + at, r1, sizeof r1 - 1);   /* key at 1 MiB - 12 */
		at += sizeof r1 - 1;
		at += (size_t)snprintf(log + at, cap - at, "{\"type\":\"result\","
		    "\"total_cost_usd\":2,\"pad\":\"");
		memset(log + at, 'y', (1u << 20) + 10);
		at += (1u << 20) + 10;
		at += (size_t)snprintf(log + at, cap - at, "\"}\n");
		while (at < cap - LOG_SCAN_BYTES / 2 - 200) {
			memcpy(log + at, "filler line\n", 12);
			at += 12;
		}
		at += (size_t)snprintf(log + at, cap - at, "{\"type\":\"result\","
		    "\"total_cost_usd\":3,\"usage\":{}}\n");
		scan_log(d, log, at, &sum, &last);
		c = jv_copy(sum.claude);
		OK(jv_array_length(jv_copy(c)) == 2,
		    "results before the tail are found, not a line over 1 MiB");
		OK(jv_number_value(jv_object_get(jv_array_get(jv_copy(c), 0),
		    jv_string("total_cost_usd"))) == 1 &&
		    jv_number_value(jv_object_get(jv_array_get(jv_copy(c), 1),
		    jv_string("total_cost_usd"))) == 3,
		    "  the one across chunks, and the tail's, in order");
		jv_free(c);
		log_summary_free(&sum);
		free(log);
	}
	scan_log(d, "[RESULT] not json\n", 18, &sum, &last);
	OK(jv_array_length(jv_copy(sum.errors)) == 1, "a bad [RESULT] is reported as an error");
	log_summary_free(&sum);
	/* The last byte, for the closing line: an unfinished line, an empty
	 * log, a tail read from mid-file that is one unfinished line, and
	 * no log at all. */
	{
		static char huge[LOG_SCAN_BYTES + 100];

		scan_log(d, "half a line", 11, &sum, &last);
		OK(last == 'e' && jv_array_length(jv_copy(sum.logs)) == 1,
		    "an unfinished last line: its last byte, and the line kept");
		log_summary_free(&sum);
		last = 'x';
		scan_log(d, "", 0, &sum, &last);
		OK(last == '\n' && jv_array_length(jv_copy(sum.logs)) == 0,
		    "an empty log: a newline, no lines");
		log_summary_free(&sum);
		memset(huge, 'z', sizeof huge);
		scan_log(d, huge, sizeof huge, &sum, &last);
		OK(last == 'z', "a tail that is all one unfinished line: its last byte");
		log_summary_free(&sum);
		last = 'x';
		log_scan(-1, &sum, &last);
		OK(last == '\n' && jv_array_length(jv_copy(sum.logs)) == 0 &&
		    jv_array_length(jv_copy(sum.errors)) == 0,
		    "an unreadable log: empty arrays and a newline");
		log_summary_free(&sum);
	}

	/* What an end finds from its scan (log_progress_after) is what
	 * log_progress reads once the closing line is in, the [PROGRESS]
	 * line just inside the last LOG_PROGRESS_BYTES, at their edge, or
	 * just outside. */
	{
		static const char close_line[] = "[COMPLETE] 2026-11-22T00:00:00.000Z\n";
		static char log[3 * LOG_PROGRESS_BYTES];
		size_t f = sizeof close_line - 1, b, n, k;
		char got[200], want[200];
		int same = 0, inside = 0, outside = 0, runs = 0;

		for (b = LOG_PROGRESS_BYTES - f - 40; b < LOG_PROGRESS_BYTES - f; b++) {
			n = 0;
			memcpy(log + n, "[PROGRESS] early\n", 17);
			n += 17;
			for (k = 0; k < 300; k++)
				log[n++] = k % 50 == 49 ? '\n' : 'a';
			memcpy(log + n, "[PROGRESS] near\r\n", 18);
			n += 18;
			for (k = 0; k < b; k++)
				log[n++] = k % 100 == 99 || k == b - 1 ? '\n' : 'y';
			scan_log(d, log, n, &sum, &last);
			fd = openat(d, "output.log", O_WRONLY | O_APPEND);
			if (fd < 0 || write(fd, close_line, f) != (ssize_t)f ||
			    close(fd) < 0)
				break;
			log_progress_after(&sum, f, got, sizeof got);
			log_last_progress(d, want, sizeof want);
			same += !strcmp(got, want);
			inside += !strcmp(want, "near");
			outside += !strcmp(want, "");
			runs++;
			log_summary_free(&sum);
		}
		OK(runs == 40 && same == runs, "the scan's progress is log_last_progress's, "
		    "at every distance from the edge (%d of %d)", same, runs);
		OK(inside > 0 && outside > 0, "  on both sides of it (%d, %d)",
		    inside, outside);
	}

	close(d);
	rm_rf_at(AT_FDCWD, tmpl);
	OK(access(tmpl, F_OK) < 0, "rm -rf");
	return DONE();
}
