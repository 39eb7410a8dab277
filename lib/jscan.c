#include <stdlib.h>
#include <string.h>

#include "jscan.h"

#define DEPTH_MAX 200           /* below jq's own limit */

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *
ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/* 1 for the bytes a string's plain run stops at: '"', '\\', controls. */
static const unsigned char stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned
hex4(const char *p)
{
	return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 |
	    hexval(p[2]) << 4 | hexval(p[3]));
}

static int
hex4_at(const char *p, const char *end)
{
	return end - p >= 4 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0 &&
	    hexval(p[2]) >= 0 && hexval(p[3]) >= 0;
}

/*
 * Whether any of the eight bytes in x is '"', '\\' or below 0x20: the
 * usual word-at-a-time tests for a zero byte (after XOR) and for a byte
 * below n.  It may say yes too often (a borrow past a real hit), never
 * too seldom; the byte loop after it decides.
 */
static int
special8(uint64_t x)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t q = x ^ (lo * '"'), b = x ^ (lo * '\\');

	return (((q - lo) & ~q) | ((b - lo) & ~b) | ((x - lo * 0x20) & ~x)) &
	    hi ? 1 : 0;
}

/* p at the opening quote: past the closing one, or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	p++;
	for (;;) {
		/* Eight bytes at a time while none of them stops the run. */
		while (end - p >= 8) {
			uint64_t x;

			memcpy(&x, p, 8);
			if (special8(x))
				break;
			p += 8;
		}
		while (p < end && !stop[(unsigned char)*p])
			p++;
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (*p != '\\')
			return NULL;    /* a raw control character */
		if (++p >= end)
			return NULL;
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			p++;
			break;
		case 'u':
			if (!hex4_at(p + 1, end))
				return NULL;
			/* A high surrogate must have its low half, as jq
			 * insists too. */
			if (hex4(p + 1) >= 0xd800 && hex4(p + 1) <= 0xdbff) {
				if (end - p < 11 || p[5] != '\\' || p[6] != 'u' ||
				    !hex4_at(p + 7, end) || hex4(p + 7) < 0xdc00 ||
				    hex4(p + 7) > 0xdfff)
					return NULL;
				p += 6;
			}
			p += 5;
			break;
		default:
			return NULL;
		}
	}
}

static int
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *
skip_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end || !digit(*p))
		return NULL;
	if (*p == '0')
		p++;
	else
		while (p < end && digit(*p))
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !digit(*p))
			return NULL;
		while (p < end && digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !digit(*p))
			return NULL;
		while (p < end && digit(*p))
			p++;
	}
	/* A number runs to a delimiter: "12x" is not one. */
	if (p < end && !is_ws(*p) && *p != ',' && *p != '}' && *p != ']')
		return NULL;
	return p;
}

static const char *
skip_literal(const char *p, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - p) < n || memcmp(p, lit, n))
		return NULL;
	p += n;
	if (p < end && !is_ws(*p) && *p != ',' && *p != '}' && *p != ']')
		return NULL;
	return p;
}

/* One scalar, or NULL; p at its first byte. */
static const char *
skip_scalar(const char *p, const char *end)
{
	switch (*p) {
	case '"':
		return skip_string(p, end);
	case 't':
		return skip_literal(p, end, "true", 4);
	case 'f':
		return skip_literal(p, end, "false", 5);
	case 'n':
		return skip_literal(p, end, "null", 4);
	default:
		return skip_number(p, end);
	}
}

const char *
jscan_value(const char *p, const char *end)
{
	char stack[DEPTH_MAX];  /* the closer each open container wants */
	int depth = 0;

	p = ws(p, end);
	if (p >= end)
		return NULL;
	for (;;) {
		/* At the start of a value. */
		if (*p == '{' || *p == '[') {
			if (depth == DEPTH_MAX)
				return NULL;
			stack[depth++] = *p == '{' ? '}' : ']';
			p = ws(p + 1, end);
			if (p >= end)
				return NULL;
			if (*p == stack[depth - 1]) {
				depth--;
				p++;
				goto after;
			}
			if (stack[depth - 1] == '}')
				goto key;
			continue;
		}
		if (!(p = skip_scalar(p, end)))
			return NULL;
after:
		/* After a value: a comma, a closer, or the end. */
		for (;;) {
			if (depth == 0)
				return p;
			p = ws(p, end);
			if (p >= end)
				return NULL;
			if (*p == stack[depth - 1]) {
				depth--;
				p++;
				continue;
			}
			if (*p != ',')
				return NULL;
			p = ws(p + 1, end);
			if (p >= end)
				return NULL;
			if (stack[depth - 1] == '}')
				goto key;
			break;
		}
		continue;
key:
		if (*p != '"' || !(p = skip_string(p, end)))
			return NULL;
		p = ws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		p = ws(p + 1, end);
		if (p >= end)
			return NULL;
	}
}

