/*
 * clock.h - wall and monotonic time, and RFC 3339 UTC timestamps with
 * milliseconds (2026-11-21T14:23:00.123Z), the one format of every
 * timestamp ag writes.
 */
#ifndef AG_CLOCK_H
#define AG_CLOCK_H

#include <stdint.h>

#define AG_TS_LEN 32            /* room for a timestamp and its NUL */

int64_t clock_wall_ms(void);    /* ms since the epoch */
int64_t clock_mono_ms(void);    /* ms on the monotonic clock */

/* Format ms since the epoch; buf holds AG_TS_LEN bytes. */
void ts_format(int64_t ms, char *buf);
/*
 * Parse an RFC 3339 timestamp (Z or +hh:mm offset, optional fraction)
 * or a plain date YYYY-MM-DD (midnight UTC).  Returns 0, or -1.
 */
int ts_parse(const char *s, int64_t *ms);

#endif
