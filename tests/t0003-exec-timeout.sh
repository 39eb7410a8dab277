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
is "the reason is among the result's errors" "$(jq -r '.output.errors[0]' .project/agents/nf/result.json)" "ag-spawn: cannot execute /no/such/cmd: No such file or directory"
expect_exit 127 "a command whose name holds a newline is 127" ag-spawn -n nl -- "$(printf 'no\nsuch')"
is "  the message is one line, the newline spelled out" "$(cat "$T/.err")" "ag-spawn: cannot execute no\\nsuch: No such file or directory"
is "  and so is output.log's" "$(grep -c 'cannot execute no\\nsuch: No such' .project/agents/nl/output.log) $(wc -l <.project/agents/nl/output.log | tr -d ' ')" "1 4"

# A script whose #! interpreter cannot run is refused the same way, read
# as the kernel reads it; one that can run runs.
printf '#!/no/such/interp -x\necho ran\n' >noint
chmod +x noint
expect_exit 127 "a script whose interpreter is missing is 127" ag-spawn -n noint -- ./noint
is "  the message names the interpreter" "$(cat "$T/.err")" "ag-spawn: cannot execute ./noint: interpreter '/no/such/interp': No such file or directory"
is "  recorded failed 127 before ag-spawn returned" "$(st noint) $(cat .project/agents/noint/exit)" "failed 127"
printf '#!/bin/sh\r\necho ran\r\n' >crlf
chmod +x crlf
expect_exit 127 "a #! line with a DOS line ending is 127" ag-spawn -n crlf -- ./crlf
is "  the carriage return is shown" "$(cat "$T/.err")" "ag-spawn: cannot execute ./crlf: interpreter '/bin/sh\\r': No such file or directory"
printf '#!%s\n' "$PWD/noexec" >viaplain
chmod +x viaplain
expect_exit 126 "an interpreter that is not executable is 126" ag-spawn -n viaplain -- ./viaplain
printf '#!%s\n' "$PWD/noint" >nested
chmod +x nested
expect_exit 127 "an interpreter that is a script with a missing interpreter is 127" ag-spawn -n nested -- ./nested
check "  nothing was started for any of them (no monitor in heartbeat, no pid)" sh -c 'for a in noint crlf viaplain nested; do
	test -s .project/agents/$a/heartbeat -o -e .project/agents/$a/pid && exit 1
done; exit 0'
printf '#!  /bin/sh   -e  \necho "ran $1"\n' >spaced
printf '#!%s\n' "$PWD/spaced" >viaspaced
printf '#!\necho "ran bare"\n' >bare
chmod +x spaced viaspaced bare
ag-spawn -n spaced -- ./spaced a >/dev/null
ag-spawn -n viaspaced -- ./viaspaced >/dev/null
ag-spawn -n bare -- ./bare >/dev/null
is "scripts that can run do: spaced #! line, a script as interpreter, an empty #!" "$(ag-wait spaced viaspaced bare)" "spaced completed 0
viaspaced completed 0
bare completed 0"
like "  and said so" "$(grep -h '^ran' .project/agents/spaced/output.log .project/agents/bare/output.log | tr '\n' ' ')" "^ran a ran bare $"

# What only the exec can tell is said by the agent's own start: a queued
# agent's command, removed before its turn.
printf '#!/bin/sh\necho hi\n' >soon-gone
chmod +x soon-gone
ag-spawn -n holder -q solo -- sleep 0.5 >/dev/null
ag-spawn -n gone -q solo -- ./soon-gone >/dev/null
rm soon-gone
ag-wait gone >/dev/null
is "a command gone by its start: failed 127" "$(st gone) $(cat .project/agents/gone/exit)" "failed 127"
is "  with one whole message line in output.log" "$(grep -v '^\[' .project/agents/gone/output.log | grep -v '^Task:')" "ag-spawn: cannot execute ./soon-gone: No such file or directory"

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
