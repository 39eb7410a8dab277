/*
 * ag-wait - block until agents are in a final state.
 *
 *   ag-wait [-t TIMEOUT] [--any] [--json] [--quiet]
 *           (ID... | -s SESSION | --children ID | --all)
 *
 * Named agents that run are waited on through their locks: a monitor
 * holds its agent's lock from before the agent runs until the end is
 * recorded (or it dies), so a shared flock(2) waits for exactly that.
 *
 * Everything else (--any, a selector, a queued agent, a monitor gone)
 * listens, then looks: before waiting, one inotify watch on .project/agents
 * is set up and then every status is read again, and every status change
 * touches the agent's directory (lib/agent.c), so an end that happens
 * between a read and the wait still wakes us.  No polling (unless the
 * user's inotify instances are all taken: then every 100 ms).  When all is
 * final at the first look, no watch is made at all.  A running agent whose monitor
 * has died is recorded lost once its process is gone; while the process
 * lives, a pidfd on it is part of the wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <dirent.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "names.h"
#include "proc.h"
#include "project.h"
#include "session.h"

static const char usage_text[] =
    "usage: ag-wait [-t TIMEOUT] [--any] [--json] [--quiet]\n"
    "               (ID... | -s SESSION | --children ID | --all)\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

struct member {
	char *id;
	enum agent_status st;
	int dirty;              /* re-read its status */
	char exit[16];          /* its exit file once final, else "-" */
	int pidfd;              /* its process, when its monitor is gone */
	int mpidfd;             /* its monitor, while it holds the lock */
	int marked;             /* waited written */
};

static struct member *members;
static size_t nmembers, capmembers;
static struct project proj;
static int waiting;             /* subscribed: worth watching monitors */
static int polling;             /* subscribed, but with no inotify to be had */
#define POLL_MS 100
/* pidfds open, and how many may be: the rest of the fds stay free for
 * reading the agents (a fleet bigger than the limit is still waited on,
 * through its files). */
static long nwatch, maxwatch;

static int
watch_open(pid_t pid)
{
	int fd;

	if (nwatch >= maxwatch)
		return -1;
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) >= 0)
		nwatch++;
	return fd;
}

static void
watch_close(int *fd)
{
	if (*fd < 0)
		return;
	close(*fd);
	*fd = -1;
	nwatch--;
}

enum sel { SEL_IDS, SEL_ALL, SEL_CHILDREN, SEL_SESSION };
static enum sel selector = SEL_IDS;
static const char *sel_root;
/* -s: the session's name, id and old names. */
static char sess_name[AG_NAME_MAX + 1], sess_id[AG_NAME_MAX + 2];
static char *sess_aliases;

static int
find_member(const char *id)
{
	size_t i;

	for (i = 0; i < nmembers; i++)
		if (!strcmp(members[i].id, id))
			return (int)i;
	return -1;
}

static void
add_member(const char *id)
{
	if (find_member(id) >= 0)
		return;
	if (nmembers == capmembers) {
		capmembers = capmembers ? capmembers * 2 : 16;
		members = realloc(members, capmembers * sizeof *members);
		if (!members)
			ag_die(AG_EXIT_FAIL, "out of memory");
	}
	members[nmembers].id = strdup(id);
	if (!members[nmembers].id)
		ag_die(AG_EXIT_FAIL, "out of memory");
	members[nmembers].st = ST_UNKNOWN;
	members[nmembers].dirty = 1;
	members[nmembers].pidfd = -1;
	members[nmembers].mpidfd = -1;
	members[nmembers].marked = 0;
	snprintf(members[nmembers].exit, sizeof members[nmembers].exit, "-");
	nmembers++;
}

