#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "session.h"

static const char *const state_names[] = {
	[SS_UNKNOWN] = "unknown", [SS_ACTIVE] = "active",
	[SS_PAUSED] = "paused", [SS_COMPLETED] = "completed",
	[SS_ARCHIVED] = "archived",
};

const char *
session_state_name(enum session_state st)
{
	return (unsigned)st <= SS_ARCHIVED ? state_names[st] : "unknown";
}

enum session_state
session_state_parse(const char *s)
{
	int i;

	for (i = SS_ACTIVE; i <= SS_ARCHIVED; i++)
		if (!strcmp(s, state_names[i]))
			return (enum session_state)i;
	return SS_UNKNOWN;
}

int
session_transition_ok(enum session_state from, enum session_state to)
{
	switch (to) {
	case SS_PAUSED: return from == SS_ACTIVE;
	case SS_ACTIVE: return from == SS_PAUSED;
	case SS_COMPLETED:
		return from == SS_ACTIVE || from == SS_PAUSED ||
		    from == SS_ARCHIVED;
	case SS_ARCHIVED: return from == SS_COMPLETED;
	default: return 0;
	}
}

int
sessions_dir(struct project *p, int flags)
{
	return project_subdir(p, "sessions", flags);
}

int
session_lock(struct project *p, int flags)
{
	int dfd = sessions_dir(p, flags), fd, e;

	if (dfd < 0)
		return -1;
	fd = lock_at(dfd, ".lock", LOCK_EX);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}

enum session_state
session_state_at(int sfd)
{
	char buf[32];

	if (read_line_at(sfd, "state", buf, sizeof buf) < 0)
		return SS_UNKNOWN;
	return session_state_parse(buf);
}

int
session_open(struct project *p, const char *ref, char *name)
{
	struct dirent *de;
	DIR *d;
	int dfd, fd;

	if (name_check(ref)) {
		errno = ENOENT;
		return -1;
	}
	if ((dfd = sessions_dir(p, 0)) < 0)
		return -1;
	fd = openat(dfd, ref, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		snprintf(name, AG_NAME_MAX + 1, "%s", ref);
		close(dfd);
		return fd;
	}
	/* Not a name: an id, which only sess_ ids need (a session
	 * started with a name is known by it). */
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return -1;
	}
	fd = -1;
	while ((de = readdir(d))) {
		char id[AG_NAME_MAX + 2];
		int sfd;

		if (de->d_name[0] == '.')
			continue;
		sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (sfd < 0)
			continue;
		if (read_line_at(sfd, "id", id, sizeof id) == 0 &&
		    !strcmp(id, ref)) {
			snprintf(name, AG_NAME_MAX + 1, "%s", de->d_name);
			fd = sfd;
			break;
		}
		close(sfd);
	}
	closedir(d);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}

/* ref names no live session: say whether it is archived, or unknown. */
static _Noreturn void
session_missing(struct project *p, const char *ref)
{
	char aname[AG_NAME_MAX + 1];

	if (session_archived(p, ref, aname))
		ag_diex(AG_EXIT_USAGE, "session %s is archived (restore it "
		    "first)", aname);
	ag_diex(AG_EXIT_USAGE, "unknown session '%s'", ref);
}

int
session_open_or_die(struct project *p, const char *ref, char *name)
{
	const char *r = name_check(ref);
	int sfd;

	if (r)
		ag_diex(AG_EXIT_USAGE, "bad session '%s': %s", ref, r);
	if ((sfd = session_open(p, ref, name)) >= 0)
		return sfd;
	if (errno != ENOENT)
		ag_die(AG_EXIT_FAIL, "cannot open session %s", ref);
	session_missing(p, ref);
}

int
session_lock_open_or_die(struct project *p, const char *ref, char *name,
    int *lfd)
{
	const char *r = name_check(ref);

	if (r)
		ag_diex(AG_EXIT_USAGE, "bad session '%s': %s", ref, r);
	if ((*lfd = session_lock(p, 0)) >= 0)
		return session_open_or_die(p, ref, name);
	if (errno != ENOENT)
		ag_die(AG_EXIT_FAIL, "cannot lock the sessions");
	/* No sessions/: no live session, whatever starts one after us. */
	session_missing(p, ref);
}

/*
 * The archived session whose summary (archive/NAME.json) satisfies
 * match(summary, arg): 1 and its name in name, or 0.
 */
static int
archive_find(struct project *p, int (*match)(jv, const void *),
    const void *arg, char *name)
{
	struct dirent *de;
	DIR *d;
	int afd, found = 0;

	if ((afd = project_subdir(p, "archive", 0)) < 0)
		return 0;
	if (!(d = fdopendir(afd))) {
		close(afd);
		return 0;
	}
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		jv v;

		if (de->d_name[0] == '.' || n < 6 ||
		    strcmp(de->d_name + n - 5, ".json"))
			continue;
		v = json_read_at(dirfd(d), de->d_name);
		if (jv_get_kind(v) == JV_KIND_OBJECT && match(v, arg)) {
			snprintf(name, AG_NAME_MAX + 1, "%.*s", (int)(n - 5),
			    de->d_name);
			found = 1;
		}
		jv_free(v);
	}
	closedir(d);
	return found;
}

/* The summary's id is arg. */
static int
match_id(jv v, const void *arg)
{
	jv id = jv_object_get(jv_copy(v), jv_string("id"));
	int r = jv_get_kind(id) == JV_KIND_STRING &&
	    !strcmp(jv_string_value(id), arg);

	jv_free(id);
	return r;
}

