#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int64_t
clock_wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t
clock_mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Hinnant's method). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Its inverse: y-m-d of a day count (Hinnant's civil_from_days). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/*
 * By arithmetic, not gmtime_r: glibc's gmtime reads /etc/localtime the
 * first time (tzset), a file read on the path of every spawn and end.
 */
void
ts_format(int64_t ms, char *buf)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t sod = secs - days * 86400, y;
	unsigned msec = (unsigned)(ms - secs * 1000), mo, d;

	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999) {
		/* Not RFC 3339: clamp rather than print nonsense. */
		snprintf(buf, AG_TS_LEN, "%s", y < 0 ?
		    "0000-01-01T00:00:00.000Z" : "9999-12-31T23:59:59.999Z");
		return;
	}
	snprintf(buf, AG_TS_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned)y, mo, d, (unsigned)(sod / 3600),
	    (unsigned)(sod / 60 % 60), (unsigned)(sod % 60), msec);
}

static int
num(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

int
ts_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h = 0, mi = 0, se = 0, oh, om, frac = 0, scale = 1000;
	int64_t t;
	const char *p = s;

	if (num(&p, 4, &y) || *p++ != '-' || num(&p, 2, &mo) || *p++ != '-' ||
	    num(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
	if (*p == '\0') {
		*ms = t * 1000;
		return 0;
	}
	if ((*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (num(&p, 2, &h) || *p++ != ':' || num(&p, 2, &mi) || *p++ != ':' ||
	    num(&p, 2, &se))
		return -1;
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			p++;
		}
	}
	t += h * 3600 + mi * 60 + se;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '+' ? 1 : -1;

		if (num(&p, 2, &oh) || *p++ != ':' || num(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*ms = t * 1000 + frac;
	return 0;
}
