/*
 * ag-session - named sessions: work that outlives one agent's context.
 *
 *   ag-session start [-r ROLE] [-p PROJECT] [--tag T]... [NAME]
 *   ag-session name ID NAME [--tag T]...
 *   ag-session tag NAME [+T | -T]...
 *   ag-session show NAME [--json]
 *   ag-session list [--status S] [--tag T]... [--stale DUR] [--json]
 *   ag-session pause NAME [--reason TEXT]
 *   ag-session resume NAME
 *   ag-session end NAME [--reason completed|interrupted|exit]
 *   ag-session archive NAME
 *   ag-session restore NAME
 *
 * A session is the directory .project/sessions/NAME/ (see session.h).
 * Every change is made under the sessions lock; the allowed state changes
 * are SPEC 4's, and any other exits 2 naming the current state.  archive
 * and restore run the helper ag-session-archive, the only program that
 * links libarchive.
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

#include "agent.h"
#include "billing.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "handoff.h"
#include "json.h"
#include "names.h"
#include "par.h"
#include "project.h"
#include "session.h"

static const char usage_text[] =
    "usage: ag-session start [-r ROLE] [-p PROJECT] [--tag T]... [NAME]\n"
    "       ag-session name ID NAME [--tag T]...\n"
    "       ag-session tag NAME [+T | -T]...\n"
    "       ag-session show NAME [--json]\n"
    "       ag-session list [--status S] [--tag T]... [--stale DUR] [--json]\n"
    "       ag-session pause NAME [--reason TEXT]\n"
    "       ag-session resume NAME\n"
    "       ag-session end NAME [--reason completed|interrupted|exit]\n"
    "       ag-session archive NAME\n"
    "       ag-session restore NAME\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

/* Options shared by the subcommands; each takes the ones it documents. */
struct opts {
	const char *role, *project, *status, *reason;
	const char **tags;
	int ntags;
	int64_t stale_ms;
	int json, has_stale;
	char **args;            /* the operands */
	int nargs;
};

enum { OPT_TAG = 256, OPT_JSON, OPT_STATUS, OPT_STALE, OPT_REASON };

static void
parse(int argc, char **argv, const char *allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "project", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "stale", required_argument, NULL, OPT_STALE },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *r;
	int c;

	memset(o, 0, sizeof *o);
	if (!(o->tags = calloc((size_t)argc + 1, sizeof *o->tags)))
		ag_die(AG_EXIT_FAIL, "cannot allocate");
	/* For tag, "+" keeps getopt from permuting: "tag NAME -T" takes -T
	 * as an operand. */
	optind = 1;
	while ((c = getopt_long(argc, argv, strcmp(allowed, "tag") ?
	    "r:p:h" : "+h", longopts, NULL)) != -1) {
		char key[16];

		switch (c) {
		case 'r': snprintf(key, sizeof key, "-r"); break;
		case 'p': snprintf(key, sizeof key, "-p"); break;
		case OPT_TAG: snprintf(key, sizeof key, "--tag"); break;
		case OPT_JSON: snprintf(key, sizeof key, "--json"); break;
		case OPT_STATUS: snprintf(key, sizeof key, "--status"); break;
		case OPT_STALE: snprintf(key, sizeof key, "--stale"); break;
		case OPT_REASON: snprintf(key, sizeof key, "--reason"); break;
		case 'h':
			fputs(usage_text, stdout);
			ag_exit(0);
		default:
			usage();
		}
		if (!strstr(allowed, key)) {
			ag_warnx("%s: %s takes no %s option", argv[0], argv[0],
			    key);
			usage();
		}
		switch (c) {
		case 'r':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad role '%s': %s",
				    optarg, r);
			o->role = optarg;
			break;
		case 'p':
			if (!*optarg || strchr(optarg, '\n'))
				ag_diex(AG_EXIT_USAGE, "bad project '%s'",
				    optarg);
			o->project = optarg;
			break;
		case OPT_TAG:
			if ((r = tag_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad tag '%s': %s",
				    optarg, r);
			o->tags[o->ntags++] = optarg;
			break;
		case OPT_JSON: o->json = 1; break;
		case OPT_STATUS:
			if (session_state_parse(optarg) == SS_UNKNOWN)
				ag_diex(AG_EXIT_USAGE, "bad status '%s': not "
				    "active, paused, completed or archived",
				    optarg);
			o->status = optarg;
			break;
		case OPT_STALE:
			if (duration_parse(optarg, &o->stale_ms) < 0)
				ag_diex(AG_EXIT_USAGE, "bad duration '%s'",
				    optarg);
			o->has_stale = 1;
			break;
		case OPT_REASON:
			if (strchr(optarg, '\n'))
				ag_diex(AG_EXIT_USAGE, "bad reason: contains "
				    "a newline");
			o->reason = optarg;
			break;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
}

static void
need_args(const struct opts *o, int min, int max)
{
	if (o->nargs < min || o->nargs > max)
		usage();
}

static void
check_name(const char *what, const char *s)
{
	const char *r = name_check(s);

	if (r)
		ag_diex(AG_EXIT_USAGE, "bad %s '%s': %s", what, s, r);
}

/* Is a name free: no live session, no archived one? */
static int
name_taken(struct project *p, const char *name)
{
	char other[AG_NAME_MAX + 1];
	int fd = session_open(p, name, other);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return session_archived(p, name, other);
}

/* Write the tags file: unique, in the given order. */
static int
write_tags(int sfd, jv tags, int create)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i, n = jv_array_length(jv_copy(tags)), r;

	if (!f) {
		jv_free(tags);
		return -1;
	}
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tags), i);

		fprintf(f, "%s\n", jv_string_value(t));
		jv_free(t);
	}
	jv_free(tags);
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	r = create ? create_file_at(sfd, "tags", buf, len, 0) :
	    atomic_write_at(sfd, "tags", buf, len, 0);
	free(buf);
	return r;
}

