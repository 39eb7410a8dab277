#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"
#include "handoff.h"

const char *const handoff_types[] = {
	"orchestrator_to_supervisor", "supervisor_to_workagent",
	"workagent_completion", "supervisor_to_orchestrator",
	"supervisor_continuation", "orchestrator_continuation", NULL,
};

static const char *const req_o2s[] = { "objective", "success_criteria", NULL };
static const char *const req_s2w[] = { "objective", "work_assignment", NULL };
static const char *const req_wc[] = { "work_completed", NULL };
static const char *const req_s2o[] = { "feature", "status", NULL };
static const char *const req_cont[] = { "work_completed", "next_steps", NULL };

static const char *const *const required[] = {
	req_o2s, req_s2w, req_wc, req_s2o, req_cont, req_cont,
};

/* Rendering order of the fields every type may carry. */
static const char *const known_fields[] = {
	"objective", "feature", "status", "current_phase", "work_assignment",
	"success_criteria", "requirements", "files_to_modify",
	"work_completed", "next_steps", "blockers", "metrics", NULL,
};

static const char *const list_fields[] = {
	"success_criteria", "requirements", "files_to_modify",
	"work_completed", "next_steps", "blockers", NULL,
};

const char *const *
handoff_required(const char *type)
{
	int i;

	for (i = 0; handoff_types[i]; i++)
		if (!strcmp(type, handoff_types[i]))
			return required[i];
	return NULL;
}

int
handoff_is_list(const char *key)
{
	int i;

	for (i = 0; list_fields[i]; i++)
		if (!strcmp(key, list_fields[i]))
			return 1;
	return 0;
}

/* The number of a handoff file name, or 0 when it is not one. */
static long
file_number(const char *name)
{
	char *end;
	long n;

	if (name[0] < '0' || name[0] > '9')
		return 0;
	n = strtol(name, &end, 10);
	return *end == '-' && n > 0 ? n : 0;
}

static long
last_number(int hfd)
{
	struct dirent *de;
	long max = 0, n;
	int fd = dup(hfd);
	DIR *d;

	if (fd < 0)
		return -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if ((n = file_number(de->d_name)) > max)
			max = n;
	closedir(d);
	return max;
}

static jv
str_or_null(const char *s)
{
	return s && *s ? jv_string(s) : jv_null();
}

int
handoff_write(int hfd, const char *session, const char *type, jv ctx,
    const char *agent, const char *role, char *file)
{
	char ts[AG_TS_LEN];
	long n = last_number(hfd);
	jv doc;

	if (n < 0) {
		jv_free(ctx);
		return -1;
	}
	n++;
	ts_format(clock_wall_ms(), ts);
	doc = jv_object();
	doc = jv_object_set(doc, jv_string("number"), jv_number((double)n));
	doc = jv_object_set(doc, jv_string("type"), jv_string(type));
	doc = jv_object_set(doc, jv_string("session"), jv_string(session));
	doc = jv_object_set(doc, jv_string("created_at"), jv_string(ts));
	doc = jv_object_set(doc, jv_string("agent_id"), str_or_null(agent));
	doc = jv_object_set(doc, jv_string("role"), str_or_null(role));
	doc = jv_object_set(doc, jv_string("context"), ctx);
	snprintf(file, 64, "%04ld-%s.json", n, type);
	/* A handoff is a checkpoint a fresh agent resumes from: durable. */
	if (json_write_at(hfd, file, doc, AF_FSYNC) < 0)
		return -1;
	return (int)n;
}

jv
handoff_find(int hfd, const char *type, long want, char *file)
{
	struct dirent *de;
	char best[256] = "";
	long bestn = 0, n;
	int fd = dup(hfd);
	DIR *d;

	if (fd < 0)
		return jv_invalid_with_msg(jv_string(strerror(errno)));
	if (!(d = fdopendir(fd))) {
		close(fd);
		return jv_invalid_with_msg(jv_string(strerror(errno)));
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		const char *t;
		size_t tl;

		if (!(n = file_number(de->d_name)))
			continue;
		t = strchr(de->d_name, '-') + 1;
		tl = strlen(t);
		if (tl < 6 || strcmp(t + tl - 5, ".json"))
			continue;
		if (type && (strlen(type) != tl - 5 ||
		    strncmp(t, type, tl - 5)))
			continue;
		if (want ? n == want : n > bestn) {
			bestn = n;
			snprintf(best, sizeof best, "%s", de->d_name);
		}
	}
	closedir(d);
	if (!best[0]) {
		errno = ENOENT;
		return jv_invalid();
	}
	snprintf(file, 64, "%s", best);
	return json_read_at(hfd, best);
}

