/*
 * ag-handoff - structured handoff documents between roles and sessions.
 *
 *   ag-handoff write SESSION -t TYPE [-f KEY=VALUE]... [--from FILE|-]
 *   ag-handoff read SESSION [-t TYPE] [N | latest] [--json]
 *   ag-handoff list SESSION [--json]
 *
 * write builds the context object from --from (a whole JSON object) and
 * the -f fields on top of it (KEY=@FILE reads the value from a file,
 * KEY=@- from standard input; a list field, or any key given twice,
 * gathers its values in an array), checks the fields its type requires,
 * and writes sessions/SESSION/handoffs/NNNN-TYPE.json, printing its path.
 * The writer is recorded from AG_AGENT_ID and AG_ROLE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "handoff.h"
#include "json.h"
#include "names.h"
#include "project.h"
#include "session.h"

static const char usage_text[] =
    "usage: ag-handoff write SESSION -t TYPE [-f KEY=VALUE]... "
    "[--from FILE|-]\n"
    "       ag-handoff read SESSION [-t TYPE] [N | latest] [--json]\n"
    "       ag-handoff list SESSION [--json]\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

static void
check_type(const char *t)
{
	int i;
	size_t len = 0;
	char known[512];

	if (handoff_required(t))
		return;
	for (i = 0; handoff_types[i]; i++)
		len += (size_t)snprintf(known + len, sizeof known - len, "%s%s",
		    i ? ", " : "", handoff_types[i]);
	ag_diex(AG_EXIT_USAGE, "unknown handoff type '%s' (known: %s)", t,
	    known);
}

/* Read a whole stream; NULL on failure. */
static char *
slurp(FILE *f, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static char *
read_source(const char *src, size_t *len, int *stdin_used)
{
	FILE *f;
	char *buf;

	if (!strcmp(src, "-")) {
		if ((*stdin_used)++)
			ag_diex(AG_EXIT_USAGE, "standard input read twice");
		return slurp(stdin, len);
	}
	if (!(f = fopen(src, "re")))
		return NULL;
	buf = slurp(f, len);
	fclose(f);
	return buf;
}

/* Key is a field name: letters, digits and '_'. */
static int
key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > AG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* Add one value to the context: a list field, or a key met before in
 * this run, gathers an array. */
static jv
ctx_add(jv ctx, const char *key, jv val, char **seen, int nseen)
{
	jv cur = jv_object_get(jv_copy(ctx), jv_string(key));
	int i, again = 0;

	for (i = 0; i < nseen; i++)
		if (!strcmp(seen[i], key))
			again = 1;
	if (handoff_is_list(key) || again) {
		if (jv_get_kind(cur) == JV_KIND_ARRAY)
			cur = jv_array_append(cur, val);
		else if (jv_is_valid(cur) && jv_get_kind(cur) != JV_KIND_NULL)
			cur = jv_array_append(JV_ARRAY(cur), val);
		else {
			jv_free(cur);
			cur = JV_ARRAY(val);
		}
		return jv_object_set(ctx, jv_string(key), cur);
	}
	jv_free(cur);
	return jv_object_set(ctx, jv_string(key), val);
}

static int
empty_value(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		return 1;
	case JV_KIND_STRING:
		return jv_string_length_bytes(jv_copy(v)) == 0;
	case JV_KIND_ARRAY: {
		int i, n = jv_array_length(jv_copy(v)), empty = 1;

		/* -f KEY= gives [""]: no value either. */
		for (i = 0; i < n && empty; i++) {
			jv e = jv_array_get(jv_copy(v), i);

			empty = empty_value(e);
			jv_free(e);
		}
		return empty;
	}
	default:
		return 0;
	}
}