static int
has_tag(jv tags, const char *t)
{
	int i, n = jv_array_length(jv_copy(tags)), found = 0;

	for (i = 0; i < n && !found; i++) {
		jv e = jv_array_get(jv_copy(tags), i);

		found = !strcmp(jv_string_value(e), t);
		jv_free(e);
	}
	return found;
}

static jv
add_tags(jv tags, const struct opts *o)
{
	int i;

	for (i = 0; i < o->ntags; i++)
		if (!has_tag(tags, o->tags[i]))
			tags = jv_array_append(tags, jv_string(o->tags[i]));
	return tags;
}

/* The project's name: the directory that holds .project. */
static void
project_name(struct project *p, char *buf, size_t cap)
{
	char tmp[PATH_MAX], *slash;

	snprintf(tmp, sizeof tmp, "%s", p->path);
	if ((slash = strrchr(tmp, '/')))
		*slash = '\0';
	slash = strrchr(tmp, '/');
	snprintf(buf, cap, "%s", slash && slash[1] ? slash + 1 : "/");
}

static int
cmd_start(struct project *p, struct opts *o)
{
	char name[AG_NAME_MAX + 1], id[AG_NAME_MAX + 1], tmp[32], rnd[11];
	char ts[AG_TS_LEN], proj[NAME_MAX + 1];
	const char *role;
	int lfd, dfd, sfd;

	need_args(o, 0, 1);
	if (o->nargs)
		check_name("session name", o->args[0]);
	role = o->role ? o->role : getenv("AG_ROLE");
	if (!role || name_check(role))
		role = "orchestrator";
	project_open_or_die(p, PROJ_CREATE);
	if (o->project)
		snprintf(proj, sizeof proj, "%s", o->project);
	else
		project_name(p, proj, sizeof proj);
	if ((lfd = session_lock(p, PROJ_CREATE)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot lock the sessions");
	session_new_id(id);
	snprintf(name, sizeof name, "%s", o->nargs ? o->args[0] : id);
	if (name_taken(p, name))
		ag_diex(AG_EXIT_USAGE, "session '%s' already exists", name);
	if ((dfd = sessions_dir(p, PROJ_CREATE)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot open %s/sessions", p->path);
	random_name(rnd, sizeof rnd);
	snprintf(tmp, sizeof tmp, ".tmp-%s", rnd);
	if (mkdirat(dfd, tmp, 0755) < 0 ||
	    (sfd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot create a session directory");
	ts_format(clock_wall_ms(), ts);
	if (create_puts_at(sfd, "state", "active") < 0 ||
	    create_puts_at(sfd, "id", id) < 0 ||
	    create_puts_at(sfd, "role", role) < 0 ||
	    create_puts_at(sfd, "project", proj) < 0 ||
	    create_puts_at(sfd, "created", ts) < 0 ||
	    create_puts_at(sfd, "last_activity", ts) < 0 ||
	    write_tags(sfd, add_tags(jv_array(), o), 1) < 0 ||
	    mkdirat(sfd, "handoffs", 0755) < 0 ||
	    renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) < 0) {
		int e = errno;

		rm_rf_at(dfd, tmp);
		errno = e;
		ag_die(AG_EXIT_FAIL, "cannot create session %s", name);
	}
	fsync_fd(dfd);
	close(sfd);
	close(dfd);
	close(lfd);
	printf("%s\n", name);
	return 0;
}

/* After a rename, the agents that named the session by its old name
 * (which is one of its aliases now) follow it. */
static void
rename_in_agents(struct project *p, int sfd, const char *old, const char *new)
{
	jv ids = session_agent_ids(p, sfd, new);
	int i, n = jv_array_length(jv_copy(ids));

	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);
		char s[AG_NAME_MAX + 2];
		int afd = agent_open(p, jv_string_value(id));

		if (afd >= 0 && read_line_at(afd, "session", s, sizeof s) == 0 &&
		    !strcmp(s, old) && atomic_puts_at(afd, "session", new, 0) < 0)
			ag_warn("cannot rename the session of agent %s",
			    jv_string_value(id));
		if (afd >= 0)
			close(afd);
		jv_free(id);
	}
	jv_free(ids);
}

static int
cmd_name(struct project *p, struct opts *o)
{
	char old[AG_NAME_MAX + 1], id[AG_NAME_MAX + 2];
	const char *new;
	int lfd, sfd, dfd;

	need_args(o, 2, 2);
	new = o->args[1];
	check_name("session name", new);
	sfd = session_lock_open_or_die(p, o->args[0], old, &lfd);
	if (strcmp(old, new)) {
		if (name_taken(p, new))
			ag_diex(AG_EXIT_USAGE, "session '%s' already exists",
			    new);
		if ((dfd = sessions_dir(p, 0)) < 0)
			ag_die(AG_EXIT_FAIL, "cannot open the sessions");
		if (renameat2(dfd, old, dfd, new, RENAME_NOREPLACE) < 0)
			ag_die(AG_EXIT_FAIL, "cannot rename session %s", old);
		fsync_fd(dfd);
		close(dfd);
		/* Usage billed under the old name still counts as this
		 * session's at its end. */
		if (read_line_at(sfd, "id", id, sizeof id) < 0 ||
		    strcmp(id, old)) {
			char line[AG_NAME_MAX + 2];

			snprintf(line, sizeof line, "%s\n", old);
			if (append_locked_at(sfd, "aliases", line,
			    strlen(line), 0) < 0)
				ag_warn("cannot record the old name %s", old);
		}
		rename_in_agents(p, sfd, old, new);
	}
	if (o->ntags && write_tags(sfd, add_tags(session_tags(sfd), o),
	    0) < 0)
		ag_die(AG_EXIT_FAIL, "cannot write the tags of %s", new);
	if (session_touch(sfd) < 0)
		ag_die(AG_EXIT_FAIL, "cannot touch session %s", new);
	close(sfd);
	close(lfd);
	printf("%s\n", new);
	return 0;
}

static int
cmd_tag(struct project *p, struct opts *o)
{
	char name[AG_NAME_MAX + 1];
	int lfd, sfd, i;
	jv tags, out;

	need_args(o, 1, INT_MAX);
	for (i = 1; i < o->nargs; i++) {
		const char *t = o->args[i], *r;

		if (*t == '+' || *t == '-')
			t++;
		if ((r = tag_check(t)))
			ag_diex(AG_EXIT_USAGE, "bad tag '%s': %s", o->args[i],
			    r);
	}
	sfd = session_lock_open_or_die(p, o->args[0], name, &lfd);
	tags = session_tags(sfd);
	for (i = 1; i < o->nargs; i++) {
		const char *t = o->args[i];
		int j, n;

		if (*t == '-') {
			out = jv_array();
			n = jv_array_length(jv_copy(tags));
			for (j = 0; j < n; j++) {
				jv e = jv_array_get(jv_copy(tags), j);

				if (strcmp(jv_string_value(e), t + 1))
					out = jv_array_append(out, e);
				else
					jv_free(e);
			}
			jv_free(tags);
			tags = out;
		} else {
			if (*t == '+')
				t++;
			if (!has_tag(tags, t))
				tags = jv_array_append(tags, jv_string(t));
		}
	}
	/* With no change asked for, print the tags. */
	if (o->nargs == 1) {
		int n = jv_array_length(jv_copy(tags));

		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(tags), i);

			printf("%s\n", jv_string_value(e));
			jv_free(e);
		}
		jv_free(tags);
	} else if (write_tags(sfd, tags, 0) < 0 || session_touch(sfd) < 0) {
		ag_die(AG_EXIT_FAIL, "cannot write the tags of %s", name);
	}
	close(sfd);
	close(lfd);
	return 0;
}

/* The summary of an archived session, from archive/NAME.json. */
static jv
archived_info(struct project *p, const char *name)
{
	char file[AG_NAME_MAX + 8];
	int afd = project_subdir(p, "archive", 0);
	jv v;

	if (afd < 0)
		return jv_invalid();
	snprintf(file, sizeof file, "%s.json", name);
	v = json_read_at(afd, file);
	close(afd);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		/* An archive without its summary: say what is known. */
		v = jv_object();
		v = jv_object_set(v, jv_string("name"), jv_string(name));
	}
	v = jv_object_set(v, jv_string("state"), jv_string("archived"));
	/* ag-cost import's (the agents' runs), not the session's story. */
	return jv_object_delete(v, jv_string("agent_runs"));
}