/* Append code point c as UTF-8; -1 when it does not fit. */
static int
put_utf8(char *buf, size_t cap, size_t *n, unsigned c)
{
	char t[4];
	size_t k;

	if (c < 0x80) {
		t[0] = (char)c;
		k = 1;
	} else if (c < 0x800) {
		t[0] = (char)(0xc0 | c >> 6);
		t[1] = (char)(0x80 | (c & 0x3f));
		k = 2;
	} else if (c < 0x10000) {
		t[0] = (char)(0xe0 | c >> 12);
		t[1] = (char)(0x80 | (c >> 6 & 0x3f));
		t[2] = (char)(0x80 | (c & 0x3f));
		k = 3;
	} else {
		t[0] = (char)(0xf0 | c >> 18);
		t[1] = (char)(0x80 | (c >> 12 & 0x3f));
		t[2] = (char)(0x80 | (c >> 6 & 0x3f));
		t[3] = (char)(0x80 | (c & 0x3f));
		k = 4;
	}
	if (*n + k >= cap)
		return -1;
	memcpy(buf + *n, t, k);
	*n += k;
	return 0;
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], min, cp;
	size_t k, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/*
 * Decode a well-formed string (v at its quote).  Invalid UTF-8, a lone
 * surrogate or a NUL gives -1: libjq would replace or keep what a C
 * string cannot, so such a value is never reported as equal to anything.
 */
int
jscan_string(const char *v, const char *vend, char *buf, size_t cap)
{
	const char *p, *end;
	size_t n = 0, k;

	if (cap == 0 || v >= vend || *v != '"' || !(end = skip_string(v, vend)))
		return -1;
	end--;                  /* the closing quote */
	for (p = v + 1; p < end; ) {
		if (*p != '\\') {
			if (!(k = utf8_len((const unsigned char *)p,
			    (const unsigned char *)end)) || n + k >= cap)
				return -1;
			memcpy(buf + n, p, k);
			n += k;
			p += k;
			continue;
		}
		p++;
		switch (*p++) {
		case '"': buf[n++] = '"'; break;
		case '\\': buf[n++] = '\\'; break;
		case '/': buf[n++] = '/'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'r': buf[n++] = '\r'; break;
		case 't': buf[n++] = '\t'; break;
		default: {      /* 'u': skip_string checked the four digits */
			unsigned c = hex4(p);

			p += 4;
			if (c >= 0xdc00 && c <= 0xdfff)
				return -1;
			if (c >= 0xd800 && c <= 0xdbff) {
				unsigned lo;

				if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
					return -1;
				lo = hex4(p + 2);
				if (lo < 0xdc00 || lo > 0xdfff)
					return -1;
				p += 6;
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (c == 0 || put_utf8(buf, cap, &n, c) < 0)
				return -1;
			continue;
		}
		}
		if (n >= cap)
			return -1;
	}
	if (n >= cap)
		return -1;
	buf[n] = '\0';
	return 0;
}

int
jscan_count(const char *v, const char *vend, int64_t *out)
{
	int64_t x = 0;
	const char *p = v;

	if (p >= vend || !digit(*p) || (*p == '0' && vend - p > 1 &&
	    digit(p[1])))
		return -1;
	while (p < vend && digit(*p)) {
		x = x * 10 + (*p++ - '0');
		if (x >= (INT64_C(1) << 53))
			return -1;
	}
	if (p != vend)
		return -1;
	*out = x;
	return 0;
}

int
jscan_number(const char *v, const char *vend, double *out)
{
	char small[64], *buf = small, *e;
	size_t n = (size_t)(vend - v);
	int r;

	if (skip_number(v, vend) != vend)
		return -1;
	if (n >= sizeof small && !(buf = malloc(n + 1)))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	*out = strtod(buf, &e);
	r = *e ? -1 : 0;
	if (buf != small)
		free(buf);
	return r;
}

int
jscan_is_null(const char *v, const char *vend)
{
	return vend - v == 4 && !memcmp(v, "null", 4);
}

static int
plain(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == '\\' || (unsigned char)*p >= 0x80)
			return 0;
	return 1;
}

int
jscan_object(const char *p, const char *end, int whole, jscan_fn fn,
    void *arg)
{
	char key[64];

	p = ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = ws(p + 1, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		const char *k = p, *ke, *v, *ve;

		if (p >= end || *p != '"' || !(ke = skip_string(p, end)))
			return -1;
		/* Plain ASCII keys compare as they stand; the others decode
		 * (invalid UTF-8 gives "", as it matches nothing wanted). */
		if (ke - k - 2 < (long)sizeof key && plain(k + 1, ke - 1)) {
			memcpy(key, k + 1, (size_t)(ke - k - 2));
			key[ke - k - 2] = '\0';
		} else if (jscan_string(k, ke, key, sizeof key) < 0) {
			key[0] = '\0';
		}
		p = ws(ke, end);
		if (p >= end || *p != ':')
			return -1;
		v = ws(p + 1, end);
		if (!(ve = jscan_value(v, end)))
			return -1;
		if (fn && fn(key, v, ve, arg))
			return 1;
		p = ws(ve, end);
		if (p >= end)
			return -1;
		if (*p == '}') {
			p++;
			break;
		}
		if (*p != ',')
			return -1;
		p = ws(p + 1, end);
	}
done:
	if (whole && ws(p, end) != end)
		return -1;
	return 0;
}
