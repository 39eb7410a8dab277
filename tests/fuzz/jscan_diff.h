/*
 * jscan_diff.h - the differential check of lib/jscan.c against libjq's
 * parser, shared by the unit test (tests/unit/jscan.c, a fixed corpus and
 * seeded mutations) and the fuzz target (tests/fuzz/jscan.c).
 *
 * The property: whatever jscan accepts, jv accepts too, as an object
 * whose members hold the values jscan read (the last of duplicate keys,
 * as jv keeps).  jq 1.6 accepts more than strict JSON ("nan", "01"), so
 * the converse is checked only on texts known to be strict.
 */
#ifndef AG_JSCAN_DIFF_H
#define AG_JSCAN_DIFF_H

#include <math.h>
#include <string.h>

#include <jv.h>

#include "jscan.h"

#define DIFF_MEMBERS 64

struct diff_member {
	char key[64];
	const char *v, *ve;
};

struct diff_members {
	struct diff_member m[DIFF_MEMBERS];
	int n, over;
};

static int
diff_collect(const char *key, const char *v, const char *ve, void *arg)
{
	struct diff_members *d = arg;

	if (d->n == DIFF_MEMBERS) {
		d->over = 1;
		return 0;
	}
	snprintf(d->m[d->n].key, sizeof d->m[d->n].key, "%s", key);
	d->m[d->n].v = v;
	d->m[d->n].ve = ve;
	d->n++;
	return 0;
}

static const char *diff_object(const char *p, const char *end, jv obj,
    int depth);

/* Compare one raw value with jv's; consumes j. */
static const char *
diff_value(const char *v, const char *ve, jv j, int depth)
{
	static char sbuf[1 << 16];
	const char *why = NULL;
	double d;
	int64_t c;

	switch (*v) {
	case '"':
		if (jv_get_kind(j) != JV_KIND_STRING)
			why = "a string jv does not see as one";
		else if (jscan_string(v, ve, sbuf, sizeof sbuf) == 0 &&
		    strcmp(sbuf, jv_string_value(j)))
			why = "a string decoded differently";
		break;
	case '{':
		if (jv_get_kind(j) != JV_KIND_OBJECT)
			why = "an object jv does not see as one";
		else if (depth < 8)
			why = diff_object(v, ve, jv_copy(j), depth + 1);
		break;
	case '[':
		if (jv_get_kind(j) != JV_KIND_ARRAY)
			why = "an array jv does not see as one";
		break;
	case 't':
		if (jv_get_kind(j) != JV_KIND_TRUE)
			why = "true";
		break;
	case 'f':
		if (jv_get_kind(j) != JV_KIND_FALSE)
			why = "false";
		break;
	case 'n':
		if (jv_get_kind(j) != JV_KIND_NULL)
			why = "null";
		break;
	default:
		if (jv_get_kind(j) != JV_KIND_NUMBER)
			why = "a number jv does not see as one";
		else if (jscan_number(v, ve, &d) < 0)
			why = "a number jscan accepted but cannot read";
		else if (d != jv_number_value(j) &&
		    fabs(d - jv_number_value(j)) > 1e-12 * fabs(d))
			why = "a number read differently";
		else if (jscan_count(v, ve, &c) == 0 &&
		    (double)c != jv_number_value(j))
			why = "a count read differently";
		break;
	}
	jv_free(j);
	return why;
}

/* Every member jscan walks, against jv's object; consumes obj. */
static const char *
diff_object(const char *p, const char *end, jv obj, int depth)
{
	struct diff_members d;
	const char *why = NULL;
	int i, k, r;

	d.n = d.over = 0;
	r = jscan_object(p, end, 1, diff_collect, &d);
	if (r != 0)
		why = "a nested object jscan rejects once cut out";
	for (i = 0; !why && !d.over && i < d.n; i++) {
		/* "" stands for keys too long or too odd to decode. */
		if (!d.m[i].key[0])
			continue;
		for (k = i + 1; k < d.n; k++)
			if (!strcmp(d.m[k].key, d.m[i].key))
				break;
		if (k < d.n)
			continue;       /* a later duplicate wins */
		if (!jv_object_has(jv_copy(obj), jv_string(d.m[i].key))) {
			why = "a key jv does not have";
			break;
		}
		why = diff_value(d.m[i].v, d.m[i].ve, jv_object_get(jv_copy(obj),
		    jv_string(d.m[i].key)), depth);
	}
	jv_free(obj);
	return why;
}

/*
 * NULL when jscan and jv agree on the text buf[0..n), else what differs.
 * With strict set, the text is known to be strict JSON, so jscan must
 * accept it whenever jv does.
 */
static const char *
jscan_diff(const char *buf, size_t n, int strict)
{
	const char *why = NULL, *end;
	int r;
	jv j;

	r = jscan_object(buf, buf + n, 1, NULL, NULL);
	end = jscan_value(buf, buf + n);
	j = jv_parse_sized(buf, (int)n);
	if (r == 0) {
		while (end && end < buf + n && strchr(" \t\r\n", *end))
			end++;
		if (end != buf + n)
			why = "jscan_object and jscan_value disagree";
		else if (jv_get_kind(j) != JV_KIND_OBJECT)
			why = "jscan accepts an object jv rejects";
		else
			why = diff_object(buf, buf + n, jv_copy(j), 0);
	} else if (strict && jv_get_kind(j) == JV_KIND_OBJECT) {
		why = "jscan rejects an object jv accepts";
	}
	jv_free(j);
	return why;
}

#endif
