#!/bin/sh
# ag-stop: cascading, grace then SIGKILL, queued agents, pid reuse.
. "$(dirname "$0")/lib.sh"

# A real tree of 5 agents at 3 depths.
ag-spawn -n root -- sh -c '
	ag-spawn -n a -- sh -c "ag-spawn -n x -- sleep 300 >/dev/null; ag-spawn -n y -- sleep 300 >/dev/null; sleep 300" >/dev/null
	ag-spawn -n b -- sleep 300 >/dev/null
	sleep 300' >/dev/null
i=0; while [ "$(agent_count)" -lt 5 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
while [ ! -s .project/agents/root.a.y/pid ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
is "a tree of 5 agents" "$(agent_count)" 5
ag-spawn -n bystander -- sleep 300 >/dev/null
pids=$(cat .project/agents/root*/pid)
out=$(ag-stop --reason "release cancelled" root)
is "ag-stop exits 0 when all ended" "$?" 0
is "  one line per agent, deepest first" "$(echo "$out" | cut -d' ' -f1 | head -2 | sort | tr '\n' ' ')" "root.a.x root.a.y "
is "  the parent after its children" "$(echo "$out" | sed -n 5p)" "root stopped"
is "  every one stopped" "$(echo "$out" | grep -c ' stopped$')" 5
alive=""
for p in $pids; do gone "$p" || alive="$alive $p"; done
is "  no recorded process left alive (/proc)" "$alive" ""
left=""
for p in $pids; do for q in $(pgrep -g "$p"); do gone "$q" || left="$left $q"; done; done
is "  no live process of their groups left" "$left" ""
is "  the [STOPPED] line with the reason" "$(tail -n 1 .project/agents/root.a.x/output.log | cut -d' ' -f1,3-)" "[STOPPED] release cancelled"
is "  the reason in result.json" "$(jq -r '.status + ": " + .reason' .project/agents/root.a/result.json)" "stopped: release cancelled"
is "  the bystander still runs" "$(st bystander)" running
expect_exit 0 "stopping a stopped agent is fine" ag-stop root
is "  and says so" "$(ag-stop root | head -1)" "root.a.x stopped"

# An agent that ignores SIGTERM is killed after the grace period.
ag-spawn -n stubborn -- sh -c 'trap "" TERM; while :; do sleep 1; done' >/dev/null
t0=$(date +%s%N)
check "a TERM-ignoring agent is stopped" ag-stop --grace 500ms stubborn
t1=$(date +%s%N)
is "  stopped" "$(st stubborn)" stopped
check "  after the grace, not before" test $(( (t1 - t0) / 1000000 )) -ge 450
check "  its process is gone" gone "$(cat .project/agents/stubborn/pid)"

# Queued agents are dequeued as stopped.
ag-spawn -n blocker -q one -- sleep 300 >/dev/null
ag-spawn -n waiting -q one -- true >/dev/null
is "queued" "$(st waiting)" queued
check "ag-stop a queued agent" ag-stop waiting
is "  dequeued as stopped" "$(st waiting)" stopped
check "  its queue entry is gone" test -z "$(ls .project/queued | grep waiting)"
ag-stop blocker >/dev/null
is "  and never runs" "$(st waiting)" stopped

# PID reuse: the agent and its monitor die, its pid is given to a sleep of
# ours; neither ag-stop nor ag-watchdog may touch that sleep.
ag-spawn -n victim -- sleep 300 >/dev/null
kill -KILL "$(cat .project/agents/victim/heartbeat)" "$(cat .project/agents/victim/pid)"
sleep 300 & mine=$!
echo $mine >.project/agents/victim/pid
expect_exit 0 "ag-stop of an agent whose pid was reused" ag-stop --grace 200ms victim
like "  reports it lost" "$(cat "$T/.out")" "victim lost"
check "  our sleep is alive" kill -0 $mine
is "  recorded lost" "$(st victim)" lost
ag-spawn -n victim2 -- sleep 300 >/dev/null
kill -KILL "$(cat .project/agents/victim2/heartbeat)" "$(cat .project/agents/victim2/pid)"
# kill(1) returns before the monitor is gone; one watchdog pass leaves an
# agent whose lock is still held alone, so wait for the lock to be free.
flock -w 10 .project/agents/victim2/lock true
echo $mine >.project/agents/victim2/pid
check "ag-watchdog with a reused pid" ag-watchdog
check "  our sleep is still alive" kill -0 $mine
is "  the agent is lost" "$(st victim2)" lost
kill $mine

# The monitor dies while ag-stop waits on it: ag-stop takes the record
# over instead of waiting out the grace for an end nobody will write.
ag-spawn -n orphaned -- sleep 300 >/dev/null
mon=$(cat .project/agents/orphaned/heartbeat)
kill -STOP "$mon"
ag-stop --grace 30s orphaned >"$T/.stop" 2>&1 &
stopper=$!
# ag-stop has found the monitor's lock held once it has written the
# stop file (then it sends SIGTERM, which our stopped monitor ignores).
until [ -e .project/agents/orphaned/stop ]; do sleep 0.01; done
sleep 0.2
kill -KILL "$mon"
wait $stopper
is "ag-stop after the monitor died under it exits 0" $? 0
like "  reports it stopped" "$(cat "$T/.stop")" "orphaned stopped"
is "  recorded stopped" "$(st orphaned)" stopped
# Gone, or a zombie nobody reaps (init here may be slow to).
pst=$(ps -o stat= -p "$(cat .project/agents/orphaned/pid)")
like "  the agent's process is gone" "Z${pst:-Z}" "^ZZ"

# Sessions and --all.
ag-session start s1 >/dev/null
ag-spawn -s s1 -n in1 -- sleep 300 >/dev/null
ag-spawn -s s1 -n in2 -- sleep 300 >/dev/null
check "ag-stop -s SESSION" ag-stop -s s1
is "  both stopped" "$(st in1) $(st in2)" "stopped stopped"
is "  the bystander still runs" "$(st bystander)" running
check "ag-stop --all" ag-stop --all
is "  the bystander too" "$(st bystander)" stopped

# Bad input: exit 2, nothing stopped.
ag-spawn -n keep -- sleep 300 >/dev/null
expect_exit 2 "an unknown id" ag-stop keep nosuch
is "  stops nothing, not even the known one" "$(st keep)" running
expect_exit 2 "a bad id" ag-stop '../x'
expect_exit 2 "a bad grace" ag-stop --grace 5x keep
expect_exit 2 "ids and --all" ag-stop --all keep
expect_exit 2 "nothing named" ag-stop
expect_exit 2 "an unknown session" ag-stop -s nosuch
is "  keep still runs" "$(st keep)" running
ag-stop keep >/dev/null
done_testing
