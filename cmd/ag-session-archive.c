/*
 * ag-session-archive - "ag-session archive" and "ag-session restore",
 * the only ag program that links libarchive (it costs every process that
 * links it several milliseconds of start-up).  Installed in
 * PREFIX/libexec/ag and run by ag-session.
 *
 *   ag-session archive NAME
 *   ag-session restore NAME
 *
 * archive (a completed session whose agents have all ended) writes
 * .project/archive/NAME.tar.gz holding sessions/NAME/ and agents/ID/ of
 * each of its agents, and NAME.json, its summary for list and show; then
 * removes the live directories.  restore extracts into a staging
 * directory inside .project, refusing with a warning every member that
 * is not a plain file or directory under sessions/NAME/ or agents/ID/
 * (absolute paths, "..", symlinks, hard links, devices), then moves the
 * session and its agents into place.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "names.h"
#include "project.h"
#include "session.h"

static const char usage_text[] =
    "usage: ag-session archive NAME\n"
    "       ag-session restore NAME\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

static _Noreturn void
die_archive(struct archive *a, const char *what)
{
	const char *msg = archive_error_string(a);

	ag_diex(AG_EXIT_FAIL, "%s: %s", what, msg ? msg : "libarchive failed");
}

/* Add dirfd/rel (a file or a directory, recursively) as member path. */
static void
add_tree(struct archive *a, int pfd, const char *path)
{
	struct archive_entry *e;
	struct stat st;
	char buf[65536];
	int fd;

	if (fstatat(pfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		ag_die(AG_EXIT_FAIL, "cannot stat %s", path);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return;         /* ag writes only files and directories */
	fd = openat(pfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0)
		ag_die(AG_EXIT_FAIL, "cannot open %s", path);
	if (!(e = archive_entry_new()))
		ag_die(AG_EXIT_FAIL, "cannot allocate");
	archive_entry_copy_stat(e, &st);
	archive_entry_set_pathname(e, path);
	archive_entry_set_uname(e, "");
	archive_entry_set_gname(e, "");
	if (archive_write_header(a, e) < ARCHIVE_WARN)
		die_archive(a, path);
	archive_entry_free(e);
	if (S_ISREG(st.st_mode)) {
		ssize_t n;
		off_t left = st.st_size;

		/* Exactly the size in the header, even if the file grows. */
		while (left > 0 && (n = read(fd, buf, (size_t)(left <
		    (off_t)sizeof buf ? left : (off_t)sizeof buf))) > 0) {
			if (archive_write_data(a, buf, (size_t)n) < 0)
				die_archive(a, path);
			left -= n;
		}
		if (left > 0) {
			memset(buf, 0, sizeof buf);
			while (left > 0) {
				size_t k = left < (off_t)sizeof buf ?
				    (size_t)left : sizeof buf;

				if (archive_write_data(a, buf, k) < 0)
					die_archive(a, path);
				left -= (off_t)k;
			}
		}
		close(fd);
	} else {
		struct dirent *de;
		DIR *d = fdopendir(fd);
		char **names = NULL;
		size_t n = 0, cap = 0, i;

		if (!d)
			ag_die(AG_EXIT_FAIL, "cannot read %s", path);
		while ((de = readdir(d))) {
			/* Dot-files are temporaries and locks. */
			if (de->d_name[0] == '.')
				continue;
			if (n == cap) {
				char **nn = realloc(names, (cap = cap ?
				    cap * 2 : 32) * sizeof *names);

				if (!nn)
					ag_die(AG_EXIT_FAIL, "cannot allocate");
				names = nn;
			}
			if (asprintf(&names[n++], "%s/%s", path,
			    de->d_name) < 0)
				ag_die(AG_EXIT_FAIL, "cannot allocate");
		}
		closedir(d);
		for (i = 0; i < n; i++) {
			add_tree(a, pfd, names[i]);
			free(names[i]);
		}
		free(names);
	}
}

/* Move dirfd/name out of sight, then remove it: a crash in between
 * leaves only a dot-directory, which scans skip. */
static void
remove_live(int dfd, const char *name)
{
	char trash[NAME_MAX + 1], rnd[9];

	random_name(rnd, sizeof rnd);
	snprintf(trash, sizeof trash, ".trash-%s", rnd);
	if (renameat(dfd, name, dfd, trash) < 0 || rm_rf_at(dfd, trash) < 0)
		ag_warn("cannot remove %s", name);
}

/*
 * What ag-cost import needs of each agent once its directory is gone:
 * where and when it ran, who it was, and the Claude sessions it billed
 * from its result objects.  In the summary, written before the agents
 * are removed: an import finds every agent in one place or the other.
 * Consumes nothing; ids stays the caller's.
 */
static jv
agent_runs(struct project *p, jv ids)
{
	static const char *const keys[] = { "cwd", "started", "ended", "role",
	    "parent", "session", "claude_session" };
	char line[4096];
	jv runs = jv_array();
	int i, n = jv_array_length(jv_copy(ids));
	size_t k;

	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i), run;
		int dfd = openat(p->agents, jv_string_value(id), O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0) {
			jv_free(id);
			continue;
		}
		run = jv_object_set(jv_object(), jv_string("id"), id);
		for (k = 0; k < sizeof keys / sizeof *keys; k++) {
			ssize_t len = read_small_at(dfd, keys[k], line,
			    sizeof line);

			/* One line each; claude_session a line a session. */
			if (len > 0 && strcmp(keys[k], "claude_session"))
				len = (ssize_t)strcspn(line, "\n");
			while (len > 0 && line[len - 1] == '\n')
				len--;
			line[len > 0 ? len : 0] = '\0';
			if (len > 0)
				run = jv_object_set(run, jv_string(keys[k]),
				    jv_string(line));
		}
		close(dfd);
		runs = jv_array_append(runs, run);
	}
	return runs;
}