static void
print_field(jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));

	printf("%s: ", key);
	if (jv_get_kind(v) == JV_KIND_STRING) {
		printf("%s\n", jv_string_value(v));
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		int i, n = jv_array_length(jv_copy(v));

		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(v), i);

			printf("%s%s", i ? "," : "", jv_string_value(e));
			jv_free(e);
		}
		printf("\n");
	} else if (jv_get_kind(v) == JV_KIND_NUMBER) {
		printf("%d\n", (int)jv_number_value(v));
	} else {
		printf("-\n");
	}
	jv_free(v);
}

static int
cmd_show(struct project *p, struct opts *o)
{
	static const char *const keys[] = { "name", "id", "state", "role",
	    "project", "created", "last_activity", "tags", "handoffs",
	    "latest_handoff", "reason", NULL };
	char name[AG_NAME_MAX + 1];
	int sfd, i;
	jv info;

	need_args(o, 1, 1);
	check_name("session", o->args[0]);
	sfd = session_open(p, o->args[0], name);
	if (sfd >= 0) {
		info = session_info(sfd, name);
		close(sfd);
	} else if (errno == ENOENT && session_archived(p, o->args[0], name)) {
		info = archived_info(p, name);
	} else if (errno == ENOENT) {
		ag_diex(AG_EXIT_USAGE, "unknown session '%s'", o->args[0]);
	} else {
		ag_die(AG_EXIT_FAIL, "cannot open session %s", o->args[0]);
	}
	if (o->json) {
		json_print(info);
		return 0;
	}
	for (i = 0; keys[i]; i++)
		print_field(info, keys[i]);
	jv_free(info);
	return 0;
}