static int
selected(const char *name)
{
	if (name[0] == '.')
		return 0;
	switch (selector) {
	case SEL_ALL:
		return 1;
	case SEL_CHILDREN:
		return agent_id_is_descendant(name, sel_root);
	case SEL_SESSION: {
		char buf[AG_NAME_MAX + 2];
		int fd, r;

		if (find_member(name) >= 0)
			return 0;
		if ((fd = agent_open(&proj, name)) < 0)
			return 0;
		r = read_line_at(fd, "session", buf, sizeof buf) == 0 &&
		    session_names_match(buf, sess_name, sess_id, sess_aliases);
		close(fd);
		return r;
	}
	default:
		return 0;
	}
}

static void
scan_selected(void)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (proj.agents < 0)
		return;
	if ((fd = dup(proj.agents)) < 0 || !(d = fdopendir(fd)))
		ag_die(AG_EXIT_FAIL, "cannot read %s/agents", proj.path);
	rewinddir(d);
	while ((de = readdir(d)))
		if (selected(de->d_name))
			add_member(de->d_name);
	closedir(d);
}

static int
cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->id,
	    ((const struct member *)b)->id);
}

/* Re-read one member; watch its process when its monitor is gone. */
/*
 * A monitor killed with -9 records nothing, and its lock freed is no
 * file event: while we wait, a pidfd on the monitor tells us it is gone.
 * The monitor's pid (in heartbeat) may be another process's by now; the lock,
 * still held after the pidfd pins that pid, says it is the monitor.
 */
static void
watch_monitor(struct member *m, int fd)
{
	pid_t pid;
	int lk;

	if ((pid = agent_monitor_pid(fd)) < 0 ||
	    (m->mpidfd = watch_open(pid)) < 0)
		return;         /* then only the files tell */
	if ((lk = lock_at(fd, "lock", LOCK_EX | LOCK_NB)) >= 0) {
		/* Gone meanwhile: look again, now as a monitor-less agent. */
		close(lk);
		watch_close(&m->mpidfd);
		m->dirty = 1;
	}
}

static void
refresh(struct member *m)
{
	struct proc_id pid;
	int fd;

	m->dirty = 0;
	snprintf(m->exit, sizeof m->exit, "-");
	fd = agent_open(&proj, m->id);
	if (fd < 0) {
		m->st = ST_UNKNOWN;     /* removed while we waited */
		return;
	}
	m->st = agent_status_at(fd);
	if (m->st == ST_RUNNING && m->pidfd < 0) {
		switch (agent_check_lost(&proj, fd, m->id, &pid)) {
		case 1:
			m->st = agent_status_at(fd);
			break;
		case 2:
			m->pidfd = watch_open(pid.pid);
			/* proven after pinning: still the agent's process? */
			if (m->pidfd >= 0 && proc_alive(&pid) != 1) {
				watch_close(&m->pidfd);
				m->dirty = 1;
			}
			break;
		default:
			if (waiting && m->mpidfd < 0)
				watch_monitor(m, fd);
			break;
		}
	}
	if (status_is_final(m->st) &&
	    (read_line_at(fd, "exit", m->exit, sizeof m->exit) < 0 || !m->exit[0]))
		snprintf(m->exit, sizeof m->exit, "-");
	close(fd);
}

static int
is_done(const struct member *m)
{
	return m->st == ST_UNKNOWN || status_is_final(m->st);
}

/* Someone waited for it (blocked on its lock) or learnt how it ended: the
 * watchdog's "fire-and-forget" finding counts the agents without this
 * mark. */
