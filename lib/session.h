/*
 * session.h - named sessions, .project/sessions/NAME/ (SPEC 2, 4).
 *
 * Files: state id role project created last_activity tags reason aliases,
 * and handoffs/NNNN-TYPE.json.  The id (sess_...) never changes; the name
 * is the directory's, and "ag-session name" renames it.  An archived
 * session has no live directory: archive/NAME.tar.gz holds it and
 * archive/NAME.json its summary, which list and show read.
 *
 * Every change to any session, and the numbering of handoffs, happens
 * under one flock, sessions/.lock: session commands are rare and short,
 * and one lock makes every multi-step change (rename, archive) simple to
 * prove.
 */
#ifndef AG_SESSION_H
#define AG_SESSION_H

#include "json.h"
#include "names.h"
#include "project.h"

enum session_state {
	SS_UNKNOWN = 0, SS_ACTIVE, SS_PAUSED, SS_COMPLETED, SS_ARCHIVED,
};

const char *session_state_name(enum session_state st);
enum session_state session_state_parse(const char *s);
/* The transitions of SPEC 4: active->paused, paused->active,
 * active|paused->completed, completed->archived, archived->completed. */
int session_transition_ok(enum session_state from, enum session_state to);

/* Open (creating) .project/sessions; fd or -1. */
int sessions_dir(struct project *p, int flags);
/*
 * Take the sessions lock: fd holding it, or -1.  With PROJ_CREATE,
 * sessions/ is made if missing; without, -1 with ENOENT when there is no
 * sessions/, and so no live session (nothing is made to say so).
 */
int session_lock(struct project *p, int flags);

/*
 * Find a live session by name or by id: its directory fd, with its
 * current name in name (AG_NAME_MAX + 1 bytes).  -1 with ENOENT when
 * there is none.
 */
int session_open(struct project *p, const char *ref, char *name);
/*
 * session_open, or die: exit 2 with "bad session", "unknown session" or
 * "session NAME is archived (restore it first)", 125 on an I/O error.
 */
int session_open_or_die(struct project *p, const char *ref, char *name);
/*
 * The sessions lock (in *lfd), then session_open_or_die: for a command on
 * a session that must exist, which creates nothing when it does not.
 */
int session_lock_open_or_die(struct project *p, const char *ref, char *name,
    int *lfd);
/* Is there an archived session of that name (or id: name is set)? */
int session_archived(struct project *p, const char *ref, char *name);
/*
 * Return if agent id is there; else exit 2 with "WHAT 'ID'WHERE" and,
 * when an archived session took it, ": archived with session S
 * (ag-session restore S)", then hint.
 */
void agent_exists_or_die(struct project *p, const char *id,
    const char *what, const char *where, const char *hint);
enum session_state session_state_at(int sfd);
/* Set last_activity to now. */
int session_touch(int sfd);
/* The tags, a jv array of strings. */
jv session_tags(int sfd);
/* Everything show prints, as an object (name, id, state, ...). */
jv session_info(int sfd, const char *name);
/*
 * The ids of the agents of a session (its fd and current name): those
 * whose session file names it by its name, its id, or an old name.
 */
jv session_agent_ids(struct project *p, int sfd, const char *name);
/* Does s (an agent's session file) name the session: its name, its id,
 * or a name in aliases (one a line, may be NULL)? */
int session_names_match(const char *s, const char *name, const char *id,
    const char *aliases);
/* A new sess_ id into buf (AG_NAME_MAX + 1 bytes). */
void session_new_id(char *buf);

#endif
