#!/bin/sh
# The wiring in examples/, driven as a user would: the Makefile (agents as
# make targets, the task-store workers), the crontab's lines, and the
# Claude Code hook with its settings.json; as make install puts them.
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
EX=$(cd "$AG_BIN/../share/doc/ag/examples" && pwd) || exit 1

# ---- examples/Makefile ----
git init -q .
mkdir src
for f in a b c; do echo "int $f;" >"src/$f.c"; done
# A stand-in for claude -p: reads the file named last in its prompt,
# fails on one that says "bad", and holds on a FIFO when one is named.
cat >agent <<'EOF'
#!/bin/sh
f=${1##* }
echo "[PROGRESS] 1/1 reading $f"
[ -n "${HOLD:-}" ] && read x <"$HOLD"
sleep "${NAP:-0}"
grep -q bad "$f" && { echo "error: $f is bad" >&2; exit 3; }
echo "[RESULT] {\"file\":\"$f\",\"lines\":$(wc -l <"$f")}"
EOF
chmod +x agent
mk() { make -s -f "$EX/Makefile" AGENT="$T/agent" "$@"; }
nagents() { ls .project/agents | wc -l | tr -d ' '; }

mk >"$T/mk.out" 2>&1
is "make without FILES: usage, exit 2" "$?:$(grep -c usage "$T/mk.out")" "2:1"
mk -j3 FILES="src/a.c src/b.c src/c.c" >"$T/mk.out" 2>&1
is "make -j3: one agent per file, exit 0" "$?:$(nagents)" "0:3"
is "  each target is its agent's result.json" \
    "$(jq -c .output.metrics out/src/b.c.json)" '{"file":"src/b.c","lines":1}'
is "  every agent in the session make-review" \
    "$(ag-ps --all -s make-review | tail -n +2 | wc -l | tr -d ' ')" 3
mk -j3 FILES="src/a.c src/b.c src/c.c" >/dev/null 2>&1
is "  again: nothing changed, no agent spawned" "$(nagents)" 3
ag-session pause make-review >/dev/null
sleep 0.01
echo "int a2;" >>src/a.c
mk -j3 FILES="src/a.c src/b.c src/c.c" >/dev/null 2>&1
is "  an input changed: that file's agent only" \
    "$(nagents):$(jq .output.metrics.lines out/src/a.c.json)" "4:2"
is "  in its session, resumed from paused" \
    "$(ag-session show make-review | sed -n 's/^state: //p')" active
echo bad >src/bad.c
mk -j3 FILES="src/a.c src/bad.c" >"$T/mk.out" 2>&1
rc=$?
is "a failing agent fails the make" "$([ $rc != 0 ] && echo failed)" failed
is "  and leaves no target" "$(ls out/src)" "$(printf 'a.c.json\nb.c.json\nc.c.json')"
like "  make names the file" "$(cat "$T/mk.out")" "out/src/bad.c.json"
like "make status: the session's table" "$(mk status)" "failed.*reading src/bad.c"
like "make cost: the session's cost by agent, totals last" \
    "$(mk cost | tail -n 1)" "^TOTAL"
# SLOTS=1: the queue runs the agents one after another, make -j or not.
rm -rf out
NAP=0.2 mk -j3 FILES="src/a.c src/b.c src/c.c" SLOTS=1 SESSION=serial \
    >/dev/null 2>&1
is "SLOTS=1 with make -j3: three agents" \
    "$(ag-ps --all -s serial | tail -n +2 | wc -l | tr -d ' ')" 3
is "  never two at once" "$(for f in out/src/*.json; do
	jq -r '[.start_time, .end_time]|@tsv' "$f"; done | sort |
    awk -F'\t' 'NR > 1 && $1 < prev { bad = 1 } { prev = $2 }
	END { print bad ? "overlap" : "serial" }')" serial
# make stop: the session's agents, while a make waits on them.
rm -rf out
mkfifo "$T/hold"
HOLD=$T/hold mk -j2 FILES="src/a.c src/b.c" SESSION=held >/dev/null 2>&1 &
mkpid=$!
n=0
while [ "$(ag-ps --running -s held 2>/dev/null | tail -n +2 | wc -l)" -lt 2 ] &&
    [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
mk stop SESSION=held >/dev/null 2>&1
is "make stop: the session's agents stopped" \
    "$(ag-ps --all --json -s held | jq -r .status | sort -u)" stopped
wait $mkpid
is "  and the make that waited on them fails" "$?" 2
is "  leaving no target" "$(ls out/src 2>/dev/null)" ""

# make work: the task store, WORKERS agents claiming until none is left.
cat >job <<'EOF'
#!/bin/sh
case $1 in *bad*) exit 4 ;; esac
echo "did $1"
EOF
chmod +x job
make -s -f "$EX/Makefile" work TASKS="t1 t2 t3 t4 t5" WORKERS=3 \
    AGENT="$T/job" SESSION=tasks >"$T/work.out" 2>&1
is "make work: exit 0 when every task is done" "$?" 0
is "  five tasks done" "$(ag-task list --status done | wc -l | tr -d ' ')" 5
is "  by three workers of the session" \
    "$(ag-ps --all -s tasks | tail -n +2 | wc -l | tr -d ' ')" 3
is "  no task done twice" \
    "$(ag-task list --status done | cut -f5 | sort | uniq -d)" ""
make -s -f "$EX/Makefile" work TASKS="t6 bad7" WORKERS=1 AGENT="$T/job" \
    SESSION=tasks >/dev/null 2>&1
is "  a task failing fails the make" "$?" 2
is "  and is recorded failed, with the exit" \
    "$(ag-task list --status failed --json | jq -r '[.description, .reason]|@tsv')" \
    "$(printf 'bad7\texit 4')"
expect_exit 2 "the worker without a command: usage" "$EX/worker"
# A worker stopped in the middle of a task puts it back at once.
mkfifo "$T/wstart"
tid=$(ag-task add "long one")
ag-spawn -n wstop -- "$EX/worker" sh -c "echo >'$T/wstart'; sleep 30" x >/dev/null
read x <"$T/wstart"
is "  a worker at work holds its task" \
    "$(ag-task list --status claimed | cut -f1,4)" "$(printf '%s\twstop' "$tid")"
ag-stop wstop >/dev/null
is "  stopped, it puts the task back" \
    "$(ag-task list --status pending | cut -f1,4)" "$(printf '%s\t-' "$tid")"

# ---- examples/crontab ----
# Each line as cron runs it, in a project of its own: $HOME/src/app is it,
# and \% is %.
rm -rf "$T/app" && mkdir -p "$T/app/.project" "$T/claude/projects/-app"
cronjobs() {
	grep -v '^[[:space:]]*#' "$EX/crontab" | grep -v '^[[:space:]]*$' |
	    grep -v '^[A-Z_]*=' |
	    awk '{ for (i = 1; i <= 5; i++) $i = ""; sub(/^ +/, ""); print }' |
	    sed -e "s|\$HOME/src/app|$T/app|g" -e 's/\\%/%/g'
}
is "crontab: every job line has five time fields" \
    "$(grep -v '^[[:space:]]*#' "$EX/crontab" | grep -v '^[[:space:]]*$' |
	grep -v '^[A-Z_]*=' | awk 'NF < 6 || $1 !~ /^[0-9*\/,-]+$/' )" ""