struct listing {
	const struct opts *o;
	int64_t now;
	jv rows;                /* array of info objects */
	/* Live sessions, read on every core: names, and a result each. */
	int dfd;
	char **names;
	jv *found;              /* info, or jv_invalid() when filtered out */
	size_t n;
};

/* One live session: the cheap filters first, each reading one file. */
static jv
list_one(const struct listing *l, int sfd, const char *name)
{
	const struct opts *o = l->o;
	char buf[64];
	int64_t last;
	int i;

	if (o->ntags) {
		jv tags = session_tags(sfd);
		int all = 1;

		for (i = 0; i < o->ntags && all; i++)
			all = has_tag(tags, o->tags[i]);
		jv_free(tags);
		if (!all)
			return jv_invalid();
	}
	if (o->status && (read_line_at(sfd, "state", buf, sizeof buf) < 0 ||
	    strcmp(buf, o->status)))
		return jv_invalid();
	if (o->has_stale && (read_line_at(sfd, "last_activity", buf,
	    sizeof buf) < 0 || ts_parse(buf, &last) < 0 ||
	    l->now - last < o->stale_ms))
		return jv_invalid();
	return session_info(sfd, name);
}

static void
list_worker(size_t i, void *arg)
{
	struct listing *l = arg;
	int sfd = openat(l->dfd, l->names[i], O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);

	l->found[i] = sfd < 0 ? jv_invalid() : list_one(l, sfd, l->names[i]);
	if (sfd >= 0)
		close(sfd);
}

