/*
 * import.h - usage from other tools' transcripts into billing events
 * (SPEC 6): Claude Code's projects/ *.jsonl and Codex's rollout files.
 *
 * Incremental: .project/billing/.import/SRC.files remembers per file its
 * device, inode, size and the offset read; an unchanged file is not
 * opened, a grown one is read from where the last import stopped.
 * Idempotent: SRC.keys holds a 64-bit hash of every message counted
 * (Claude: message.id + requestId; Codex: the session and the line), so
 * a message seen again, in this file or another, is not counted twice.
 * Crash-safe: each run writes its events, new keys and new file table into
 * SRC.journal (atomic, fsync'd) before it touches anything else, then
 * applies it; a run that finds a journal applies it first.  Applying is
 * idempotent: the events of the run already in a day file (they carry
 * "import":RUN) are counted, and only the rest appended.
 *
 * Imported usage is summed per agent, Claude/Codex session, model and UTC
 * hour: one event each, with "messages" counting what it holds.
 */
#ifndef AG_IMPORT_H
#define AG_IMPORT_H

#include "project.h"

enum import_src { IMPORT_CLAUDE, IMPORT_CODEX };

struct import_stats {
	long files;             /* transcript files found */
	long files_read;        /* of which new or grown */
	long long bytes;        /* read */
	long messages;          /* counted */
	long duplicates;        /* seen before, not counted again */
	long skipped;           /* malformed, synthetic, too long */
	long agent_billed;      /* already billed from an agent's result */
	long deferred;          /* transcripts left, from a message on, for an
	                         * import after a running agent's end */
	long attributed;        /* of messages, to an agent */
	long events;            /* billing events written */
	double cost;
};

/*
 * Import from dirs (n of them; n == 0: the tool's default directory).
 * Returns 0; -1 with a message in err (a missing directory: errno
 * ENOENT).
 */
int import_run(struct project *p, enum import_src src, char **dirs, int n,
    struct import_stats *st, char *err, size_t cap);

/* The longest line read; longer ones are skipped (and counted). */
#define IMPORT_LINE_MAX (64L << 20)

#endif