static int
cmd_write(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "field", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = NULL, *from = NULL, *const *req;
	char **fields, **seen, name[AG_NAME_MAX + 1], file[64];
	char missing[1024] = "";
	int nfields = 0, nseen = 0, c, i, stdin_used = 0, lfd, sfd, hfd;
	struct project p;
	size_t len;
	jv ctx;

	if (!(fields = calloc((size_t)argc, sizeof *fields)) ||
	    !(seen = calloc((size_t)argc, sizeof *seen)))
		ag_die(AG_EXIT_FAIL, "cannot allocate");
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:f:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'f':
			if (!strchr(optarg, '='))
				ag_diex(AG_EXIT_USAGE, "bad field '%s': no '=' "
				    "(KEY=VALUE)", optarg);
			if (!key_ok(optarg, (size_t)(strchr(optarg, '=') -
			    optarg)))
				ag_diex(AG_EXIT_USAGE, "bad field key in '%s'",
				    optarg);
			fields[nfields++] = optarg;
			break;
		case 'F': from = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 1 || !type)
		usage();
	if ((name_check(argv[optind])))
		ag_diex(AG_EXIT_USAGE, "bad session '%s': %s", argv[optind],
		    name_check(argv[optind]));
	check_type(type);

	/* Everything is read and checked before anything is written. */
	if (from) {
		char *buf = read_source(from, &len, &stdin_used);

		if (!buf)
			ag_die(AG_EXIT_USAGE, "cannot read %s", from);
		ctx = jv_parse_sized(buf, (int)len);
		free(buf);
		if (!jv_is_valid(ctx)) {
			char why[256];

			ag_diex(AG_EXIT_USAGE, "bad JSON in %s: %s", from,
			    json_error_text(ctx, why, sizeof why));
		}
		if (jv_get_kind(ctx) != JV_KIND_OBJECT)
			ag_diex(AG_EXIT_USAGE, "%s: the context must be a JSON "
			    "object, not %s", from,
			    jv_kind_name(jv_get_kind(ctx)));
	} else {
		ctx = jv_object();
	}
	for (i = 0; i < nfields; i++) {
		char *eq = strchr(fields[i], '='), *val = eq + 1, *buf = NULL;
		jv v;

		*eq = '\0';
		if (*val == '@') {
			if (!(buf = read_source(val + 1, &len, &stdin_used)))
				ag_die(AG_EXIT_USAGE, "cannot read %s", val + 1);
			/* A file's last newline is not part of the value. */
			if (len && buf[len - 1] == '\n')
				buf[--len] = '\0';
			v = jv_string_sized(buf, (int)len);
			free(buf);
		} else {
			v = jv_string(val);
		}
		ctx = ctx_add(ctx, fields[i], v, seen, nseen);
		seen[nseen++] = fields[i];
	}
	req = handoff_required(type);
	for (i = 0; req[i]; i++) {
		jv v = jv_object_get(jv_copy(ctx), jv_string(req[i]));

		if (empty_value(v))
			snprintf(missing + strlen(missing), sizeof missing -
			    strlen(missing), "%s%s", missing[0] ? ", " : "",
			    req[i]);
		jv_free(v);
	}
	if (missing[0])
		ag_diex(AG_EXIT_USAGE, "%s needs the field(s): %s", type,
		    missing);

	project_open_or_die(&p, 0);
	sfd = session_lock_open_or_die(&p, argv[optind], name, &lfd);
	if (mkdirat(sfd, "handoffs", 0755) < 0 && errno != EEXIST)
		ag_die(AG_EXIT_FAIL, "cannot create %s/handoffs", name);
	hfd = openat(sfd, "handoffs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (hfd < 0)
		ag_die(AG_EXIT_FAIL, "cannot open %s/handoffs", name);
	if (handoff_write(hfd, name, type, ctx, getenv("AG_AGENT_ID"),
	    getenv("AG_ROLE"), file) < 0)
		ag_die(AG_EXIT_FAIL, "cannot write a handoff to %s", name);
	if (session_touch(sfd) < 0)
		ag_warn("cannot touch session %s", name);
	close(lfd);
	printf("%s/sessions/%s/handoffs/%s\n", p.path, name, file);
	close(hfd);
	close(sfd);
	project_close(&p);
	free(fields);
	free(seen);
	return 0;
}

/* Open a session's handoffs (live sessions only: an archived one's are
 * in its archive). */