(cd "$T/app" && ag-session start -r supervisor old >/dev/null &&
    ag-session end old >/dev/null && ag-session start -r supervisor new \
    >/dev/null && ag-session end new >/dev/null)
echo 2026-01-01T00:00:00.000Z >"$T/app/.project/sessions/old/last_activity"
# An agent whose monitor and process died: the watchdog's to record lost.
(cd "$T/app" && ag-spawn -t 1h -n crashed -- sleep 300 >/dev/null &&
    kill -KILL "$(cat .project/agents/crashed/heartbeat)" \
    "$(cat .project/agents/crashed/pid)")
# A monitor killed lets go of the agent's lock once it is reaped.
flock -w 10 "$T/app/.project/agents/crashed/lock" true
printf '%s\n' '{"cwd":"/w","sessionId":"cs","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":1000000,"output_tokens":0}},"requestId":"r1","type":"assistant","timestamp":"2026-11-20T10:00:00.000Z"}' \
    >"$T/claude/projects/-app/cs.jsonl"
fails=
cronjobs >"$T/jobs"
while IFS= read -r job; do
	CLAUDE_CONFIG_DIR=$T/claude sh -c "$job" >"$T/job.out" 2>&1 </dev/null ||
	    fails="$fails [$job: $(cat "$T/job.out")]"
