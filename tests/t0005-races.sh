# Real races: many spawns at once, one name claimed by many, a waiter that
# is already waiting when the agent ends.
. "$(dirname "$0")/lib.sh"

# 40 concurrent spawns.
for i in $(seq 40); do
	ag-spawn -n r$i -- sh -c 'echo "[RESULT] {\"n\":1}"' >"$T/id.$i" 2>&1 &
done
wait
ids=$(cat "$T"/id.* | sort -u | wc -l | tr -d ' ')
is "40 concurrent spawns print 40 distinct ids" "$ids" 40
check "all 40 finish completed" ag-wait $(seq -f 'r%g' 40)
is "40 agent directories" "$(ls .project/agents | grep -c '^r')" 40
check "no half-made directories" no_temp_dirs
is "every result.json parses" "$(cat .project/agents/r*/result.json | jq -s 'map(.output.metrics.n) | add')" 40

# 40 concurrent spawns without names: ids never collide.
for i in $(seq 40); do ag-spawn -- true >"$T/gen.$i" 2>&1 & done
wait
is "40 generated ids, all distinct" "$(cat "$T"/gen.* | sort -u | grep -c .)" 40

# 20 concurrent spawns of one name: exactly one wins, the rest get exit 2.
for i in $(seq 20); do
	( ag-spawn -n same -- sh -c "echo winner $i; touch '$T/ran.same.$i'" >/dev/null 2>&1; echo $? >"$T/same.$i" ) &
done
wait
is "one name, 20 racers: one exit 0" "$(cat "$T"/same.* | grep -c '^0$')" 1
is "  and 19 exit 2" "$(cat "$T"/same.* | grep -c '^2$')" 19
ag-wait same >/dev/null
is "  and the one agent ran once" "$(grep -c '^winner' .project/agents/same/output.log)" 1
is "  and no loser's command ran" "$(ls "$T" | grep -c '^ran\.same\.')" 1
check "  leaving no debris" no_temp_dirs

# A waiter subscribed before the end is woken by it.
ag-spawn -n gate -- sh -c 'while [ ! -e go ]; do sleep 0.05; done' >/dev/null
ag-wait gate >"$T/w.out" &
wpid=$!
sleep 0.3
check "the waiter is still waiting" kill -0 $wpid
touch go
wait $wpid
is "and returns with the end" "$(cat "$T/w.out")" "gate completed 0"

# Many waiters on one agent, and one waiter on many agents.
ag-spawn -n fan -- sleep 0.5 >/dev/null
for i in $(seq 10); do ag-wait fan >"$T/fan.$i" & done
wait
is "10 waiters all see the end" "$(cat "$T"/fan.* | sort -u)" "fan completed 0"
# More waiters than a user may have inotify instances (128 by default):
# a waiter on a named agent blocks on its lock and needs none.
ag-spawn -n crowd -- sh -c 'while [ ! -e gate2 ]; do sleep 0.05; done' >/dev/null
for i in $(seq 150); do ag-wait crowd >"$T/crowd.$i" 2>&1 & done
sleep 1
touch gate2
wait
is "150 concurrent waiters all see the end" "$(cat "$T"/crowd.* | sort | uniq -c | sed 's/^ *//')" "150 crowd completed 0"
# Those that do need a watch (--any, a selector) look every 100 ms when
# the instances run out, rather than fail.
ag-spawn -n crowd2 -- sh -c 'while [ ! -e gate3 ]; do sleep 0.05; done' >/dev/null
for i in $(seq 150); do ag-wait --any crowd2 >"$T/crowd2.$i" 2>"$T/crowd2.err.$i" & done
sleep 1
touch gate3
wait
is "150 concurrent --any waiters all see the end" "$(cat "$T"/crowd2.[0-9]* | sort | uniq -c | sed 's/^ *//')" "150 crowd2 completed 0"
if [ "$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)" -lt 150 ]; then
	like "  those left without an inotify instance said they poll" \
	    "$(cat "$T"/crowd2.err.* | sort -u)" "looking every 100 ms instead"
fi
for i in $(seq 10); do ag-spawn -n many$i -- sleep 0.$i >/dev/null; done
check "one waiter, 10 agents ending at different times" ag-wait $(seq -f 'many%g' 10)

# --all picks up agents that appear while it waits.
ag-spawn -n first -- sh -c 'sleep 0.3; ag-spawn -n late --no-parent -- sleep 0.5' >/dev/null
ag-wait --all >/dev/null
is "ag-wait --all waited for an agent spawned meanwhile" "$(st late)" completed
# --children picks up a child spawned while it already waits: the waiter
# starts when only "early" exists, and would return when early ends
# (0.6s) if it missed "late" (born at 0.3s, ends at 0.9s).
ag-spawn -n boss -- sh -c 'sleep 0.3; ag-spawn -n late -- sleep 0.6 >/dev/null' >/dev/null
ag-spawn -n early --parent boss -- sleep 0.6 >/dev/null
ag-wait --children boss >"$T/kids"
is "ag-wait --children waited for a child born meanwhile" "$(cut -d' ' -f1,2 "$T/kids" | tr '\n' ' ')" "boss.early completed boss.late completed "
# More agents than ag-wait may open descriptors for: it watches what it
# can and reads the rest, and never mistakes an agent for a removed one.
for i in $(seq 50); do ag-spawn -n lots$i -- sleep 0.5 >/dev/null; done
out=$(sh -c 'ulimit -n 40 && exec ag-wait "$@"' _ $(seq -f 'lots%g' 50))
is "ag-wait on 50 agents under a limit of 40 descriptors" "$(printf '%s\n' "$out" | grep -c ' completed 0$')" 50
done_testing
