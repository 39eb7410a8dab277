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