/* "work_completed" -> "Work completed" */
static void
heading(const char *key, FILE *out)
{
	const char *c;

	fputs("## ", out);
	for (c = key; *c; c++) {
		int ch = *c == '_' ? ' ' : *c;

		if (c == key && ch >= 'a' && ch <= 'z')
			ch -= 'a' - 'A';
		fputc(ch, out);
	}
	fputs("\n\n", out);
}

/* indent: continuation lines of a list item are indented under it. */
static void
value_text(jv v, FILE *out, int indent)
{
	if (jv_get_kind(v) == JV_KIND_STRING) {
		const char *c;

		for (c = jv_string_value(v); *c; c++) {
			fputc(*c, out);
			if (*c == '\n' && indent && c[1])
				fputs("  ", out);
		}
	} else {
		jv s = jv_dump_string(jv_copy(v), 0);

		fputs(jv_string_value(s), out);
		jv_free(s);
	}
}

/* Consumes v. */
static void
field(const char *key, jv v, FILE *out)
{
	heading(key, out);
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		int i, n = jv_array_length(jv_copy(v));

		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(v), i);

			fputs("- ", out);
			value_text(e, out, 1);
			fputc('\n', out);
			jv_free(e);
		}
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, e) {
			fprintf(out, "- %s: ", jv_string_value(k));
			value_text(e, out, 1);
			fputc('\n', out);
			jv_free(k);
			jv_free(e);
		}
	} else {
		value_text(v, out, 0);
		fputc('\n', out);
	}
	fputc('\n', out);
	jv_free(v);
}

static jv
get_str(jv doc, const char *key)
{
	jv v = jv_object_get(jv_copy(doc), jv_string(key));

	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return jv_string("");
	}
	return v;
}

void
handoff_markdown(jv doc, FILE *out)
{
	jv type = get_str(doc, "type"), session = get_str(doc, "session");
	jv created = get_str(doc, "created_at"), agent = get_str(doc,
	    "agent_id"), role = get_str(doc, "role");
	jv num = jv_object_get(jv_copy(doc), jv_string("number"));
	jv ctx = jv_object_get(jv_copy(doc), jv_string("context")), keys;
	int i, n;

	fprintf(out, "# Handoff %04d: %s\n\n", jv_get_kind(num) ==
	    JV_KIND_NUMBER ? (int)jv_number_value(num) : 0,
	    jv_string_value(type));
	fprintf(out, "- Session: %s\n- Created: %s\n", jv_string_value(session),
	    jv_string_value(created));
	if (*jv_string_value(agent) || *jv_string_value(role))
		fprintf(out, "- From: %s%s%s%s\n", *jv_string_value(agent) ?
		    jv_string_value(agent) : "-", *jv_string_value(role) ?
		    " (" : "", jv_string_value(role),
		    *jv_string_value(role) ? ")" : "");
	fputc('\n', out);
	if (jv_get_kind(ctx) == JV_KIND_OBJECT) {
		for (i = 0; known_fields[i]; i++) {
			jv v = jv_object_get(jv_copy(ctx),
			    jv_string(known_fields[i]));

			if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL)
				field(known_fields[i], jv_copy(v), out);
			jv_free(v);
		}
		/* Then the others, in key order. */
		keys = jv_keys(jv_copy(ctx));
		n = jv_array_length(jv_copy(keys));
		for (i = 0; i < n; i++) {
			jv k = jv_array_get(jv_copy(keys), i);
			const char *ks = jv_string_value(k);
			int j, known = 0;

			for (j = 0; known_fields[j]; j++)
				if (!strcmp(ks, known_fields[j]))
					known = 1;
			if (!known) {
				jv v = jv_object_get(jv_copy(ctx), jv_copy(k));

				field(ks, v, out);
			}
			jv_free(k);
		}
		jv_free(keys);
	}
	jv_free(ctx);
	jv_free(num);
	jv_free(type);
	jv_free(session);
	jv_free(created);
	jv_free(agent);
	jv_free(role);
	jv_free(doc);
}
