#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "names.h"

static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static const char *
check_chars(const char *s, size_t n, int extra_tag)
{
	size_t i;

	if (n == 0)
		return "empty";
	if (n > AG_NAME_MAX)
		return "longer than 64 characters";
	if (s[0] == '-')
		return "starts with '-'";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (name_char(c))
			continue;
		if (extra_tag && (c == ':' || c == '.'))
			continue;
		if (c == '/')
			return "contains '/'";
		if (c == '.')
			return "contains '.'";
		if (c == ' ' || c == '\t')
			return "contains a space";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		return "contains a character outside [A-Za-z0-9_-]";
	}
	return NULL;
}

const char *
name_check(const char *s)
{
	return check_chars(s, strlen(s), 0);
}

const char *
tag_check(const char *s)
{
	size_t n = strlen(s);
	const char *r = check_chars(s, n, 1);

	if (r)
		return r;
	if (strstr(s, ".."))
		return "contains '..'";
	if (s[0] == '.')
		return "starts with '.'";
	return NULL;
}

const char *
agent_id_check(const char *s)
{
	const char *p = s, *dot, *r;
	size_t n = strlen(s);

	if (n == 0)
		return "empty";
	if (n > AG_ID_MAX)
		return "longer than 255 characters";
	for (;;) {
		dot = strchr(p, '.');
		if (!dot) {
			if ((r = check_chars(p, strlen(p), 0)))
				return r;
			return NULL;
		}
		if (dot == p)
			return dot == s ? "starts with '.'" :
			    "has an empty component ('..' or a trailing '.')";
		if ((r = check_chars(p, (size_t)(dot - p), 0)))
			return r;
		p = dot + 1;
		if (!*p)
			return "ends with '.'";
	}
}

void
agent_id_parent(const char *id, char *buf)
{
	const char *dot = strrchr(id, '.');
	size_t n = dot ? (size_t)(dot - id) : 0;

	if (n > AG_ID_MAX)
		n = AG_ID_MAX;
	memcpy(buf, id, n);
	buf[n] = '\0';
}

int
agent_id_is_descendant(const char *id, const char *anc)
{
	size_t n = strlen(anc);

	return n > 0 && strncmp(id, anc, n) == 0 && id[n] == '.' && id[n + 1];
}

/*
 * One part of a duration: digits, an optional fraction, and a unit; the
 * unit may be left out only by a bare number that is the whole duration
 * (seconds).  Returns where the part ends, or NULL.
 */
static const char *
duration_part(const char *p, int64_t *ms, int alone)
{
	static const struct { const char *unit; int64_t mult; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
		{ "h", 3600 * 1000 }, { "d", 86400 * 1000 },
	};
	int64_t whole = 0, frac = 0, fscale = 1, mult = 0;
	int digits = 0;
	size_t i, n = 0;

	while (*p >= '0' && *p <= '9') {
		if (whole > (INT64_MAX - 9) / 10)
			return NULL;
		whole = whole * 10 + (*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (fscale < 1000000000) {
				frac = frac * 10 + (*p - '0');
				fscale *= 10;
			}
			p++;
			digits++;
		}
	}
	if (!digits)
		return NULL;
	for (i = 0; i < sizeof units / sizeof units[0] && !mult; i++) {
		n = strlen(units[i].unit);
		if (!strncmp(p, units[i].unit, n))
			mult = units[i].mult;
	}
	if (!mult) {
		if (*p || !alone)
			return NULL;
		mult = 1000;
		n = 0;
	}
	if (whole > INT64_MAX / mult / 4)
		return NULL;
	*ms = whole * mult + frac * mult / fscale;
	return p + n;
}

int
duration_parse(const char *s, int64_t *ms)
{
	int64_t total = 0, part;
	const char *p = s;

	if (!s || !*s)
		return -1;
	/* Parts add up: 1h30m, 2m30s. */
	do {
		if (!(p = duration_part(p, &part, p == s)) ||
		    part > INT64_MAX / 4 - total)
			return -1;
		total += part;
	} while (*p);
	*ms = total;
	return 0;
}

void
duration_format(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms < 60 * 1000)
		snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000),
		    (long long)(ms % 1000 / 100));
	else if (ms < 3600 * 1000LL)
		snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000),
		    (long long)(ms / 1000 % 60));
	else if (ms < 86400 * 1000LL)
		snprintf(buf, len, "%lldh%02lldm", (long long)(ms / 3600000),
		    (long long)(ms / 60000 % 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(ms / 86400000),
		    (long long)(ms / 3600000 % 24));
}

void
random_name(char *buf, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long counter;
	unsigned char r[32];
	size_t i;

	if (n == 0)
		return;
	if (n - 1 > sizeof r)
		n = sizeof r + 1;
	if (getrandom(r, n - 1, GRND_NONBLOCK) != (ssize_t)(n - 1)) {
		/* No entropy yet (early boot): still vary by process and time. */
		struct timespec t;
		unsigned long x;

		clock_gettime(CLOCK_REALTIME, &t);
		x = (unsigned long)t.tv_nsec ^ ((unsigned long)getpid() << 16) ^
		    ++counter * 2654435761UL;
		for (i = 0; i < n - 1; i++, x = x * 6364136223846793005UL + 1)
			r[i] = (unsigned char)(x >> 33);
	}
	buf[0] = al[r[0] % 26];
	for (i = 1; i < n - 1; i++)
		buf[i] = al[r[i] % 36];
	buf[n - 1] = '\0';
}

int
line_in(const char *text, const char *s)
{
	size_t n = strlen(s);
	const char *p = text;

	if (!n)
		return 0;
	while ((p = strstr(p, s))) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == '\n'))
			return 1;
		p++;
	}
	return 0;
}