/* Agent arg is among the summary's agents. */
static int
match_agent(jv v, const void *arg)
{
	jv ids = jv_object_get(jv_copy(v), jv_string("agents"));
	int i, n = jv_get_kind(ids) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(ids)) : 0, r = 0;

	for (i = 0; i < n && !r; i++) {
		jv id = jv_array_get(jv_copy(ids), i);

		r = jv_get_kind(id) == JV_KIND_STRING &&
		    !strcmp(jv_string_value(id), arg);
		jv_free(id);
	}
	jv_free(ids);
	return r;
}

int
session_archived(struct project *p, const char *ref, char *name)
{
	char file[AG_NAME_MAX + 10];
	int afd;

	if (name_check(ref))
		return 0;
	if ((afd = project_subdir(p, "archive", 0)) < 0)
		return 0;
	/* The archive itself is what makes a session archived; its .json
	 * summary only serves list and show, and finds it by id. */
	snprintf(file, sizeof file, "%s.tar.gz", ref);
	if (faccessat(afd, file, F_OK, 0) == 0) {
		snprintf(name, AG_NAME_MAX + 1, "%s", ref);
		close(afd);
		return 1;
	}
	close(afd);
	return archive_find(p, match_id, ref, name);
}

void
agent_exists_or_die(struct project *p, const char *id, const char *what,
    const char *where, const char *hint)
{
	char name[AG_NAME_MAX + 1], note[2 * AG_NAME_MAX + 64] = "";
	int fd = agent_open(p, id);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (p->fd >= 0 && archive_find(p, match_agent, id, name))
		snprintf(note, sizeof note, ": archived with session %s "
		    "(ag-session restore %s)", name, name);
	ag_diex(AG_EXIT_USAGE, "%s '%s'%s%s%s", what, id, where, note, hint);
}

int
session_touch(int sfd)
{
	char ts[AG_TS_LEN];

	ts_format(clock_wall_ms(), ts);
	return atomic_puts_at(sfd, "last_activity", ts, 0);
}

jv
session_tags(int sfd)
{
	size_t len;
	char *buf = read_all_at(sfd, "tags", &len), *line, *nl;
	jv a = jv_array();

	if (!buf)
		return a;
	for (line = buf; line < buf + len; line = nl + 1) {
		if (!(nl = memchr(line, '\n', (size_t)(buf + len - line))))
			nl = buf + len;
		if (nl > line)
			a = jv_array_append(a, jv_string_sized(line,
			    (int)(nl - line)));
	}
	free(buf);
	return a;
}

static jv
line_or_null(int sfd, const char *file)
{
	char buf[1024];

	if (read_line_at(sfd, file, buf, sizeof buf) < 0 || !buf[0])
		return jv_null();
	return jv_string(buf);
}

jv
session_info(int sfd, const char *name)
{
	static const char *const files[] = { "id", "state", "role",
	    "project", "created", "last_activity", "reason" };
	struct dirent *de;
	size_t i;
	jv o = jv_object(), latest = jv_null();
	int n = 0, hfd;
	DIR *d;

	o = jv_object_set(o, jv_string("name"), jv_string(name));
	for (i = 0; i < sizeof files / sizeof files[0]; i++)
		o = jv_object_set(o, jv_string(files[i]),
		    line_or_null(sfd, files[i]));
	o = jv_object_set(o, jv_string("tags"), session_tags(sfd));
	hfd = openat(sfd, "handoffs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (hfd >= 0 && (d = fdopendir(hfd))) {
		char best[256] = "";

		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			n++;
			if (strcmp(de->d_name, best) > 0)
				snprintf(best, sizeof best, "%s", de->d_name);
		}
		closedir(d);
		if (best[0])
			latest = jv_string(best);
	} else if (hfd >= 0) {
		close(hfd);
	}
	o = jv_object_set(o, jv_string("handoffs"), jv_number(n));
	o = jv_object_set(o, jv_string("latest_handoff"), latest);
	return o;
}

void
session_new_id(char *buf)
{
	char r[11];

	random_name(r, sizeof r);
	snprintf(buf, AG_NAME_MAX + 1, "sess_%s", r);
}

int
session_names_match(const char *s, const char *name, const char *id,
    const char *aliases)
{
	const char *a;
	size_t n = strlen(s);

	if (!strcmp(s, name) || (id[0] && !strcmp(s, id)))
		return 1;
	for (a = aliases; a && *a; a = strchr(a, '\n') ? strchr(a, '\n') + 1 :
	    a + strlen(a))
		if (!strncmp(a, s, n) && (a[n] == '\n' || a[n] == '\0'))
			return 1;
	return 0;
}

jv
session_agent_ids(struct project *p, int sfd, const char *name)
{
	char id[AG_NAME_MAX + 2] = "";
	struct dirent *de;
	size_t len;
	char *aliases = read_all_at(sfd, "aliases", &len);
	jv ids = jv_array();
	DIR *d;
	int fd;

	if (read_line_at(sfd, "id", id, sizeof id) < 0)
		id[0] = '\0';
	if (p->agents < 0 || (fd = dup(p->agents)) < 0 ||
	    !(d = fdopendir(fd))) {
		free(aliases);
		return ids;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		char s[AG_NAME_MAX + 2];
		int afd;

		if (de->d_name[0] == '.')
			continue;
		afd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (afd < 0)
			continue;
		if (read_line_at(afd, "session", s, sizeof s) == 0 &&
		    session_names_match(s, name, id, aliases))
			ids = jv_array_append(ids, jv_string(de->d_name));
		close(afd);
	}
	closedir(d);
	free(aliases);
	return ids;
}
