# The hottest commands (ag-spawn, ag-wait, ag) are linked statically with
# musl, without libjq: they run again in their build with libjq
# (libexec/ag/jq) where they need JSON, and ag-spawn's monitor hands its
# agent to ag-monitor (libexec/ag) to write the end.  Under SAN=1 (or
# MUSL=0) they are the glibc build, and only the common checks apply.
. "$(dirname "$0")/lib.sh"

inst=$(cd "$AG_BIN/.." && pwd)
musl=0
[ -d "$inst/libexec/ag/jq" ] && musl=1
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }

# Whatever the build: a command line given again is the same.  A command
# that cannot run is recorded by the build with libjq, from argv as given.
nl=$(printf 'c\nd')
expect_exit 127 "a command that cannot run: 127" ag-spawn -n nx -- /no/such 'a b' "$nl"
is "  its command recorded word for word" \
    "$(jq -c .command .project/agents/nx/result.json)" '["/no/such","a b","c\nd"]'
ag-spawn -n one -- true >/dev/null
ag-spawn -n two -- true >/dev/null
is "ag-wait --json among ids (reordered by getopt) keeps their order" \
    "$(ag-wait two --json one | jq -r .agent_id | tr '\n' ' ')" "two one "

# A queued agent that cannot be run once its turn comes (its pid cannot
# be recorded: a directory stands in the way) is recorded failed by its
# monitor.  Its turn comes from a spawn that opens a slot: that spawn's
# own queue pass starts it, under a monitor of the spawn's build (in the
# musl build, one that hands the reason to ag-monitor).
ag-spawn -n blocker -q gq --slots 1 -- sleep 30 >/dev/null
ag-spawn -n victim -q gq -- touch victim-ran >/dev/null
mkdir .project/agents/victim/pid
ag-spawn -n opener -q gq --slots 2 -- true >/dev/null
expect_exit 1 "an agent whose start fails is waited for as failed" ag-wait victim
is "  with its monitor's reason in result.json" \
    "$(jq -r '.status + ": " + .reason' .project/agents/victim/result.json)" \
    "failed: cannot record the agent's pid: Is a directory"
like "  and in output.log's closing line" "$(tail -n 1 .project/agents/victim/output.log)" \
    "^\\[FAILED\\] .* cannot record the agent's pid: Is a directory$"
check "  and the command never ran" test ! -e victim-ran
kill -TERM "-$(cat .project/agents/blocker/pid)"
ag-wait blocker opener >/dev/null

if [ "$musl" = 1 ] && command -v readelf >/dev/null; then
	static=""
	for c in ag ag-spawn ag-wait; do
		readelf -l "$AG_BIN/$c" | grep -q INTERP || static="$static $c"
	done
	is "ag, ag-spawn and ag-wait need no loader (static)" "$static" " ag ag-spawn ag-wait"
	check "  their builds with libjq do" sh -c \
	    "readelf -l '$inst/libexec/ag/jq/ag-wait' | grep -q INTERP"
else
	skip "not the musl build (or no readelf)"
	skip "not the musl build (or no readelf)"
fi

if [ "$musl" = 1 ]; then
	# The monitor, once its agent has settled, is ag-monitor: the same
	# process (heartbeat names it), with the lock, the timeout and the
	# agent its child still.
	ag-spawn -n long -t 2s -- sleep 30 >/dev/null
	m=$(cat .project/agents/long/heartbeat)
	poll 100 sh -c "readlink /proc/$m/exe | grep -q '/libexec/ag/ag-monitor\$'"
	like "a settled agent's monitor is ag-monitor" "$(readlink "/proc/$m/exe")" '/libexec/ag/ag-monitor$'
	is "  the same process, which the heartbeat names" "$(cat .project/agents/long/heartbeat)" "$m"
	expect_exit 124 "  the agent still running under it" ag-wait -t 0 long
	is "  its timeout still kept" "$(ag-wait long)" "long timeout 124"
	check "  and its end written by it" jq -e '.status == "timeout"' .project/agents/long/result.json

	# An agent that ends before it settles: handed over at its end.
	ag-spawn -n quick -- sh -c 'echo "[RESULT] {\"q\":1}"' >/dev/null
	is "a quick agent's end is written too" "$(ag-wait --json quick | jq -c .output.metrics)" '{"q":1}'

	# A copy of the installation, to take parts away from.
	cp -a "$inst" "$T/inst"
	rm "$T/inst/libexec/ag/ag-monitor"
	"$T/inst/bin/ag-spawn" -n nomon -- true >/dev/null
	expect_exit 1 "without ag-monitor, the agent ends lost (no end is made up)" \
	    "$T/inst/bin/ag-wait" nomon
	is "  said so by ag-wait, which records it with its build with libjq" \
	    "$(st nomon) $(jq -r .status .project/agents/nomon/result.json)" "lost lost"
	like "  and why, in output.log" "$(cat .project/agents/nomon/output.log)" \
	    "^ag-spawn: cannot run .*/libexec/ag/ag-monitor: No such file or directory$"
	rm "$T/inst/libexec/ag/jq/ag-wait"
	expect_exit 125 "without its build with libjq, ag-wait --json fails" \
	    "$T/inst/bin/ag-wait" --json one
	like "  saying what it could not run" "$(cat "$T/.err")" \
	    "^ag-wait: cannot run .*/libexec/ag/jq/ag-wait: No such file or directory$"
	is "  and the wait without JSON still works" "$("$T/inst/bin/ag-wait" one)" "one completed 0"
else
	m=""
	ag-spawn -n long -- sleep 30 >/dev/null
	m=$(cat .project/agents/long/heartbeat)
	poll 100 grep -q libjq "/proc/$m/maps"
	check "the glibc build's monitor loads libjq itself" grep -q libjq "/proc/$m/maps"
	kill -TERM "-$(cat .project/agents/long/pid)"
	ag-wait long >/dev/null
	for i in 1 2 3 4 5 6 7 8 9 10 11; do skip "not the musl build"; done
fi

done_testing
