/* Unit tests: names, ids, tags, durations, timestamps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "names.h"
#include "unit.h"

int
main(void)
{
	char buf[300], par[AG_ID_MAX + 1];
	int64_t ms;
	int i;

	OK(name_check("deploy") == NULL, "plain name");
	OK(name_check("a_B-9") == NULL, "letters digits _ -");
	OK(name_check("") != NULL, "empty refused");
	OK(name_check("-x") != NULL, "leading - refused");
	OK(name_check("a/b") != NULL, "slash refused");
	OK(name_check("..") != NULL, ".. refused");
	OK(name_check("a b") != NULL, "space refused");
	OK(name_check("a\nb") != NULL, "control refused");
	OK(name_check("a.b") != NULL, "dot refused in a name");
	OK(name_check("caf\xc3\xa9") != NULL, "non-ASCII refused");
	for (i = 0; i < 64; i++)
		buf[i] = 'x';
	buf[64] = '\0';
	OK(name_check(buf) == NULL, "64 characters allowed");
	buf[64] = 'x';
	buf[65] = '\0';
	OK(name_check(buf) != NULL, "65 refused");

	OK(agent_id_check("deploy.tests.unit") == NULL, "dotted id");
	OK(agent_id_check("a..b") != NULL, "empty component refused");
	OK(agent_id_check(".a") != NULL, "leading dot refused");
	OK(agent_id_check("a.") != NULL, "trailing dot refused");
	OK(agent_id_check("a.-b") != NULL, "component starting with - refused");
	OK(tag_check("feature:auth") == NULL, "tag with :");
	OK(tag_check("phase.two") == NULL, "tag with .");
	OK(tag_check("a..b") != NULL, "tag with .. refused");
	OK(tag_check("a/b") != NULL, "tag with / refused");

	agent_id_parent("a.b.c", par);
	IS(par, "a.b", "parent of a.b.c");
	agent_id_parent("a", par);
	IS(par, "", "top-level has no parent");
	OK(agent_id_is_descendant("a.b.c", "a"), "a.b.c under a");
	OK(!agent_id_is_descendant("ab.c", "a"), "ab.c not under a");
	OK(!agent_id_is_descendant("a", "a"), "a not under itself");

	OK(duration_parse("250ms", &ms) == 0 && ms == 250, "250ms");
	OK(duration_parse("90s", &ms) == 0 && ms == 90000, "90s");
	OK(duration_parse("10m", &ms) == 0 && ms == 600000, "10m");
	OK(duration_parse("2h", &ms) == 0 && ms == 7200000, "2h");
	OK(duration_parse("7d", &ms) == 0 && ms == 604800000, "7d");
	OK(duration_parse("45", &ms) == 0 && ms == 45000, "bare seconds");
	OK(duration_parse("1.5s", &ms) == 0 && ms == 1500, "fraction");
	OK(duration_parse("0", &ms) == 0 && ms == 0, "zero");
	OK(duration_parse("5x", &ms) < 0, "bad unit");
	OK(duration_parse("-1", &ms) < 0, "negative");
	OK(duration_parse("", &ms) < 0, "empty");
	OK(duration_parse("s", &ms) < 0, "unit only");
	OK(duration_parse("99999999999999999999", &ms) < 0, "overflow");
	OK(duration_parse("1 s", &ms) < 0, "inner space");
	OK(duration_parse("1h30m", &ms) == 0 && ms == 5400000, "parts add up");
	OK(duration_parse("2m30s500ms", &ms) == 0 && ms == 150500, "three parts");
	OK(duration_parse("1d2h", &ms) == 0 && ms == 93600000, "days and hours");
	OK(duration_parse("1m30", &ms) < 0, "a later part without a unit");
	OK(duration_parse("1hm", &ms) < 0, "a unit without a number");
	OK(duration_parse("1h-5m", &ms) < 0, "a negative part");
	OK(duration_parse("1h 30m", &ms) < 0, "a space between parts");
	OK(duration_parse("9999999999999d1d", &ms) < 0, "overflow across parts");

	duration_format(850, buf, sizeof buf);
	IS(buf, "850ms", "format ms");
	duration_format(12345, buf, sizeof buf);
	IS(buf, "12.3s", "format s");
	duration_format(245000, buf, sizeof buf);
	IS(buf, "4m05s", "format m");
	duration_format(7800000, buf, sizeof buf);
	IS(buf, "2h10m", "format h");

	OK(line_in("a-1\nb-2\nc", "b-2") && line_in("a-1\nb-2\nc", "a-1") &&
	    line_in("a-1\nb-2\nc", "c") && line_in("x", "x"),
	    "line_in: first, middle, last, only line");
	OK(!line_in("a-12\nb", "a-1") && !line_in("xa-1\nb", "a-1") &&
	    !line_in("a-1\nb", "") && !line_in("", "a") &&
	    !line_in("a-1\nb-2", "1\nb"),
	    "line_in: not a part of a line, not the empty string");
	OK(line_in("ab\nb", "b"), "line_in: past a partial match");

	ts_format(1795271400123LL, buf);
	IS(buf, "2026-11-21T14:30:00.123Z", "format timestamp");
	OK(ts_parse("2026-11-21T14:30:00.123Z", &ms) == 0 && ms == 1795271400123LL,
	    "parse what we write");
	OK(ts_parse("2026-11-21T15:30:00.123+01:00", &ms) == 0 &&
	    ms == 1795271400123LL, "parse an offset");
	OK(ts_parse("2026-11-21", &ms) == 0 && ms == 1795219200000LL, "parse a date");
	OK(ts_parse("2024-02-29", &ms) == 0, "leap day");
	OK(ts_parse("2026-02-29", &ms) < 0, "not a leap year");
	OK(ts_parse("2026-13-01", &ms) < 0, "month 13");
	OK(ts_parse("2026-11-21T25:00:00Z", &ms) < 0, "hour 25");
	OK(ts_parse("2026-11-21T14:30:00", &ms) < 0, "no zone");
	OK(ts_parse("yesterday", &ms) < 0, "words");
	for (i = 0; i < 1000; i++) {
		int64_t t = (int64_t)rand() * 1000 + rand() % 1000, back;

		ts_format(t, buf);
		if (ts_parse(buf, &back) < 0 || back != t)
			break;
	}
	OK(i == 1000, "format/parse round trip, 1000 random times");
	/* ts_format computes the date itself: held to gmtime_r from year 0
	 * to 9999, leap days and century years included. */
	for (i = 0; i < 200000; i++) {
		int64_t t = ((int64_t)rand() << 31 | rand()) %
		    (253402300800000LL + 62167219200000LL) - 62167219200000LL;
		time_t secs = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
		char want[64];
		struct tm tm;

		if (i < 4)      /* the edges: year 0, 1970, 2000-02-29, 9999 */
			t = (int64_t[]){ -62167219200000LL, 0, 951782400123LL,
			    253402300799999LL }[i], secs = (time_t)(t >= 0 ?
			    t / 1000 : (t - 999) / 1000);
		gmtime_r(&secs, &tm);
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(t - (int64_t)secs * 1000));
		ts_format(t, buf);
		if (strcmp(buf, want)) {
			printf("# %lld: got %s, want %s\n", (long long)t, buf, want);
			break;
		}
	}
	OK(i == 200000, "ts_format agrees with gmtime_r, 200000 times in 0-9999");
	{
		char e[32];
		size_t n;

		n = ag_escape(e, sizeof e, "a\nb\r\t\033[1m\x7f\xc3\xa9", 12);
		OK(n == strlen(e) && !strcmp(e, "a\\nb\\r\\t\\x1b[1m\\x7f\xc3\xa9"),
		    "ag_escape: controls spelled out, UTF-8 kept");
		OK(ag_escape(e, 5, "ab\ncd", 5) == 4 && !strcmp(e, "ab\\n"),
		    "ag_escape: stops before what does not fit, NUL included");
		OK(ag_escape(e, 4, "a\001", 2) == 1 && !strcmp(e, "a"),
		    "  never half an escape");
		OK(ag_escape(e, sizeof e, "a\0b", 3) == 6 && !memcmp(e, "a\\x00b", 7),
		    "ag_escape: a NUL within n is spelled out too");
	}
	return DONE();
}
