#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "json.h"

jv
json_read_at(int dirfd, const char *name)
{
	size_t len;
	char *buf = read_all_at(dirfd, name, &len);
	jv v;

	if (!buf)
		return jv_invalid_with_msg(jv_string(strerror(errno)));
	v = jv_parse_sized(buf, (int)len);
	free(buf);
	return v;
}

char *
json_line(jv v, size_t *lenp)
{
	jv s = jv_dump_string(v, 0);
	const char *p = jv_string_value(s);
	size_t n = strlen(p);
	char *out = malloc(n + 2);

	if (out) {
		memcpy(out, p, n);
		out[n] = '\n';
		out[n + 1] = '\0';
		if (lenp)
			*lenp = n + 1;
	}
	jv_free(s);
	return out;
}

int
json_write_at(int dirfd, const char *name, jv v, int flags)
{
	size_t len;
	char *line = json_line(v, &len);
	int r;

	if (!line)
		return -1;
	r = atomic_write_at(dirfd, name, line, len, flags);
	free(line);
	return r;
}

void
json_print(jv v)
{
	size_t len;
	char *line = json_line(v, &len);

	if (line) {
		fwrite(line, 1, len, stdout);
		free(line);
	}
}

void
json_warm(void)
{
	static const char doc[] = "{\"type\":\"result\",\"n\":1.5,"
	    "\"ok\":true,\"none\":null,\"a\":[1,\"x\"],\"o\":{\"k\":\"v\"}}";
	jv v = jv_parse_sized(doc, (int)sizeof doc - 1), a, o;
	int i, n;

	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return;
	}
	a = jv_object_get(jv_copy(v), jv_string("a"));
	n = jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_length(jv_copy(a)) : 0;
	for (i = 0; i < n; i++)
		jv_free(jv_array_get(jv_copy(a), i));
	jv_free(a);
	o = jv_object_get(jv_copy(v), jv_string("o"));
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		jv_object_foreach(o, k, e) {
			if (jv_get_kind(e) == JV_KIND_STRING)
				n += (int)strlen(jv_string_value(e));
			jv_free(k);
			jv_free(e);
		}
	}
	jv_free(o);
	o = jv_object_get(jv_copy(v), jv_string("n"));
	if (jv_get_kind(o) == JV_KIND_NUMBER && jv_number_value(o) > 0)
		n += jv_object_length(jv_copy(v));
	jv_free(o);
	a = jv_array_append(jv_array(), jv_string_sized("line", 4));
	v = jv_object_set(v, jv_string("logs"), a);
	v = jv_object_set(v, jv_string("count"), jv_number(n));
	v = jv_object_set(v, jv_string("parent"), jv_null());
	free(json_line(v, NULL));
	jv_free(jv_invalid_with_msg(jv_string("")));
}

const char *
json_error_text(jv v, char *buf, size_t size)
{
	jv m = jv_invalid_get_msg(v);
	const char *t = "invalid", *cut;
	size_t n, i;

	if (jv_get_kind(m) == JV_KIND_STRING)
		t = jv_string_value(m);
	cut = strstr(t, " (while parsing '");
	n = cut ? (size_t)(cut - t) : strlen(t);
	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)t[i] < 0x20 || t[i] == 0x7f ? ' ' : t[i];
	buf[n] = '\0';
	jv_free(m);
	return buf;
}