static int
open_handoffs(struct project *p, const char *ref, char *name)
{
	int sfd = session_open_or_die(p, ref, name), hfd;

	hfd = openat(sfd, "handoffs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (hfd < 0 && errno != ENOENT)
		ag_die(AG_EXIT_FAIL, "cannot open %s/handoffs", name);
	close(sfd);
	return hfd;
}

static int
cmd_read(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = NULL;
	char name[AG_NAME_MAX + 1], file[64], *end;
	int c, json = 0, hfd;
	long n = 0;
	struct project p;
	jv doc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage();
	if (type)
		check_type(type);
	if (argc - optind == 2 && strcmp(argv[optind + 1], "latest")) {
		errno = 0;
		n = strtol(argv[optind + 1], &end, 10);
		if (errno || *end || n <= 0)
			ag_diex(AG_EXIT_USAGE, "bad handoff number '%s'",
			    argv[optind + 1]);
	}
	project_open_or_die(&p, 0);
	hfd = open_handoffs(&p, argv[optind], name);
	doc = hfd < 0 ? jv_invalid() : handoff_find(hfd, type, n, file);
	if (!jv_is_valid(doc)) {
		char why[256];

		if (jv_invalid_has_msg(jv_copy(doc)))
			ag_diex(AG_EXIT_FAIL, "cannot read a handoff of %s: %s",
			    name, json_error_text(doc, why, sizeof why));
		jv_free(doc);
		if (n)
			ag_diex(AG_EXIT_USAGE, "session %s has no handoff "
			    "%ld%s%s", name, n, type ? " of type " : "",
			    type ? type : "");
		ag_diex(AG_EXIT_USAGE, "session %s has no handoff%s%s", name,
		    type ? " of type " : "", type ? type : "");
	}
	if (json)
		json_print(doc);
	else {
		handoff_markdown(jv_copy(doc), stdout);
		jv_free(doc);
	}
	close(hfd);
	project_close(&p);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char name[AG_NAME_MAX + 1], **files;
	int c, json = 0, hfd;
	size_t n = 0, i;
	struct project p;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			usage();
		json = 1;
	}
	if (argc - optind != 1)
		usage();
	project_open_or_die(&p, 0);
	hfd = open_handoffs(&p, argv[optind], name);
	if (hfd < 0)
		return 0;
	if (!(files = dir_names(hfd, &n)))
		ag_die(AG_EXIT_FAIL, "cannot read %s/handoffs", name);
	for (i = 0; i < n; i++) {
		jv doc = json_read_at(hfd, files[i]);

		if (jv_get_kind(doc) != JV_KIND_OBJECT) {
			ag_warnx("%s/handoffs/%s: not a JSON object", name,
			    files[i]);
			jv_free(doc);
		} else if (json) {
			json_print(doc);
		} else {
			jv t = jv_object_get(jv_copy(doc), jv_string("type"));
			jv at = jv_object_get(jv_copy(doc),
			    jv_string("created_at"));
			jv ag = jv_object_get(jv_copy(doc),
			    jv_string("agent_id"));

			printf("%.4s %s %s %s\n", files[i],
			    jv_get_kind(t) == JV_KIND_STRING ?
			    jv_string_value(t) : "-",
			    jv_get_kind(at) == JV_KIND_STRING ?
			    jv_string_value(at) : "-",
			    jv_get_kind(ag) == JV_KIND_STRING ?
			    jv_string_value(ag) : "-");
			jv_free(t);
			jv_free(at);
			jv_free(ag);
			jv_free(doc);
		}
	}
	dir_names_free(files);
	close(hfd);
	project_close(&p);
	return 0;
}

int
main(int argc, char **argv)
{
	ag_init(argv[0]);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		ag_exit(0);
	}
	if (!strcmp(argv[1], "write"))
		ag_exit(cmd_write(argc - 1, argv + 1));
	if (!strcmp(argv[1], "read"))
		ag_exit(cmd_read(argc - 1, argv + 1));
	if (!strcmp(argv[1], "list"))
		ag_exit(cmd_list(argc - 1, argv + 1));
	ag_warnx("unknown subcommand '%s'", argv[1]);
	usage();
}
