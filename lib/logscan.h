/*
 * logscan.h - what an agent said, read from the tail of its output.log:
 * the last lines, the lines that look like errors, the object printed
 * after the last [RESULT] marker, the last [PROGRESS] text, and the
 * Claude Code result objects ({"type":"result",...,"total_cost_usd":...}),
 * one for each run of claude -p that printed there.
 * Only the last LOG_SCAN_BYTES are read for all but the result objects,
 * which are looked for in the last LOG_CLAUDE_BYTES: a huge log costs no
 * more than one of that size.
 */
#ifndef AG_LOGSCAN_H
#define AG_LOGSCAN_H

#include <stddef.h>

#include "json.h"

#define LOG_SCAN_BYTES (256 * 1024)
#define LOG_CLAUDE_BYTES (16LL << 20)
#define LOG_KEEP_LINES 20
#define LOG_LINE_MAX 400        /* longer lines are cut in result.json */

#define LOG_PROGRESS_BYTES 8192  /* log_last_progress looks this far back */

struct log_summary {
	jv logs;                /* array of the last lines */
	jv errors;              /* array of error-looking lines */
	jv metrics;             /* object after the last [RESULT], or {} */
	jv claude;              /* array of the Claude result objects, in
	                         * order, a line repeated word for word once */
	long long size;         /* the log's size as scanned */
	long long progress_at;  /* where the last [PROGRESS] line starts, or -1 */
	char progress[200];     /* its text */
};

/*
 * Scan the log open (readable) at fd.  Never fails: an unreadable log
 * gives empty arrays.  *last gets the log's last byte ('\n' when it is
 * empty or could not be read), for a caller about to append a line.
 */
void log_scan(int fd, struct log_summary *s, char *last);
/* Free what log_scan made. */
void log_summary_free(struct log_summary *s);
/* The text after the last "[PROGRESS]" in the last LOG_PROGRESS_BYTES
 * of the log, or "". */
void log_last_progress(int dirfd, char *buf, size_t cap);
/* What log_last_progress will find once n more bytes (no [PROGRESS] line
 * among them) are appended to the log log_scan scanned: no second read. */
void log_progress_after(const struct log_summary *s, size_t n, char *buf,
    size_t cap);

#endif