static void
mark_waited(struct member *m)
{
	char path[AG_ID_MAX + 16];
	int fd;

	if (m->marked)
		return;
	m->marked = 1;
	snprintf(path, sizeof path, "%s/waited", m->id);
	fd = openat(proj.agents, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

static void
print_member(const struct member *m, int json)
{
	jv r;
	int fd;

	if (!json) {
		/* No JSON: libjq is not even loaded (jvlazy.c). */
		printf("%s %s %s\n", m->id, status_name(m->st), m->exit);
		return;
	}
	r = jv_invalid();
	if (status_is_final(m->st) && (fd = agent_open(&proj, m->id)) >= 0) {
		r = json_read_at(fd, "result.json");
		close(fd);
	}
	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		jv_free(r);
		r = jv_object();
		r = jv_object_set(r, jv_string("agent_id"), jv_string(m->id));
		r = jv_object_set(r, jv_string("status"),
		    jv_string(status_name(m->st)));
	}
	json_print(r);
}

static int
ok_member(const struct member *m)
{
	return m->st == ST_COMPLETED && !strcmp(m->exit, "0");
}

static void
drain_events(int ifd)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	char *p;

	for (;;) {
		n = read(ifd, buf, sizeof buf);
		if (n <= 0)
			return;
		for (p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			int i;

			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				size_t k;

				for (k = 0; k < nmembers; k++)
					members[k].dirty = 1;
				if (selector != SEL_IDS)
					scan_selected();
				continue;
			}
			if (!ev->len)
				continue;
			if ((i = find_member(ev->name)) >= 0)
				members[i].dirty = 1;
			else if (selected(ev->name))
				add_member(ev->name);
		}
	}
}

static int
all_done(int any)
{
	size_t k, done = 0;

	for (k = 0; k < nmembers; k++) {
		if (members[k].dirty)
			refresh(&members[k]);
		done += is_done(&members[k]);
	}
	return any ? done > 0 || nmembers == 0 : done == nmembers;
}

/*
 * Closing an inotify descriptor that had a watch waits for an RCU grace
 * period: 0.2 to 15 ms here, paid in our exit, before our caller sees it.
 * So a tiny child holds a second reference and lets go only when we are
 * gone (EOF on a pipe): the teardown happens in its exit, not ours.
 */
