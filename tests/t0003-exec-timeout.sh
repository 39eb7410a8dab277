# A command that cannot run is reported by ag-spawn itself and recorded;
# a timeout ends the whole process group, TERM first, KILL after the grace.
. "$(dirname "$0")/lib.sh"

expect_exit 127 "a missing command is exit 127" ag-spawn -n nf -- /no/such/cmd
like "  with a message on stderr" "$(cat "$T/.err")" "^ag-spawn: cannot execute /no/such/cmd: No such file or directory$"
is "  and the id on stdout (the record exists)" "$(cat "$T/.out")" nf
is "  recorded failed at once" "$(st nf)" failed
is "  with exit 127" "$(cat .project/agents/nf/exit)" 127
like "  and [FAILED] exit=127" "$(tail -n 1 .project/agents/nf/output.log)" '^\[FAILED\] .* exit=127$'
expect_exit 127 "a command not on PATH is 127" ag-spawn -n nf2 -- no-such-command-anywhere
printf '#!/bin/sh\necho hi\n' >noexec
expect_exit 126 "a file that is not executable is 126" ag-spawn -n ne -- ./noexec
is "  recorded failed with 126" "$(st ne) $(cat .project/agents/ne/exit)" "failed 126"
is "ag-wait agrees" "$(ag-wait nf ne)" "nf failed 127
ne failed 126"

ag-spawn -n to -t 300ms -- sleep 30 >/dev/null
expect_exit 1 "a timed-out agent makes ag-wait exit 1" ag-wait to
is "status timeout, exit 124" "$(st to) $(cat .project/agents/to/exit)" "timeout 124"
like "[TIMEOUT] line" "$(tail -n 1 .project/agents/to/output.log)" '^\[TIMEOUT\] .* after 300ms$'
is "result.json says timeout" "$(jq -r .status,.exit_code .project/agents/to/result.json | tr '\n' ' ')" "timeout 124 "

# The whole group goes, not just the leader, and TERM-proof agents get KILL.
ag-spawn -n obstinate -t 200ms --grace 500ms -- sh -c 'trap "" TERM; sleep 60 & echo $! > child.pid; wait; sleep 60' >/dev/null
ag-wait obstinate >/dev/null
is "a TERM-ignoring agent still ends timeout" "$(st obstinate)" timeout
cpid=$(cat child.pid)
check "its TERM-proof background child is gone too" gone "$cpid"
d0=$(jq -r .duration_ms .project/agents/obstinate/result.json)
check "KILL came after the grace period (>= 650ms, got ${d0}ms)" test "$d0" -ge 650

# A stop request (the stop file, as ag-stop writes it) is what the
# monitor records when the agent then ends.
ag-spawn -n halted -- sleep 30 >/dev/null
echo "operator asked" >.project/agents/halted/stop
kill -TERM "-$(cat .project/agents/halted/pid)"
expect_exit 1 "a stopped agent makes ag-wait exit 1" ag-wait halted
is "status stopped, exit 143" "$(st halted) $(cat .project/agents/halted/exit)" "stopped 143"
like "[STOPPED] line with the reason" "$(tail -n 1 .project/agents/halted/output.log)" '^\[STOPPED\] .* operator asked$'
is "the reason in result.json" "$(jq -r .reason .project/agents/halted/result.json)" "operator asked"

# The heartbeat is touched while the agent runs.
AG_HEARTBEAT=100ms ag-spawn -n hb -- sleep 0.6 >/dev/null
sleep 0.1
t1=$(stat -c %Y.%y .project/agents/hb/heartbeat)
sleep 0.35
t2=$(stat -c %Y.%y .project/agents/hb/heartbeat)
check "heartbeat is touched by the monitor" test "$t1" != "$t2"
ag-wait hb >/dev/null
done_testing
