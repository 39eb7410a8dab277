/*
 * ag-spawn - start a command as a background agent.
 *
 *   ag-spawn [-n NAME] [-r ROLE] [-t TIMEOUT] [--grace DUR] -- COMMAND [ARG...]
 *
 * Builds the agent's directory under a hidden temporary name, renames it
 * into place once with RENAME_NOREPLACE (which is also what refuses a
 * duplicate id), forks the monitor and returns: the agent runs detached
 * under its monitor (lib/launch.h) and outlives the shell.  The command is
 * looked up on the agent's PATH first, as execvp would: one that cannot
 * be executed is recorded failed and reported here, 127 or 126, and
 * nothing is started.  With -q or --after the agent is queued and started
 * by the scheduler (lib/sched.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "billing.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "launch.h"
#include "names.h"
#include "project.h"
#include "sched.h"
#include "session.h"

extern char **environ;

static const char usage_text[] =
    "usage: ag-spawn [-n NAME] [-r ROLE] [-s SESSION] [-t TIMEOUT] "
    "[--grace DUR]\n"
    "                [-q QUEUE [--slots N]] [--after ID[,ID...]]\n"
    "                [--parent ID | --no-parent] [-d DESCRIPTION] "
    "[-e KEY=VALUE]...\n"
    "                -- COMMAND [ARG...]\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

enum {
	OPT_SLOTS = 256, OPT_AFTER, OPT_PARENT, OPT_NO_PARENT, OPT_GRACE,
	OPT_ISOLATE, OPT_GATE, OPT_MERGE, OPT_FORBID, OPT_KEEP,
};

static const struct option longopts[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "role", required_argument, NULL, 'r' },
	{ "session", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "queue", required_argument, NULL, 'q' },
	{ "slots", required_argument, NULL, OPT_SLOTS },
	{ "after", required_argument, NULL, OPT_AFTER },
	{ "parent", required_argument, NULL, OPT_PARENT },
	{ "no-parent", no_argument, NULL, OPT_NO_PARENT },
	{ "description", required_argument, NULL, 'd' },
	{ "env", required_argument, NULL, 'e' },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "isolate", no_argument, NULL, OPT_ISOLATE },
	{ "gate", required_argument, NULL, OPT_GATE },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "forbid", required_argument, NULL, OPT_FORBID },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct envb {
	char **v;
	size_t n, cap;
};

/* Append kv; with kv NULL, only make sure the vector exists. */
static void
env_push(struct envb *e, char *kv)
{
	if (e->n + 2 > e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		if (!(e->v = realloc(e->v, e->cap * sizeof *e->v)))
			ag_die(AG_EXIT_FAIL, "cannot build the environment");
	}
	if (kv)
		e->v[e->n++] = kv;
	e->v[e->n] = NULL;
}

/* Set KEY=VAL in the agent's environment; VAL NULL removes KEY. */
static void
env_set(struct envb *e, const char *key, const char *val)
{
	size_t klen = strlen(key), i;
	char *kv = NULL;

	if (val && asprintf(&kv, "%s=%s", key, val) < 0)
		ag_die(AG_EXIT_FAIL, "cannot build the environment");
	for (i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], key, klen) || e->v[i][klen] != '=')
			continue;
		if (kv) {
			e->v[i] = kv;
		} else {
			e->v[i] = e->v[--e->n];
			e->v[e->n] = NULL;
		}
		return;
	}
	if (kv)
		env_push(e, kv);
}

/* Build the new agent under a hidden name; returns its fd.  An agent that
 * starts at once takes the spare directory when there is one (its files
 * are there, empty, to be filled). */