/* Thousands of sessions are thousands of small reads: spread them over
 * the cores, as ag-ps does. */
static void
list_live(struct listing *l, int dfd)
{
	size_t i;

	l->dfd = dfd;
	if (!(l->names = dir_names(dfd, &l->n)))
		ag_die(AG_EXIT_FAIL, "cannot read the sessions");
	if (l->n && !(l->found = calloc(l->n, sizeof *l->found)))
		ag_die(AG_EXIT_FAIL, "cannot allocate");
	par_each(l->n, 64, list_worker, l);
	for (i = 0; i < l->n; i++) {
		if (jv_is_valid(l->found[i]))
			l->rows = jv_array_append(l->rows, l->found[i]);
		else
			jv_free(l->found[i]);
	}
	dir_names_free(l->names);
	free(l->found);
}

/* An archived session passes the same filters on its summary. */
static void
list_archived(struct listing *l, jv info)
{
	const struct opts *o = l->o;
	jv tags, last;
	int64_t t;
	int i, all = 1;

	tags = jv_object_get(jv_copy(info), jv_string("tags"));
	if (jv_get_kind(tags) != JV_KIND_ARRAY) {
		jv_free(tags);
		tags = jv_array();
	}
	for (i = 0; i < o->ntags && all; i++)
		all = has_tag(tags, o->tags[i]);
	jv_free(tags);
	if (!all || (o->status && strcmp(o->status, "archived"))) {
		jv_free(info);
		return;
	}
	if (o->has_stale) {
		last = jv_object_get(jv_copy(info), jv_string("last_activity"));
		if (jv_get_kind(last) != JV_KIND_STRING ||
		    ts_parse(jv_string_value(last), &t) < 0 ||
		    l->now - t < o->stale_ms) {
			jv_free(last);
			jv_free(info);
			return;
		}
		jv_free(last);
	}
	l->rows = jv_array_append(l->rows, info);
}

static int
cmp_rows(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static jv
get_s(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));

	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return jv_string("-");
	}
	return v;
}

static int
cmd_list(struct project *p, struct opts *o)
{
	struct listing l = { .o = o, .now = clock_wall_ms(),
	    .rows = jv_array() };
	struct dirent *de;
	char **lines = NULL;
	int dfd, i, n;
	DIR *d;

	need_args(o, 0, 0);
	if ((!o->status || strcmp(o->status, "archived")) &&
	    (dfd = sessions_dir(p, 0)) >= 0) {
		list_live(&l, dfd);
		close(dfd);
	}
	if ((!o->status || !strcmp(o->status, "archived")) &&
	    (dfd = project_subdir(p, "archive", 0)) >= 0) {
		if (!(d = fdopendir(dfd)))
			ag_die(AG_EXIT_FAIL, "cannot read the archive");
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			char name[AG_NAME_MAX + 8];

			if (de->d_name[0] == '.' || len < 8 ||
			    strcmp(de->d_name + len - 7, ".tar.gz") ||
			    len - 7 > AG_NAME_MAX)
				continue;
			snprintf(name, sizeof name, "%.*s", (int)(len - 7),
			    de->d_name);
			list_archived(&l, archived_info(p, name));
		}
		closedir(d);
	}
	/* Lines sort by name, which each starts with. */
	n = jv_array_length(jv_copy(l.rows));
	if (n && !(lines = calloc((size_t)n, sizeof *lines)))
		ag_die(AG_EXIT_FAIL, "cannot allocate");
	for (i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(l.rows), i);
		size_t len;

		if (o->json) {
			jv nm = get_s(r, "name");
			char *js = json_line(r, &len);

			if (!js || asprintf(&lines[i], "%s\t%s",
			    jv_string_value(nm), js) < 0)
				ag_die(AG_EXIT_FAIL, "cannot allocate");
			free(js);
			jv_free(nm);
		} else {
			jv nm = get_s(r, "name"), st = get_s(r, "state");
			jv role = get_s(r, "role"), la = get_s(r,
			    "last_activity");
			jv tags = jv_object_get(jv_copy(r), jv_string("tags"));
			jv joined = jv_string("");
			int j, k = jv_get_kind(tags) == JV_KIND_ARRAY ?
			    jv_array_length(jv_copy(tags)) : 0;

			for (j = 0; j < k; j++) {
				jv e = jv_array_get(jv_copy(tags), j);

				if (j)
					joined = jv_string_append_str(joined,
					    ",");
				joined = jv_string_concat(joined, e);
			}
			if (asprintf(&lines[i], "%s %s %s %s %s\n",
			    jv_string_value(nm), jv_string_value(st),
			    jv_string_value(role), jv_string_value(la),
			    k ? jv_string_value(joined) : "-") < 0)
				ag_die(AG_EXIT_FAIL, "cannot allocate");
			jv_free(nm);
			jv_free(st);
			jv_free(role);
			jv_free(la);
			jv_free(tags);
			jv_free(joined);
			jv_free(r);
		}
	}
	jv_free(l.rows);
	if (n)
		qsort(lines, (size_t)n, sizeof *lines, cmp_rows);
	for (i = 0; i < n; i++) {
		fputs(o->json ? strchr(lines[i], '\t') + 1 : lines[i], stdout);
		free(lines[i]);
	}
	free(lines);
	return 0;
}