done <"$T/jobs"
is "  each job runs, exit 0" "$fails" ""
is "  four jobs" "$(wc -l <"$T/jobs" | tr -d ' ')" 4
is "  the watchdog's log has what it did, not its score" \
    "$(cat "$T/app/.project/watchdog.log")" "lost crashed"
is "  which went to compliance.jsonl" "$(wc -l <"$T/app/.project/compliance.jsonl")" 1
is "  the transcripts are imported" \
    "$(cd "$T/app" && ag-cost report --json | tail -n 1 | jq .input_tokens)" 1000000
is "  the session completed a week ago is archived, the new one is not" \
    "$(cd "$T/app" && ag-session list | cut -d' ' -f1,2 | sort | tr '\n' ' ')" \
    "new completed old archived "
like "  the weekly report has its totals" "$(tail -n 3 "$T/job.out")" "^TOTAL"

# ---- examples/claude ----
S=$EX/claude/settings.json
is "settings.json: the four events" "$(jq -c '.hooks|keys' "$S")" \
    '["SessionEnd","SessionStart","Stop","SubagentStop"]'
is "  each runs ag-claude-hook from the project's .claude/hooks" \
    "$(jq -r '.hooks[][].hooks[].command' "$S" | sort -u)" \
    '"$CLAUDE_PROJECT_DIR"/.claude/hooks/ag-claude-hook'
H=$EX/claude/ag-claude-hook
cd "$T/app" || exit 1
ag-session start -r supervisor feat >/dev/null
ag-handoff write feat -t supervisor_continuation -f work_completed="the parser" \
    -f next_steps="the printer" >/dev/null
ev() { printf '{"hook_event_name":"%s","session_id":"x","cwd":"%s","transcript_path":"%s","source":"startup"}' \
    "$1" "${2:-$T/app}" "${3:-}"; }
out=$(ev SessionStart | AG_SESSION=feat "$H")
is "SessionStart: exit 0" "$?" 0
like "  prints the session's latest handoff, for Claude's context" "$out" \
    "the printer"
is "  the same Markdown as ag-handoff read" "$out" "$(ag-handoff read feat latest)"
is "  without AG_SESSION: nothing" "$(ev SessionStart | "$H"; echo "rc=$?")" rc=0
ag-session start -r supervisor bare >/dev/null
is "  a session without handoffs: nothing" \
    "$(ev SessionStart | AG_SESSION=bare "$H" 2>&1; echo "rc=$?")" rc=0
mkdir -p "$T/cl/projects/-app"
printf '%s\n' '{"cwd":"/w","sessionId":"hk","message":{"id":"h1","model":"claude-sonnet-4-5","usage":{"input_tokens":500000,"output_tokens":0}},"requestId":"r1","type":"assistant","timestamp":"2026-11-20T10:00:00.000Z"}' \
    >"$T/cl/projects/-app/hk.jsonl"
tp=$T/cl/projects/-app/hk.jsonl
ev Stop "$T/app" "$tp" | "$H"
is "Stop: exit 0" "$?" 0
hk() { ag-cost report --json --where '.claude_session == "hk"' | tail -n 1 |
    jq .input_tokens; }
is "  the transcript's usage is in the billing" "$(hk)" 500000
ev SubagentStop "$T/app" "$tp" | "$H"
ev SessionEnd "$T/app" "$tp" | "$H"
is "  SubagentStop, SessionEnd: counted once however often" "$(hk)" 500000
# $T has a project (the Makefile's): a folder outside it.
np=$(mktemp -d "${TMPDIR:-/tmp}/ag-noproj.XXXXXX")
ev Stop "$np" "$tp" | "$H"
is "outside any project: exit 0" "$?" 0
is "  and no .project made" "$(ls -a "$np" | grep -c project)" 0
rm -rf "$np"
is "malformed input: exit 0, nothing said" \
    "$(echo 'not json' | "$H" 2>&1; echo "rc=$?")" rc=0

# make install puts them where this test found them; make uninstall takes
# away all that install put.
im() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SRC" \
    DESTDIR="$T/inst" PREFIX=/usr SAN="${AG_SAN:-}" "$@" >/dev/null 2>&1; }
im install
is "make install: the examples, runnable" \
    "$(cd "$T/inst/usr/share/doc/ag/examples" && ls -F | tr '\n' ' ')" \
    "Makefile claude/ crontab demo.sh fake-agent* worker* "
im uninstall
is "make uninstall leaves no file behind" "$(find "$T/inst" -type f)" ""

done_testing