static void
hold_for_teardown(int ifd)
{
	int pp[2], keep[2];
	char c;
	pid_t h;

	if (pipe2(pp, O_CLOEXEC) < 0)
		return;         /* then we pay the teardown ourselves */
	h = fork();
	if (h == 0) {
		keep[0] = ifd;
		keep[1] = pp[0];
		/* Hold nothing of our caller's, stdout least of all. */
		close(0);
		close(1);
		close(2);
		close_fds_except(keep, 2);
		while (read(pp[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pp[0]);
	if (h < 0)
		close(pp[1]);
	/* pp[1] stays open, unused, until we exit. */
}

static volatile sig_atomic_t alarmed;

static void
on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

/*
 * The lock path, for one named agent: 1 when its monitor let go of the
 * lock (the end is recorded, or the monitor died: look again), 0 when the
 * agent is not for this path, -1 when the deadline passed.  Only for a
 * running agent: a queued one's lock is taken by the scheduler without
 * waiting, and must be free then.  A timeout is a SIGALRM that breaks the
 * flock; it repeats, in case the first came before the flock began.
 */
static int
lock_wait(struct member *m, int64_t deadline)
{
	struct itimerval it;
	struct sigaction sa;
	int fd, lk, r;

	if ((fd = agent_open(&proj, m->id)) < 0)
		return 0;
	if (agent_status_at(fd) != ST_RUNNING) {
		close(fd);
		return 0;
	}
	lk = openat(fd, "lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(fd);
	if (lk < 0)
		return 0;
	if (flock(lk, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		close(lk);      /* no monitor holds it: the files tell */
		return 0;
	}
	/* Marked now, while it runs, rather than on the way out. */
	mark_waited(m);
	memset(&it, 0, sizeof it);
	if (deadline >= 0) {
		int64_t left = deadline - clock_mono_ms();

		if (left <= 0) {
			close(lk);
			return -1;
		}
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;       /* no SA_RESTART */
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL) < 0) {
			close(lk);
			return 0;
		}
		it.it_value.tv_sec = left / 1000;
		it.it_value.tv_usec = (left % 1000) * 1000;
		it.it_interval.tv_usec = 10000;
		alarmed = 0;
		if (setitimer(ITIMER_REAL, &it, NULL) < 0) {
			close(lk);
			return 0;
		}
	}
	while ((r = flock(lk, LOCK_SH)) < 0 && errno == EINTR && !alarmed)
		;
	if (deadline >= 0) {
		memset(&it, 0, sizeof it);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	close(lk);
	if (r < 0)
		return alarmed ? -1 : 0;
	m->dirty = 1;
	return 1;
}

/*
 * The user's inotify instances or watches are all taken
 * (fs.inotify.max_user_instances, max_user_watches): rather than fail a
 * fleet's waiters, look again every POLL_MS.
 */
static int
poll_instead(void)
{
	ag_warn("cannot watch %s/agents; looking every %d ms instead",
	    proj.path, POLL_MS);
	polling = 1;
	return -1;
}

static int
subscribe(void)
{
	char path[PATH_MAX + 16];
	struct rlimit rl;
	int ifd;

	/* A pidfd per agent: take the whole fd allowance, keep 64 free. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				getrlimit(RLIMIT_NOFILE, &rl);
		}
		maxwatch = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20 ?
		    1 << 20 : (long)rl.rlim_cur - 64;
	}
	if ((ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			return poll_instead();
		ag_die(AG_EXIT_FAIL, "inotify_init1");
	}
	if (proj.agents >= 0) {
		snprintf(path, sizeof path, "%s/agents", proj.path);
		if (inotify_add_watch(ifd, path, IN_ATTRIB | IN_MOVED_TO |
		    IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0) {
			if (errno == ENOSPC || errno == ENOMEM) {
				close(ifd);
				return poll_instead();
			}
			ag_die(AG_EXIT_FAIL, "cannot watch %s", path);
		}
	}
	hold_for_teardown(ifd);
	return ifd;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "any", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "session", required_argument, NULL, 's' },
		{ "children", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t timeout = -1, deadline = -1;
	int c, any = 0, json = 0, quiet = 0, ifd = -1, nsel = 0, timed_out, rc, i;
	const char *r;
	size_t k;

	ag_init_rerun(argc, argv);
	while ((c = getopt_long(argc, argv, "t:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (duration_parse(optarg, &timeout) < 0)
				ag_diex(AG_EXIT_USAGE, "bad timeout '%s': want a "
				    "duration such as 90s, 10m or 2h", optarg);
			break;
		case 'A': any = 1; break;
		case 'j': json = 1; break;
		case 'q': case 'Q': quiet = 1; break;
		case 's':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad session '%s': %s",
				    optarg, r);
			selector = SEL_SESSION;
			sel_root = optarg;
			nsel++;
			break;
		case 'c':
			if ((r = agent_id_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad agent id '%s': %s",
				    optarg, r);
			selector = SEL_CHILDREN;
			sel_root = optarg;
			nsel++;
			break;
		case 'a':
			selector = SEL_ALL;
			nsel++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			ag_exit(0);
		default:
			usage();
		}
	}
	if (nsel > 1 || (nsel && optind < argc))
		ag_diex(AG_EXIT_USAGE, "give agent ids, -s, --children or "
		    "--all, not several");
	if (!nsel && optind >= argc) {
		ag_warnx("no agents named");
		usage();
	}
	for (i = optind; i < argc; i++)
		if ((r = agent_id_check(argv[i])))
			ag_diex(AG_EXIT_USAGE, "bad agent id '%s': %s", argv[i], r);
#ifdef AG_NOJQ
	/* --json prints result.json: the build with libjq does, from the
	 * start, rather than after the wait (jvnone.c). */
	if (json && !quiet)
		ag_rerun_with_jq();
#endif

	project_open_or_die(&proj, 0);

	for (i = optind; i < argc; i++) {
		agent_exists_or_die(&proj, argv[i], "unknown agent", "", "");
		add_member(argv[i]);
	}
	if (selector == SEL_CHILDREN)
		agent_exists_or_die(&proj, sel_root, "unknown agent", "", "");
	if (selector == SEL_SESSION) {
		size_t len;
		int sfd = session_open_or_die(&proj, sel_root, sess_name);

		if (read_line_at(sfd, "id", sess_id, sizeof sess_id) < 0)
			sess_id[0] = '\0';
		sess_aliases = read_all_at(sfd, "aliases", &len);
		close(sfd);
	}
	if (selector != SEL_IDS)
		scan_selected();
	if (timeout >= 0)
		deadline = clock_mono_ms() + timeout;

	if (selector == SEL_IDS && !any && timeout != 0) {
		/* One after another: all of them is the last of them. */
		for (k = 0; k < nmembers; k++) {
			struct member *m = &members[k];
			int r = 1;

			if (m->dirty)
				refresh(m);
			while (!is_done(m) && (r = lock_wait(m, deadline)) > 0)
				refresh(m);
			if (r < 0)
				break;  /* timed out: the loop below says so */
		}
	}

	while (!all_done(any)) {
		struct pollfd *pf;
		size_t np = 1, *who;
		int wait_ms = -1, n;

		if (deadline >= 0) {
			int64_t left = deadline - clock_mono_ms();

			if (left <= 0)
				break;
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		if (polling) {
			if (wait_ms < 0 || wait_ms > POLL_MS)
				wait_ms = POLL_MS;
		} else if (ifd < 0) {
			/* Only now is there something to wait for (never for
			 * -t 0, whose inotify teardown would cost ms).  Listen
			 * first, then look again: an end between the first
			 * look and the watch still wakes us. */
			ifd = subscribe();
			waiting = 1;
			for (k = 0; k < nmembers; k++)
				members[k].dirty = 1;
			if (selector != SEL_IDS)
				scan_selected();
			continue;
		}
		pf = calloc(2 * nmembers + 1, sizeof *pf);
		who = calloc(2 * nmembers + 1, sizeof *who);
		if (!pf || !who)
			ag_die(AG_EXIT_FAIL, "out of memory");
		pf[0].fd = ifd;
		pf[0].events = POLLIN;
		for (k = 0; k < nmembers; k++) {
			if (is_done(&members[k]))
				continue;
			if (members[k].pidfd >= 0) {
				who[np] = k;
				pf[np].fd = members[k].pidfd;
				pf[np].events = POLLIN;
				np++;
			}
			if (members[k].mpidfd >= 0) {
				who[np] = k;
				pf[np].fd = members[k].mpidfd;
				pf[np].events = POLLIN;
				np++;
			}
		}
		n = poll(pf, np, wait_ms);
		if (n < 0 && errno != EINTR)
			ag_die(AG_EXIT_FAIL, "poll");
		if (n > 0 && pf[0].revents)
			drain_events(ifd);
		if (polling) {
			for (k = 0; k < nmembers; k++)
				members[k].dirty = 1;
			if (selector != SEL_IDS)
				scan_selected();
		}
		for (k = 1; n > 0 && k < np; k++) {
			struct member *m = &members[who[k]];

			if (!pf[k].revents)
				continue;
			/* The process of a monitor-less agent ended, or the
			 * monitor of one. */
			if (pf[k].fd == m->pidfd)
				watch_close(&m->pidfd);
			else
				watch_close(&m->mpidfd);
			m->dirty = 1;
		}
		free(pf);
		free(who);
	}

	timed_out = !all_done(any);
	rc = AG_EXIT_OK;
	/* Until here, JSON (an agent found lost is recorded with it) runs
	 * the whole wait again in the build with libjq: what was done so
	 * far, it finds done.  Not once we have printed. */
	ag_rerun_off();
	if (selector != SEL_IDS)
		qsort(members, nmembers, sizeof *members, cmp_member);
	for (k = 0; k < nmembers; k++) {
		struct member *m = &members[k];

		if (any && !is_done(m))
			continue;
		if (!quiet)
			print_member(m, json);
		if (is_done(m) && !ok_member(m))
			rc = AG_EXIT_NO;
		if (is_done(m))
			mark_waited(m);
	}
	if (timed_out)
		rc = AG_EXIT_TIMEOUT;
	for (k = 0; k < nmembers; k++) {
		watch_close(&members[k].pidfd);
		watch_close(&members[k].mpidfd);
		free(members[k].id);
	}
	free(members);
	project_close(&proj);
	ag_exit(rc);
}