/* Move a live session to a new state, under the lock. */
static int
transition(struct project *p, const char *ref, enum session_state to,
    char *name, int *lfdp)
{
	enum session_state from;
	int sfd;

	sfd = session_lock_open_or_die(p, ref, name, lfdp);
	from = session_state_at(sfd);
	if (!session_transition_ok(from, to))
		ag_diex(AG_EXIT_USAGE, "session %s is %s: it cannot become %s",
		    name, session_state_name(from), session_state_name(to));
	return sfd;
}

static void
set_state(int sfd, const char *name, enum session_state to,
    const char *reason)
{
	if (reason && atomic_puts_at(sfd, "reason", reason, 0) < 0)
		ag_die(AG_EXIT_FAIL, "cannot write the reason of %s", name);
	if (atomic_puts_at(sfd, "state", session_state_name(to), AF_FSYNC) < 0 ||
	    session_touch(sfd) < 0)
		ag_die(AG_EXIT_FAIL, "cannot change the state of %s", name);
}

static int
cmd_pause(struct project *p, struct opts *o)
{
	char name[AG_NAME_MAX + 1];
	int lfd, sfd;

	need_args(o, 1, 1);
	sfd = transition(p, o->args[0], SS_PAUSED, name, &lfd);
	set_state(sfd, name, SS_PAUSED, o->reason ? o->reason : "");
	close(sfd);
	close(lfd);
	return 0;
}

