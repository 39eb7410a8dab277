#!/bin/sh
# ag-watchdog: one pass for cron.
. "$(dirname "$0")/lib.sh"

expect_exit 2 "no project: exit 2" ag-watchdog
ag-spawn -t 1h -n fine -- sleep 300 >/dev/null
# Lost: agent and monitor both killed with -9.
ag-spawn -t 1h -n crashed -- sleep 300 >/dev/null
kill -KILL "$(cat .project/agents/crashed/heartbeat)" "$(cat .project/agents/crashed/pid)"
# Timeout: the monitor is gone, the agent runs past its deadline.
ag-spawn -t 1s --grace 200ms -n overdue -- sleep 300 >/dev/null
opid=$(cat .project/agents/overdue/pid)
kill -KILL "$(cat .project/agents/overdue/heartbeat)"
# Orphans: the parent ended, its child (and grandchild) still run.
ag-spawn -t 1h -n parent -- sh -c 'ag-spawn -t 1h -n child -- sh -c "ag-spawn -t 1h -n grand -- sleep 300 >/dev/null; sleep 300" >/dev/null' >/dev/null
ag-wait parent >/dev/null
i=0; while [ ! -s .project/agents/parent.child.grand/pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
# Claims: one whose agent ended.
ag-task add --id t1 "a task" >/dev/null
ag-task claim -a parent >/dev/null
# A session idle for long.
ag-session start idle >/dev/null
echo 2026-01-01T00:00:00.000Z >.project/sessions/idle/last_activity
# A queue whose running member is lost: its successor may start.
ag-spawn -t 1h -n q1 -q lane -- sleep 300 >/dev/null
ag-spawn -t 1h -n q2 -q lane -- sleep 300 >/dev/null
kill -KILL "$(cat .project/agents/q1/heartbeat)" "$(cat .project/agents/q1/pid)"
sleep 1.2

# --dry-run reports and changes nothing.
snap() { (cat .project/agents/*/status; ls -R .project/tasks; cat .project/compliance.jsonl 2>/dev/null) | md5sum; }
before=$(snap)
dry=$(ag-watchdog --dry-run)
like "--dry-run reports the lost agent" "$dry" '^lost crashed$'
like "  the timeout" "$dry" '^timeout overdue'
like "  the orphans" "$dry" '^orphan parent.child stopped$'
like "  the claim" "$dry" '^released t1 \(claimed by parent, '
is "  and changes nothing" "$(snap)" "$before"
check "  the overdue process still runs" kill -0 "$opid"

out=$(ag-watchdog)
is "lost: one line" "$(echo "$out" | grep -c '^lost crashed$')" 1
is "  status lost" "$(st crashed)" lost
is "  a [LOST] line" "$(tail -n 1 .project/agents/crashed/output.log | cut -d' ' -f1)" "[LOST]"
is "  an agent_end event" "$(cat .project/billing/.tracking-*.jsonl | jq -r 'select(.event=="agent_end" and .agent_id=="crashed") | .status')" lost
like "timeout: one line" "$out" '^timeout overdue \(after 1.0s\)$'
is "  status timeout, exit 124" "$(st overdue) $(cat .project/agents/overdue/exit)" "timeout 124"
check "  its process is gone" gone "$opid"
like "orphans: the child" "$out" '^orphan parent.child stopped$'
like "  and its descendant first" "$(echo "$out" | grep ^orphan | head -1)" '^orphan parent.child.grand stopped$'
is "  both stopped" "$(st parent.child) $(st parent.child.grand)" "stopped stopped"
like "claims: released, with claimer and age" "$out" '^released t1 \(claimed by parent, .*agent ended\)$'
check "  pending again" test -f .project/tasks/pending/t1
like "stale sessions reported" "$out" '^stale-session idle \([0-9]+d[0-9]+h idle\)$'
is "  and left alone" "$(cat .project/sessions/idle/state)" active
like "the queue moves on: lost q1" "$out" '^lost q1$'
like "  started q2" "$out" '^started q2$'
is "  q2 runs" "$(st q2)" running
is "the healthy agent is untouched" "$(st fine)" running
like "a compliance score last" "$(echo "$out" | grep -v '^  ' | tail -n 1)" '^compliance [0-9]+/100$'
is "  appended to compliance.jsonl" "$(jq -r .score .project/compliance.jsonl | tail -n 1)" "$(echo "$out" | sed -n 's|^compliance \([0-9]*\)/100|\1|p')"
check "a second pass finds nothing to do" test -z "$(ag-watchdog | grep -v -e '^compliance' -e '^  ' -e '^stale-session')"
is "--json: every line parses" "$(ag-watchdog --json | jq -r .action | tail -n 1)" compliance
n0=$(wc -l <.project/compliance.jsonl)
is "-q: only what it changed, not the idle session nor the score" \
    "$(ag-watchdog -q)" ""
is "  the score still appended" "$(wc -l <.project/compliance.jsonl)" $((n0 + 1))
is "  --quiet --json: nothing either" "$(ag-watchdog --quiet --json)" ""

# Concurrent watchdogs: a second run exits 0 at once.
flock .project/watchdog.lock sleep 3 &
sleep 0.3
t0=$(date +%s%N)
expect_exit 0 "while one runs, a second exits 0" ag-watchdog
t1=$(date +%s%N)
is "  at once, saying nothing" "$(cat "$T/.out")$(( (t1 - t0) / 1000000 < 1000 ))" 1
wait
ag-spawn -n race -- sleep 300 >/dev/null
kill -KILL "$(cat .project/agents/race/heartbeat)" "$(cat .project/agents/race/pid)"
flock -w 10 .project/agents/race/lock true      # the monitor is really gone
for i in 1 2 3 4; do ag-watchdog >race.$i & done
wait
is "four racing watchdogs record one loss once" "$(cat race.* | grep -c '^lost race$')" 1
is "  one agent_end for it" "$(cat .project/billing/.tracking-*.jsonl | jq -r 'select(.agent_id=="race") | .status')" lost

# A monitor killed between its billing line and its status: the end
# recorded later (here by the watchdog) finds the line past the billed
# marker and does not bill the agent twice; with no line there, it bills.
for n in billed1 billed2 billed3; do
	ag-spawn -n $n -- sleep 300 >/dev/null
	kill -KILL "$(cat .project/agents/$n/heartbeat)" "$(cat .project/agents/$n/pid)"
	flock -w 10 .project/agents/$n/lock true
done
day=.tracking-$(date -u +%Y-%m-%d).jsonl
B=.project/billing/$day
echo "$day $(stat -c %s "$B")" >.project/agents/billed1/billed
echo '{"event":"agent_end","agent_id":"billed1","status":"completed"}' >>"$B"
echo "$day $(stat -c %s "$B")" >.project/agents/billed2/billed
# Killed between the rename of pidstart to billed and the marker written
# into it: billed holds pidstart's text, no marker; the end is billed once.
mv .project/agents/billed3/pidstart .project/agents/billed3/billed
ag-watchdog >/dev/null
is "an end already billed is not billed again" "$(st billed1) $(jq -r 'select(.agent_id=="billed1") | .status' "$B" | tr '\n' ' ')" "lost completed "
is "  one marked but not billed is billed" "$(st billed2) $(jq -r 'select(.agent_id=="billed2") | .status' "$B" | tr '\n' ' ')" "lost lost "
is "  one claimed with no marker yet is billed, once" "$(st billed3) $(jq -r 'select(.agent_id=="billed3") | .status' "$B" | tr '\n' ' ')" "lost lost "

# Recorded on another boot or host, a pid says nothing: the heartbeat
# decides, and nothing is signalled.
ag-spawn -n remote -- sleep 300 >/dev/null
rpid=$(cat .project/agents/remote/pid)
kill -KILL "$(cat .project/agents/remote/heartbeat)"
read start boot p <.project/agents/remote/pidstart
echo "$start 00000000-0000-0000-0000-000000000000 $p" >.project/agents/remote/pidstart
touch .project/agents/remote/heartbeat
check "a fresh heartbeat from elsewhere: left running" test -z "$(ag-watchdog | grep remote)"
is "  still running" "$(st remote)" running
touch -d '10 minutes ago' .project/agents/remote/heartbeat
like "a stale heartbeat from elsewhere: lost" "$(ag-watchdog)" '^lost remote$'
is "  recorded lost" "$(st remote)" lost
check "  the local process with that pid was not signalled" kill -0 "$rpid"
kill "$rpid"

# The score: findings from the seeds' anti-patterns.
mkdir sub && cd sub && mkdir .project
ag-spawn -t 1m -n a -- true >/dev/null
ag-spawn -n b -- true >/dev/null
ag-wait a b >/dev/null
is "one of two without a timeout: 85" "$(ag-watchdog | head -n 1)" "compliance 85/100"
ag-session start >/dev/null
ag-session start named >/dev/null
is "and one of two sessions unnamed: 75" "$(ag-watchdog | head -n 1)" "compliance 75/100"
ag-spawn -n c -- true >/dev/null
sleep 0.2
touch -d '1 hour ago' .project/agents/c/ended
echo 2026-01-01T00:00:00.000Z >.project/agents/c/ended
is "an ended agent nobody waited on counts" "$(ag-watchdog --json | jq -r 'select(.action=="compliance") | .findings[] | select(.finding=="fire-and-forget") | .count')" 1
cd ..
expect_exit 2 "a bad duration" ag-watchdog --stale-claims 5x
bc="$AG_BIN/../share/bash-completion/completions/ag-stop"
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-stop --gr); COMP_CWORD=1; _ag_stop; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes ag-stop" "$comp" --grace
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-task release-s); COMP_CWORD=1; _ag_task; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes ag-task" "$comp" release-stale
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-task add -p h); COMP_CWORD=3; _ag_task; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes ag-task's priority words" "$comp" high
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-watchdog --q); COMP_CWORD=1; _ag_watchdog; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes ag-watchdog --quiet" "$comp" --quiet
check "fish completion for ag-watchdog is installed" test -f "$AG_BIN/../share/fish/vendor_completions.d/ag-watchdog.fish"
ag-stop --all >/dev/null

# Debris of writers killed mid-way, an hour old, goes; younger debris and
# a directory whose spawn still holds its lock stay.
mkdir -p debris/.project && cd debris
# (d0 runs past its settling, even on a busy machine, where it is put
# off up to about 1.3 s: its monitor leaves a spare.)
ag-spawn -n d0 -- sleep 1.5 >/dev/null && ag-wait d0 >/dev/null
mkdir .project/agents/.tmp-dead1 .project/agents/.tmp-young .project/agents/.tmp-held .project/.spare-dead2
: >.project/agents/.tmp-dead1/lock; : >.project/agents/.tmp-held/lock
flock .project/agents/.tmp-held/lock sleep 30 & holder=$!
sleep 0.2
touch -d '2 hours ago' .project/agents/.tmp-dead1 .project/agents/.tmp-held .project/.spare-dead2
out=$(ag-watchdog --dry-run | grep '^debris' | sort | tr '\n' ' ')
like "--dry-run reports debris an hour old" "$out" '^debris \.spare-dead2 \(2h00m old\) debris \.tmp-dead1 \(2h00m old\) $'
check "  and removes none" test -d .project/agents/.tmp-dead1 -a -d .project/.spare-dead2
ag-watchdog >/dev/null
check "the pass removes it" test ! -e .project/agents/.tmp-dead1 -a ! -e .project/.spare-dead2
check "  not younger debris" test -d .project/agents/.tmp-young
check "  nor a directory whose spawn holds its lock" test -d .project/agents/.tmp-held
check "  nor the spare directories" test -d .project/.spare.0
kill $holder
cd ..

# A child outside its parent's session, still running once that session
# is archived: its parent has ended, gone with the archive; an orphan.
mkdir -p arch/.project && cd arch
mkfifo hold
ag-session start s >/dev/null
ag-spawn -s s -n ap -- sh -c "ag-spawn -t 1h -n ac -- sh -c 'echo >hold; sleep 300' >/dev/null" >/dev/null
read x <hold
ag-wait ap >/dev/null
ag-session end s >/dev/null && ag-session archive s >/dev/null
is "a running child of an archived agent is an orphan" "$(ag-watchdog -q)" "orphan ap.ac stopped"
is "  stopped" "$(cat .project/agents/ap.ac/status)" stopped
cd ..
done_testing