static int
cmd_archive(struct project *p, const char *ref)
{
	char name[AG_NAME_MAX + 1], tmp[NAME_MAX + 1], file[NAME_MAX + 1];
	char json[NAME_MAX + 1], rnd[9], path[64 + AG_ID_MAX], ts[AG_TS_LEN];
	enum session_state st;
	struct archive *a;
	int lfd, sfd, afd, fd, i, n;
	jv ids, info;

	/* No sessions/: no live session, and nothing made to say so. */
	if ((lfd = session_lock(p, 0)) < 0 && errno != ENOENT)
		ag_die(AG_EXIT_FAIL, "cannot lock the sessions");
	if (lfd < 0 || (sfd = session_open(p, ref, name)) < 0) {
		if (lfd >= 0 && errno != ENOENT)
			ag_die(AG_EXIT_FAIL, "cannot open session %s", ref);
		if (session_archived(p, ref, name))
			ag_diex(AG_EXIT_USAGE, "session %s is archived: it "
			    "cannot become archived", name);
		ag_diex(AG_EXIT_USAGE, "unknown session '%s'", ref);
	}
	st = session_state_at(sfd);
	if (!session_transition_ok(st, SS_ARCHIVED))
		ag_diex(AG_EXIT_USAGE, "session %s is %s: it cannot become "
		    "archived", name, session_state_name(st));
	ids = session_agent_ids(p, sfd, name);
	n = jv_array_length(jv_copy(ids));
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);
		int dfd = openat(p->agents, jv_string_value(id), O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC);
		char s[32];

		if (dfd >= 0 && read_line_at(dfd, "status", s, sizeof s) == 0 &&
		    (!strcmp(s, "running") || !strcmp(s, "queued")))
			ag_diex(AG_EXIT_USAGE, "agent %s of session %s is %s: "
			    "stop it or wait for it first",
			    jv_string_value(id), name, s);
		if (dfd >= 0)
			close(dfd);
		jv_free(id);
	}
	if ((afd = project_subdir(p, "archive", PROJ_CREATE)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot open %s/archive", p->path);
	random_name(rnd, sizeof rnd);
	snprintf(tmp, sizeof tmp, ".%s.tar.gz.%s", name, rnd);
	snprintf(file, sizeof file, "%s.tar.gz", name);
	snprintf(json, sizeof json, "%s.json", name);
	fd = openat(afd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		ag_die(AG_EXIT_FAIL, "cannot create %s/archive/%s", p->path,
		    tmp);
	if (!(a = archive_write_new()) ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		die_archive(a, "cannot start the archive");
	snprintf(path, sizeof path, "sessions/%s", name);
	add_tree(a, p->fd, path);
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);

		snprintf(path, sizeof path, "agents/%s", jv_string_value(id));
		add_tree(a, p->fd, path);
		jv_free(id);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die_archive(a, "cannot finish the archive");
	archive_write_free(a);
	/* The archive is the only copy once the live tree is gone. */
	if (fsync(fd) < 0 || close(fd) < 0 ||
	    renameat(afd, tmp, afd, file) < 0 || fsync_fd(afd) < 0) {
		int e = errno;

		unlinkat(afd, tmp, 0);
		errno = e;
		ag_die(AG_EXIT_FAIL, "cannot write %s/archive/%s", p->path,
		    file);
	}
	info = session_info(sfd, name);
	info = jv_object_set(info, jv_string("agent_runs"), agent_runs(p, ids));
	ts_format(clock_wall_ms(), ts);
	info = jv_object_set(info, jv_string("state"), jv_string("archived"));
	info = jv_object_set(info, jv_string("last_activity"), jv_string(ts));
	info = jv_object_set(info, jv_string("archived_at"), jv_string(ts));
	info = jv_object_set(info, jv_string("agents"), jv_copy(ids));
	if (json_write_at(afd, json, info, AF_FSYNC) < 0)
		ag_die(AG_EXIT_FAIL, "cannot write %s/archive/%s", p->path,
		    json);
	close(sfd);
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);

		remove_live(p->agents, jv_string_value(id));
		jv_free(id);
	}
	jv_free(ids);
	if ((fd = sessions_dir(p, 0)) >= 0) {
		remove_live(fd, name);
		close(fd);
	}
	close(afd);
	close(lfd);
	printf("%s/archive/%s\n", p->path, file);
	return 0;
}