static int
cmd_resume(struct project *p, struct opts *o)
{
	char name[AG_NAME_MAX + 1], file[64];
	int lfd, sfd, hfd;
	jv doc;

	need_args(o, 1, 1);
	sfd = transition(p, o->args[0], SS_ACTIVE, name, &lfd);
	set_state(sfd, name, SS_ACTIVE, "");
	close(lfd);
	hfd = openat(sfd, "handoffs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	doc = hfd < 0 ? jv_invalid() : handoff_find(hfd, NULL, 0, file);
	if (jv_is_valid(doc)) {
		handoff_markdown(doc, stdout);
	} else {
		jv_free(doc);
		ag_warnx("session %s has no handoff yet", name);
	}
	if (hfd >= 0)
		close(hfd);
	close(sfd);
	return 0;
}

static int
cmd_end(struct project *p, struct opts *o)
{
	char name[AG_NAME_MAX + 1], id[AG_NAME_MAX + 2], role[AG_NAME_MAX + 2];
	char created[AG_TS_LEN], ts[AG_TS_LEN];
	const char *reason = o->reason ? o->reason : "completed";
	int64_t tokens, now = clock_wall_ms(), since;
	double cost;
	int lfd, sfd;
	jv ev;

	need_args(o, 1, 1);
	if (strcmp(reason, "completed") && strcmp(reason, "interrupted") &&
	    strcmp(reason, "exit"))
		ag_diex(AG_EXIT_USAGE, "bad reason '%s': not completed, "
		    "interrupted or exit", reason);
	sfd = transition(p, o->args[0], SS_COMPLETED, name, &lfd);
	if (read_line_at(sfd, "id", id, sizeof id) < 0)
		snprintf(id, sizeof id, "%s", name);
	if (read_line_at(sfd, "role", role, sizeof role) < 0)
		snprintf(role, sizeof role, "orchestrator");
	if (read_line_at(sfd, "created", created, sizeof created) < 0 ||
	    ts_parse(created, &since) < 0)
		since = now;
	if (billing_session_usage(p, name, id, &tokens, &cost) < 0)
		ag_die(AG_EXIT_FAIL, "cannot read the billing of %s", name);
	{
		/* Usage billed under names it had before. */
		size_t len;
		char *al = read_all_at(sfd, "aliases", &len), *line, *nl;

		for (line = al; al && line < al + len; line = nl + 1) {
			int64_t t2;
			double c2;

			if (!(nl = memchr(line, '\n', (size_t)(al + len -
			    line))))
				nl = al + len;
			*nl = '\0';
			if (*line && billing_session_usage(p, line, NULL, &t2,
			    &c2) == 0) {
				tokens += t2;
				cost += c2;
			}
		}
		free(al);
	}
	ts_format(now, ts);
	ev = jv_object();
	ev = jv_object_set(ev, jv_string("event"), jv_string("session_end"));
	ev = jv_object_set(ev, jv_string("timestamp"), jv_string(ts));
	ev = jv_object_set(ev, jv_string("session_id"), jv_string(name));
	ev = jv_object_set(ev, jv_string("id"), jv_string(id));
	ev = jv_object_set(ev, jv_string("role"), jv_string(role));
	ev = jv_object_set(ev, jv_string("duration_minutes"),
	    jv_number((double)(now - since) / 60000.0));
	ev = jv_object_set(ev, jv_string("tokens_used"),
	    jv_number((double)tokens));
	ev = jv_object_set(ev, jv_string("estimated_cost"), jv_number(cost));
	ev = jv_object_set(ev, jv_string("reason"), jv_string(reason));
	/* The event first: a crash between the two leaves the session
	 * active, to be ended again, rather than an end never billed. */
	if (billing_append(p, ev) < 0)
		ag_die(AG_EXIT_FAIL, "cannot append the session_end event");
	set_state(sfd, name, SS_COMPLETED, reason);
	close(sfd);
	close(lfd);
	return 0;
}

/* archive and restore: the helper beside us in ../libexec/ag. */
static _Noreturn void
run_helper(char **argv)
{
	char path[PATH_MAX + 64];

	if (ag_libexec_path(path, sizeof path, "ag-session-archive") < 0)
		ag_die(AG_EXIT_FAIL, "cannot find myself");
	execv(path, argv);
	ag_die(AG_EXIT_FAIL, "cannot run %s", path);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name, *opts;
		int (*fn)(struct project *, struct opts *);
		int creates;    /* may create .project: opens it itself,
				 * once its input is checked */
	} cmds[] = {
		{ "start", "-r -p --tag", cmd_start, 1 },
		{ "name", "--tag", cmd_name, 0 },
		{ "tag", "", cmd_tag, 0 },
		{ "show", "--json", cmd_show, 0 },
		{ "list", "--status --tag --stale --json", cmd_list, 0 },
		{ "pause", "--reason", cmd_pause, 0 },
		{ "resume", "", cmd_resume, 0 },
		{ "end", "--reason", cmd_end, 0 },
	};
	struct project p;
	struct opts o;
	size_t i;

	ag_init(argv[0]);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		ag_exit(0);
	}
	if (!strcmp(argv[1], "archive") || !strcmp(argv[1], "restore"))
		run_helper(argv);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		parse(argc - 1, argv + 1, !strcmp(cmds[i].name, "tag") ?
		    "tag" : cmds[i].opts, &o);
		if (cmds[i].creates)
			p.fd = p.agents = -1;
		else
			project_open_or_die(&p, 0);
		i = (size_t)cmds[i].fn(&p, &o);
		free(o.tags);
		project_close(&p);
		ag_exit((int)i);
	}
	ag_warnx("unknown subcommand '%s'", argv[1]);
	usage();
}