static int
make_temp_dir(struct project *p, char *name, size_t cap, int spare)
{
	int i, fd;

	for (i = 0; i < 10; i++) {
		char r[7];

		random_name(r, sizeof r);
		snprintf(name, cap, ".tmp-%s", r);
		if (spare && (fd = agent_spare_take(p, name)) >= 0)
			return fd;
		spare = 0;
		if (mkdirat(p->agents, name, 0755) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	fd = openat(p->agents, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* The start under way, if any: stopped before its directory goes. */
static struct launch *launching;

/*
 * The agent is published: print its id and leave.  M shares our memory
 * (agent_launch), so from here no malloc and no buffered stdio, only a
 * write and the exit, which is the agent's go (stderr, unbuffered, only
 * to say that the write failed).  close(1) reports what fclose would.
 */
static _Noreturn void
say_id_and_leave(const char *id)
{
	char line[AG_ID_MAX + 2];
	size_t n = strlen(id);
	int code = 0;

	memcpy(line, id, n);
	line[n++] = '\n';
	if (write_all(1, line, n) < 0 || close(1) < 0) {
		ag_warn("cannot write standard output");
		code = AG_EXIT_FAIL;
	}
	agent_launch_exit(code);
}

/* Undo a half-made agent: nothing runs yet, so only its directory. */
static _Noreturn void
fail_temp(struct project *p, const char *tmp, const char *what)
{
	int e = errno;

	if (launching)
		agent_launch_abort(launching);
	rm_rf_at(p->agents, tmp);
	errno = e;
	ag_die(AG_EXIT_FAIL, "%s", what);
}

static int
publish(struct project *p, const char *tmp, const char *id)
{
	return renameat2(p->agents, tmp, p->agents, id, RENAME_NOREPLACE);
}

/* The rename failed: a duplicate id (exit 2), or a system error (125). */
static void
publish_failed(struct project *p, const char *tmp, int dirfd, const char *id,
    int generated)
{
	int e = errno;

	rm_rf_at(p->agents, tmp);
	close(dirfd);
	if (e == EEXIST || e == ENOTEMPTY) {
		if (generated)
			return;         /* the caller retries with a new id */
		ag_diex(AG_EXIT_USAGE, "agent id '%s' is already in use", id);
	}
	errno = e;
	ag_die(AG_EXIT_FAIL, "cannot publish agent %s", id);
}

/*
 * -s SESSION: the session must exist and be active.  Its current name is
 * what the agent records (an id given on the command line is resolved),
 * and the spawn counts as activity.
 */
static void
join_session(struct project *p, char *session)
{
	char name[AG_NAME_MAX + 1];
	enum session_state st;
	int lfd, sfd;

	sfd = session_lock_open_or_die(p, session, name, &lfd);
	if ((st = session_state_at(sfd)) != SS_ACTIVE)
		ag_diex(AG_EXIT_USAGE, "session %s is %s, not active", name,
		    session_state_name(st));
	if (session_touch(sfd) < 0)
		ag_warn("cannot touch session %s", name);
	close(sfd);
	close(lfd);
	memcpy(session, name, strlen(name) + 1);
}

/*
 * s with its control characters spelled out (\r, \t, \x01), for the
 * message that also goes into output.log: a #! line saved with DOS line
 * endings names "/bin/sh\r", which must show.
 */
static const char *
visible(const char *s, char *buf, size_t size)
{
	ag_escape(buf, size, s, strlen(s));
	return buf;
}

/* A command that cannot be executed: the agent is recorded failed with
 * 127 or 126, as a shell would report it, and nothing is started. */
static int
record_exec_failure(int dirfd, struct agent_spec *s, const char *what, int e)
{
	struct agent_end end;
	int n, fd, r;
	char *msg;

	n = asprintf(&msg, "%s: %s: %s\n", ag_prog, what, strerror(e));
	if (n < 0)
		return -1;
	fd = openat(dirfd, "output.log", O_WRONLY | O_APPEND | O_CLOEXEC);
	r = fd < 0 ? -1 : write_all(fd, msg, (size_t)n);
	free(msg);
	if (fd >= 0 && close(fd) < 0)
		r = -1;
	if (r < 0)
		return -1;
	memset(&end, 0, sizeof end);
	end.status = ST_FAILED;
	end.exit_code = exec_errno_code(e);
	end.ended_ms = clock_wall_ms();
	end.spec = s;
	return agent_finish(NULL, dirfd, s->id, &end);
}

/*
 * Our queue pass left to a build with libjq what it could not do (an
 * agent to fail, sched.h): the helper makes the pass, as this process,
 * whose exit status and output are ours (the id is out already).
 */
static void
pass_with_jq(struct project *p)
{
	char path[4400];

	if (fflush(stdout) == EOF)
		ag_die(AG_EXIT_FAIL, "cannot write the agent's id");
	if (ag_libexec_path(path, sizeof path, "ag-monitor") < 0) {
		ag_warn("cannot find ag-monitor; the queue waits for "
		    "ag-watchdog");
		return;
	}
	execl(path, ag_prog, "--pass", p->path, (char *)NULL);
	ag_warn("cannot run %s; the queue waits for ag-watchdog", path);
}

int
main(int argc, char **argv)
{
	struct agent_spec s;
	struct project p;
	struct envb env = { 0 };
	char **after = NULL, tmp[32], parent_env[AG_ID_MAX + 1];
	const char *name = NULL, *parent = NULL, *r, *slots_arg = NULL;
	int c, no_parent = 0, generated = 0, nafter = 0, queued, dirfd, lockfd;
	int isolate = 0, k, exec_err;
	struct launch launch = { -1, -1, -1, NULL };
	long slots = 0;
	char **ep, *cwd, interp[256], what[3072];
	char name_shown[1024];

	ag_init_rerun(argc, argv);
	memset(&s, 0, sizeof s);
	snprintf(s.role, sizeof s.role, "workagent");
	s.grace_ms = AG_GRACE_DEFAULT_MS;
	for (ep = environ; *ep; ep++)
		env_push(&env, *ep);
	if (!env.v)
		env_push(&env, NULL);

	while ((c = getopt_long(argc, argv, "+n:r:s:t:q:d:e:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'n':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad name '%s': %s",
				    optarg, r);
			name = optarg;
			break;
		case 'r':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad role '%s': %s",
				    optarg, r);
			snprintf(s.role, sizeof s.role, "%s", optarg);
			break;
		case 's':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad session '%s': %s",
				    optarg, r);
			snprintf(s.session, sizeof s.session, "%s", optarg);
			break;
		case 't':
			if (duration_parse(optarg, &s.timeout_ms) < 0 ||
			    s.timeout_ms <= 0)
				ag_diex(AG_EXIT_USAGE, "bad timeout '%s': want a "
				    "duration such as 90s, 10m or 2h", optarg);
			break;
		case OPT_GRACE:
			if (duration_parse(optarg, &s.grace_ms) < 0)
				ag_diex(AG_EXIT_USAGE, "bad grace period '%s': "
				    "want a duration such as 5s", optarg);
			break;
		case 'q':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad queue '%s': %s",
				    optarg, r);
			snprintf(s.queue, sizeof s.queue, "%s", optarg);
			break;
		case OPT_SLOTS: {
			char *end;

			errno = 0;
			slots = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || slots < 1 ||
			    slots > 100000)
				ag_diex(AG_EXIT_USAGE, "bad --slots '%s': want a "
				    "whole number from 1", optarg);
			slots_arg = optarg;
			break;
		}
		case OPT_AFTER: {
			char *list = strdup(optarg), *tok, *save = NULL;

			if (!list)
				ag_die(AG_EXIT_FAIL, "out of memory");
			for (tok = strtok_r(list, ",", &save); tok;
			    tok = strtok_r(NULL, ",", &save)) {
				if ((r = agent_id_check(tok)))
					ag_diex(AG_EXIT_USAGE, "bad --after id "
					    "'%s': %s", tok, r);
				if (!(after = realloc(after, (size_t)(nafter + 2) *
				    sizeof *after)))
					ag_die(AG_EXIT_FAIL, "out of memory");
				after[nafter++] = tok;
				after[nafter] = NULL;
			}
			if (!nafter)
				ag_diex(AG_EXIT_USAGE, "--after needs an agent id");
			break;
		}
		case OPT_PARENT:
			if ((r = agent_id_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad parent id '%s': %s",
				    optarg, r);
			parent = optarg;
			break;
		case OPT_NO_PARENT:
			no_parent = 1;
			break;
		case 'd':
			s.description = optarg;
			break;
		case 'e': {
			char *eq = strchr(optarg, '='), key[256];

			if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof key)
				ag_diex(AG_EXIT_USAGE, "bad -e '%s': want "
				    "KEY=VALUE", optarg);
			memcpy(key, optarg, (size_t)(eq - optarg));
			key[eq - optarg] = '\0';
			env_set(&env, key, eq + 1);
			break;
		}
		case OPT_ISOLATE: case OPT_GATE: case OPT_MERGE:
		case OPT_FORBID: case OPT_KEEP:
			isolate = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			ag_exit(0);
		default:
			usage();
		}
	}
	if (optind >= argc) {
		ag_warnx("no command given (put it after --)");
		usage();
	}
	if (slots_arg && !s.queue[0])
		ag_diex(AG_EXIT_USAGE, "--slots needs -q QUEUE");
	if (parent && no_parent)
		ag_diex(AG_EXIT_USAGE, "--parent and --no-parent conflict");
	if (isolate)
		ag_diex(AG_EXIT_USAGE, "--isolate: git isolation is not part "
		    "of this build yet");
	if (s.description && (r = strpbrk(s.description, "\n\r")))
		ag_diex(AG_EXIT_USAGE, "bad description: it contains a "
		    "line break");

	/* The parent: --parent, else the agent we run inside. */
	if (!parent && !no_parent) {
		const char *e = getenv("AG_AGENT_ID");

		if (e && *e) {
			if ((r = agent_id_check(e)))
				ag_diex(AG_EXIT_USAGE, "bad AG_AGENT_ID '%s': %s",
				    e, r);
			snprintf(parent_env, sizeof parent_env, "%s", e);
			parent = parent_env;
		}
	}
	/* A project, or agents/, is made only once what the spawn names
	 * is found: with none, a session, a parent or an --after agent
	 * cannot exist, and bad input changes nothing. */
	if (project_open(&p, 0) < 0) {
		if (errno != ENOENT)
			project_fail(&p);
		project_close(&p);
	}
	if (s.session[0])
		join_session(&p, s.session);
	if (parent) {
		agent_exists_or_die(&p, parent, "unknown parent agent", "",
		    parent == parent_env ?
		    " (from AG_AGENT_ID; use --no-parent)" : "");
		snprintf(s.parent, sizeof s.parent, "%s", parent);
	}
	for (k = 0; k < nafter; k++)
		agent_exists_or_die(&p, after[k], "unknown agent",
		    " in --after", "");
	s.after = after;
	if (p.agents < 0) {
		project_close(&p);
		project_open_or_die(&p, PROJ_CREATE);
		if (p.agents < 0)
			ag_die(AG_EXIT_FAIL, "cannot open %s/agents", p.path);
	}
	if (!(cwd = getcwd(NULL, 0)))
		ag_die(AG_EXIT_FAIL, "cannot get the current directory");
	s.cwd = cwd;
	s.argv = argv + optind;
	queued = s.queue[0] || nafter > 0;

again:
	if (name) {
		int n = snprintf(s.id, sizeof s.id, "%s%s%s", s.parent,
		    s.parent[0] ? "." : "", name);

		if (n >= (int)sizeof s.id)
			ag_diex(AG_EXIT_USAGE, "agent id '%s.%s' is longer than "
			    "255 characters", s.parent, name);
	} else {
		char rid[7];

		random_name(rid, sizeof rid);
		if (snprintf(s.id, sizeof s.id, "%s%s%s", s.parent,
		    s.parent[0] ? "." : "", rid) >= (int)sizeof s.id)
			ag_diex(AG_EXIT_USAGE, "parent id '%s' is too long to "
			    "add a child", s.parent);
		generated = 1;
	}
	if (faccessat(p.agents, s.id, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if (generated)
			goto again;
		ag_diex(AG_EXIT_USAGE, "agent id '%s' is already in use", s.id);
	}

	env_set(&env, "AG_AGENT_ID", s.id);
	env_set(&env, "AG_PROJECT", p.path);
	env_set(&env, "AG_ROLE", s.role);
	env_set(&env, "AG_PARENT_ID", s.parent[0] ? s.parent : NULL);
	env_set(&env, "AG_SESSION", s.session[0] ? s.session : NULL);
	s.envp = env.v;

	exec_err = command_resolve(s.argv[0], s.envp, &s.exec_path);
	if (exec_err == ENOMEM)
		ag_die(AG_EXIT_FAIL, "out of memory");
	interp[0] = '\0';
	if (!exec_err)
		exec_err = command_interp_check(s.exec_path ? s.exec_path :
		    s.argv[0], interp, sizeof interp);
	if (exec_err) {
		char shown[4 * sizeof interp];

		visible(s.argv[0], name_shown, sizeof name_shown);
		if (interp[0])
			snprintf(what, sizeof what, "cannot execute %s: "
			    "interpreter '%s'", name_shown,
			    visible(interp, shown, sizeof shown));
		else
			snprintf(what, sizeof what, "cannot execute %s",
			    name_shown);
	}
#ifdef AG_NOJQ
	/* A command that cannot run is recorded with its result.json: by
	 * the build with libjq (jvnone.c), which checks it again. */
	if (exec_err)
		ag_rerun_with_jq();
#endif
	/* What is done so far a second run does again harmlessly; from here
	 * on it would make a second agent. */
	ag_rerun_off();
	if ((dirfd = make_temp_dir(&p, tmp, sizeof tmp, !queued && !exec_err)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot create an agent directory in "
		    "%s/agents", p.path);
	if ((lockfd = lock_at(dirfd, "lock", LOCK_EX)) < 0)
		fail_temp(&p, tmp, "cannot lock the agent");
	s.started_ms = clock_wall_ms();
	if (!queued && !exec_err) {
		/* It starts now: M and A get going while we write the rest.
		 * A failure from here on stops them (fail_temp), and A,
		 * never published, runs nothing. */
		launching = &launch;
		if (agent_launch(&p, dirfd, lockfd, &s, &launch) < 0)
			fail_temp(&p, tmp, "cannot start the agent");
	}
	if (agent_spec_create(dirfd, &s, queued && !exec_err) < 0)
		fail_temp(&p, tmp, "cannot write the agent's files");
	if (!queued || exec_err) {
		/* It starts now, or is recorded as having tried to. */
		char ts[AG_TS_LEN];

		ts_format(s.started_ms, ts);
		if (fill_puts_at(dirfd, "started", ts) < 0 ||
		    agent_write_header(dirfd, &s) < 0)
			fail_temp(&p, tmp, "cannot write the agent's files");
	}
	if (exec_err) {
		/* It cannot run: record it failed, start nothing. */
		if (record_exec_failure(dirfd, &s, what, exec_err) < 0)
			fail_temp(&p, tmp, "cannot write the agent's files");
		close(lockfd);
		if (publish(&p, tmp, s.id) < 0) {
			publish_failed(&p, tmp, dirfd, s.id, generated);
			goto again;
		}
		/* Billed only once it exists under its name. */
		if (billing_append(&p, billing_agent_end(s.id, s.role, s.parent,
		    s.session, 0, "failed", clock_wall_ms())) < 0)
			ag_warn("cannot append the agent_end event of %s", s.id);
		printf("%s\n", s.id);
		fflush(stdout);
		errno = exec_err;
		ag_warn("%s", what);
		ag_exit(exec_errno_code(exec_err));
	}
	if (!queued) {
		if (fill_puts_at(dirfd, "status", "running") < 0)
			fail_temp(&p, tmp, "cannot write the agent's files");
		/* pid and pidstart are in before the id is out. */
		if (agent_launch_ready(&launch) < 0)
			fail_temp(&p, tmp, "cannot start the agent");
		/* Published before anything runs: a duplicate starts nothing. */
		if (publish(&p, tmp, s.id) < 0) {
			agent_launch_abort(&launch);
			launching = NULL;
			close(lockfd);
			publish_failed(&p, tmp, dirfd, s.id, generated);
			goto again;
		}
		/* Our exit closes the link, and A, finding its directory
		 * published, runs: sooner for the shell than a word that
		 * would wake A while we still have to exit. */
		close(lockfd);
		say_id_and_leave(s.id);
	}
	if (create_puts_at(dirfd, "status", "queued") < 0)
		fail_temp(&p, tmp, "cannot write the agent's files");
	{
		int slock;

		close(lockfd);  /* the scheduler takes it when it starts us */
		if ((slock = sched_lock(&p)) < 0)
			fail_temp(&p, tmp, "cannot lock the queue");
		if (publish(&p, tmp, s.id) < 0) {
			close(slock);
			publish_failed(&p, tmp, dirfd, s.id, generated);
			goto again;
		}
		if (sched_enqueue(&p, s.id) < 0)
			ag_die(AG_EXIT_FAIL, "cannot queue agent %s", s.id);
		if (slots && sched_set_slots(&p, s.queue, slots) < 0)
			ag_die(AG_EXIT_FAIL, "cannot set the slots of queue %s",
			    s.queue);
		if (sched_pass(&p) < 0)
			ag_warn("queue pass failed; ag-watchdog will retry");
		close(slock);
		printf("%s\n", s.id);
		if (sched_left_for_jq)
			pass_with_jq(&p);
		ag_exit(0);
	}
}