/*
 * Where a member may land: sessions/NAME[/...] or agents/ID[/...], as
 * plain files and directories.  Returns NULL when it may, else why not;
 * *agent gets the agent id of an agents/ member.
 */
static const char *
vet(const char *path, const char *name, char *agent)
{
	const char *c, *rest;
	size_t n;

	agent[0] = '\0';
	if (path[0] == '/')
		return "an absolute path";
	for (c = path; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 :
	    c + strlen(c)) {
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return "a '..' component";
		if (!*c)
			break;
	}
	n = strlen(name);
	if (!strncmp(path, "sessions/", 9)) {
		rest = path + 9;
		if (strncmp(rest, name, n) || (rest[n] && rest[n] != '/'))
			return "not in this session";
		return NULL;
	}
	if (!strncmp(path, "agents/", 7)) {
		const char *slash = strchr(path + 7, '/');

		n = slash ? (size_t)(slash - path - 7) : strlen(path + 7);
		if (n == 0 || n > AG_ID_MAX)
			return "not an agent directory";
		memcpy(agent, path + 7, n);
		agent[n] = '\0';
		if (agent_id_check(agent)) {
			agent[0] = '\0';
			return "not an agent directory";
		}
		return NULL;
	}
	return "outside the session and its agents";
}

static int
cmd_restore(struct project *p, const char *ref)
{
	char name[AG_NAME_MAX + 1], stage[NAME_MAX + 1], rnd[9], file[NAME_MAX];
	char agent[AG_ID_MAX + 1], dest[PATH_MAX + 64], live[AG_NAME_MAX + 1];
	struct archive *in, *out;
	struct archive_entry *e;
	int lfd, afd, stfd, sfd, dfd, r, i, n, refused = 0;
	jv agents = jv_array();

	if ((lfd = session_lock(p, 0)) < 0) {
		if (errno != ENOENT)
			ag_die(AG_EXIT_FAIL, "cannot lock the sessions");
		/* No sessions/ yet: made only to restore an archived one. */
		if (!session_archived(p, ref, name))
			ag_diex(AG_EXIT_USAGE, "unknown session '%s'", ref);
		if ((lfd = session_lock(p, PROJ_CREATE)) < 0)
			ag_die(AG_EXIT_FAIL, "cannot lock the sessions");
	}
	if ((sfd = session_open(p, ref, live)) >= 0)
		ag_diex(AG_EXIT_USAGE, "session %s is %s: it cannot be "
		    "restored", live, session_state_name(session_state_at(sfd)));
	if (!session_archived(p, ref, name))
		ag_diex(AG_EXIT_USAGE, "unknown session '%s'", ref);
	if ((afd = project_subdir(p, "archive", 0)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot open %s/archive", p->path);
	snprintf(file, sizeof file, "%s.tar.gz", name);
	random_name(rnd, sizeof rnd);
	snprintf(stage, sizeof stage, ".restore-%s", rnd);
	if (mkdirat(p->fd, stage, 0700) < 0 ||
	    (stfd = openat(p->fd, stage, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot create %s/%s", p->path, stage);

	if (!(in = archive_read_new()) || !(out = archive_write_disk_new()))
		ag_die(AG_EXIT_FAIL, "cannot allocate");
	/* Members are written relative to the staging directory, so that
	 * SECURE_NOABSOLUTEPATHS holds for every one. */
	if (fchdir(stfd) < 0)
		ag_die(AG_EXIT_FAIL, "cannot enter %s/%s", p->path, stage);
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_PERM);
	if ((r = openat(afd, file, O_RDONLY | O_CLOEXEC)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot open %s/archive/%s", p->path, file);
	if (archive_read_open_fd(in, r, 65536) != ARCHIVE_OK)
		die_archive(in, file);
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		const char *path = archive_entry_pathname(e), *why;
		char rel[PATH_MAX];
		mode_t type = archive_entry_filetype(e);
		const void *buf;
		size_t size;
		int64_t off;

		while (path && path[0] == '.' && path[1] == '/')
			path += 2;
		why = !path || !*path ? "an empty name" :
		    vet(path, name, agent);
		if (!why && archive_entry_hardlink(e))
			why = "a hard link";
		if (!why && type != AE_IFREG && type != AE_IFDIR)
			why = type == AE_IFLNK ? "a symbolic link" :
			    "not a plain file or directory";
		if (why) {
			ag_warnx("%s: refused member '%s': %s", file,
			    path ? path : "", why);
			refused++;
			continue;
		}
		if (agent[0]) {
			int k, m = jv_array_length(jv_copy(agents)), seen = 0;

			for (k = 0; k < m && !seen; k++) {
				jv x = jv_array_get(jv_copy(agents), k);

				seen = !strcmp(jv_string_value(x), agent);
				jv_free(x);
			}
			if (!seen)
				agents = jv_array_append(agents,
				    jv_string(agent));
		}
		/* path dies with the entry's old name: keep a copy. */
		snprintf(rel, sizeof rel, "%s", path);
		path = rel;
		archive_entry_set_pathname(e, rel);
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			ag_warnx("%s: cannot extract '%s': %s", file, rel,
			    archive_error_string(out));
			refused++;
			continue;
		}
		while ((r = archive_read_data_block(in, &buf, &size, &off)) ==
		    ARCHIVE_OK)
			if (archive_write_data_block(out, buf, size, off) <
			    ARCHIVE_WARN)
				die_archive(out, path);
		if (r != ARCHIVE_EOF)
			die_archive(in, path);
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			die_archive(out, path);
	}
	if (r != ARCHIVE_EOF) {
		int e2 = errno;

		rm_rf_at(p->fd, stage);
		errno = e2;
		die_archive(in, file);
	}
	archive_read_free(in);
	archive_write_free(out);

	/* Nothing moves until all of it is known to fit. */
	snprintf(dest, sizeof dest, "sessions/%s/state", name);
	if (faccessat(stfd, dest, F_OK, 0) < 0) {
		rm_rf_at(p->fd, stage);
		ag_diex(AG_EXIT_USAGE, "%s holds no session %s", file, name);
	}
	n = jv_array_length(jv_copy(agents));
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(agents), i);

		if (p->agents >= 0 && faccessat(p->agents, jv_string_value(id),
		    F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			rm_rf_at(p->fd, stage);
			ag_diex(AG_EXIT_USAGE, "agent %s exists already: "
			    "session %s not restored", jv_string_value(id),
			    name);
		}
		jv_free(id);
	}
	if (p->agents < 0) {
		if (mkdirat(p->fd, "agents", 0755) < 0 && errno != EEXIST)
			ag_die(AG_EXIT_FAIL, "cannot create agents");
		p->agents = openat(p->fd, "agents", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
	}
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(agents), i);

		snprintf(dest, sizeof dest, "agents/%s", jv_string_value(id));
		if (renameat2(stfd, dest, p->agents, jv_string_value(id),
		    RENAME_NOREPLACE) < 0)
			ag_die(AG_EXIT_FAIL, "cannot restore agent %s",
			    jv_string_value(id));
		jv_free(id);
	}
	jv_free(agents);
	snprintf(dest, sizeof dest, "sessions/%s", name);
	if ((sfd = openat(stfd, dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    atomic_puts_at(sfd, "state", "completed", 0) < 0 ||
	    session_touch(sfd) < 0)
		ag_die(AG_EXIT_FAIL, "cannot restore session %s", name);
	close(sfd);
	if ((dfd = sessions_dir(p, PROJ_CREATE)) < 0 ||
	    renameat2(stfd, dest, dfd, name, RENAME_NOREPLACE) < 0 ||
	    fsync_fd(dfd) < 0)
		ag_die(AG_EXIT_FAIL, "cannot restore session %s", name);
	close(dfd);
	unlinkat(afd, file, 0);
	snprintf(file, sizeof file, "%s.json", name);
	unlinkat(afd, file, 0);
	close(afd);
	close(stfd);
	rm_rf_at(p->fd, stage);
	close(lfd);
	printf("%s\n", name);
	return refused ? AG_EXIT_NO : 0;
}

int
main(int argc, char **argv)
{
	struct project p;
	const char *r;
	int code;

	ag_init("ag-session");
	if (argc != 3 || (strcmp(argv[1], "archive") &&
	    strcmp(argv[1], "restore")))
		usage();
	if ((r = name_check(argv[2])))
		ag_diex(AG_EXIT_USAGE, "bad session '%s': %s", argv[2], r);
	project_open_or_die(&p, 0);
	code = !strcmp(argv[1], "archive") ? cmd_archive(&p, argv[2]) :
	    cmd_restore(&p, argv[2]);
	project_close(&p);
	ag_exit(code);
}
