# ag-spawn starts a detached agent and leaves exact state; ag-wait reports it.
. "$(dirname "$0")/lib.sh"

id=$(ag-spawn -n hello -d "say hello" -- sh -c 'echo hi; echo "[PROGRESS] 1/2 files"; echo "[RESULT] {\"files\":2}"')
is "ag-spawn prints the id" "$id" hello
out=$(ag-wait hello)
is "ag-wait prints ID STATUS EXIT" "$out" "hello completed 0"
a=.project/agents/hello
check "and marks it waited" test -e $a/waited
is "status file is one word" "$(cat $a/status)" completed
is "exit file" "$(cat $a/exit)" 0
is "role defaults to workagent" "$(cat $a/role)" workagent
is "cmd: one argument per line" "$(cat $a/cmd)" "sh
-c
echo hi; echo \"[PROGRESS] 1/2 files\"; echo \"[RESULT] {\\\"files\\\":2}\""
like "started is RFC 3339 UTC with ms" "$(cat $a/started)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
like "ended is RFC 3339 UTC with ms" "$(cat $a/ended)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
like "output.log opens with [START]" "$(sed -n 1p $a/output.log)" '^\[START\] [0-9T:.-]+Z$'
is "then Task: the description" "$(sed -n 2p $a/output.log)" "Task: say hello"
is "then the command's own output" "$(sed -n 3p $a/output.log)" "hi"
like "and closes with [COMPLETE]" "$(tail -n 1 $a/output.log)" '^\[COMPLETE\] [0-9T:.-]+Z$'
r=$a/result.json
is "result.json: agent_id" "$(jq -r .agent_id $r)" hello
is "result.json: status" "$(jq -r .status $r)" completed
is "result.json: command array" "$(jq -c .command $r)" '["sh","-c","echo hi; echo \"[PROGRESS] 1/2 files\"; echo \"[RESULT] {\\\"files\\\":2}\""]'
is "result.json: metrics from [RESULT]" "$(jq -c .output.metrics $r)" '{"files":2}'
is "result.json: last lines in logs" "$(jq -r '.output.logs[0]' $r)" hi
is "result.json: exit_code" "$(jq .exit_code $r)" 0
is "result.json: billing" "$(jq -c .billing $r)" '{"tokens_used":0,"estimated_cost":0,"role":"workagent"}'
is "result.json: times match the files" "$(jq -r .start_time,.end_time $r | tr '\n' ' ')" "$(cat $a/started) $(cat $a/ended) "
check "result.json: duration_ms is ended-started" test "$(jq '.duration_ms >= 0 and .parent == null and .session == null' $r)" = true
check "no pid file lies: pid names a number" grep -Eq '^[0-9]+$' $a/pid

# The record is whole the moment the id is out: a script reads pid at
# once, and it names the leader of the agent's own process group.
id=$(ag-spawn -n at-once -- sleep 5)
p=$(cat .project/agents/at-once/pid 2>/dev/null)
check "pid is there when ag-spawn returns" grep -Eq '^[0-9]+$' .project/agents/at-once/pid
is "  and leads its own process group" "$(ps -o pgid= -p "$p" | tr -d ' ')" "$p"
check "  pidstart is there too" test -s .project/agents/at-once/pidstart
kill -TERM "-$p"
ag-wait at-once >/dev/null

# Spare directories: a monitor leaves one, a spawn takes it and fills its
# files; one that is not ours is never written through.
mkdir -p spare/.project && cd spare
# A monitor makes it once its agent has run 20 ms (and the machine has
# room); an agent that ends sooner leaves none.
ag-spawn -n s00 -- true >/dev/null && ag-wait s00 >/dev/null && monitor_gone s00
is "an agent ended at once leaves no spare" "$(ls -d .project/.spare.* 2>/dev/null)" ""
# (s0 outlives its settling even when a busy machine puts it off, about
# 1.3 s at most.)
ag-spawn -n s0 -- sleep 1.5 >/dev/null && ag-wait s0 >/dev/null && monitor_gone s0
check "a monitor leaves a spare directory" test -d .project/.spare.0
is "  holding the files of a started agent" "$(ls .project/.spare.0 | tr '\n' ' ')" "cmd cwd heartbeat lock output.log pid pidstart role started status "
is "  all empty" "$(find .project/.spare.0 -type f -size +0c)" ""
is "  and the hidden files its end will write through" "$(cd .project/.spare.0 && ls -d .end-* | tr '\n' ' ')" ".end-ended .end-exit .end-result.json .end-status "
sino=$(stat -c %i .project/.spare.0/status)
ino=$(stat -c %i .project/.spare.0/cmd)
eino=$(stat -c %i .project/.spare.0/.end-exit .project/.spare.0/.end-result.json | tr '\n' ' ')
ag-spawn -n s1 -- echo filled >/dev/null && ag-wait s1 >/dev/null
is "a spawn takes it (the same inode)" "$(stat -c %i .project/agents/s1/cmd)" "$ino"
is "  and fills it" "$(tr '\n' ' ' <.project/agents/s1/cmd)$(grep -c '^filled$' .project/agents/s1/output.log)" "echo filled 1"
is "  its end writes exit and result.json through them" "$(stat -c %i .project/agents/s1/exit .project/agents/s1/result.json | tr '\n' ' ')" "$eino"
monitor_gone s1
is "  and leaves none behind" "$(cd .project/agents/s1 && ls -d .end-* 2>/dev/null)" ""
is "  the running status it replaced became its summary (no inode freed)" "$(stat -c %i .project/agents/s1/summary)" "$sino"
is "  and it holds the summary alone" "$(sed -n 2p .project/agents/s1/summary) $(wc -l <.project/agents/s1/summary)" " 2"
# Its billing marker takes the inode of pidstart, spent once the agent is
# reaped: an end allocates no inode on its way to the waiter.
ag-spawn -n s1b -- sleep 0.2 >/dev/null
pino=$(stat -c %i .project/agents/s1b/pidstart)
ag-wait s1b >/dev/null
is "  billed takes pidstart's inode" "$(stat -c %i .project/agents/s1b/billed)" "$pino"
like "  and holds the marker" "$(cat .project/agents/s1b/billed)" '^\.tracking-[0-9-]*\.jsonl [0-9][0-9]*$'
check "  pidstart is gone then" test ! -e .project/agents/s1b/pidstart
rm -rf .project/.spare.*
mkdir outside
ln -s "$T/spare/outside" .project/.spare.3
ag-spawn -n s2 -- true >/dev/null && ag-wait s2 >/dev/null
is "a symlink in a spare slot: the spawn makes its own directory" "$(st s2) $(ls outside | wc -l | tr -d ' ')" "completed 0"
monitor_gone s2
rm -rf .project/.spare.*
mkdir .project/.spare.3
echo keep >outside/victim
ln -s "$T/spare/outside/victim" .project/.spare.3/status
expect_exit 125 "a symlinked file in a spare: the spawn fails" ag-spawn -n s3 -- true
is "  writing nothing through it" "$(cat outside/victim)" keep
is "  and no agent" "$(ls .project/agents | grep -c s3)" 0
cd "$T"

# What can wait waits for room.  While every CPU has more to run (loops
# at nice 19: they count as running, and take little from this test), a
# monitor puts off loading libjq and making a spare, and a second or so
# later does them anyway; a short agent's monitor does not stay on for
# them.  On an idle machine they are done at once.
mkdir -p busy/.project && cd busy
loops=
for i in $(seq $(($(nproc) * 2 + 1))); do
	nice -n 19 timeout 30 sh -c 'while :; do :; done' &
	loops="$loops $!"
done
ag-spawn -n long -- sleep 30 >/dev/null
m=$(cat .project/agents/long/heartbeat)
sleep 0.3
is "a busy machine: the monitor puts off loading libjq" "$(grep -c libjq "/proc/$m/maps")" 0
is "  and making a spare" "$(ls -d .project/.spare.* 2>/dev/null)" ""
poll 100 grep -q libjq "/proc/$m/maps"
check "  for a second or so, then loads it anyway" grep -q libjq "/proc/$m/maps"
poll 100 test -d .project/.spare.0
check "  and makes the spare" test -d .project/.spare.0
rm -rf .project/.spare.*
ag-spawn -n short -- true >/dev/null && ag-wait short >/dev/null
m=$(cat .project/agents/short/heartbeat)
sleep 0.3
check "a short agent's monitor does not stay on after its end" gone "$m"
kill $loops 2>/dev/null
wait $loops 2>/dev/null
rm -rf .project/.spare.*
ag-spawn -n idle -- sleep 30 >/dev/null
m=$(cat .project/agents/idle/heartbeat)
poll 16 grep -q libjq "/proc/$m/maps"
check "an idle machine: the monitor loads libjq well within a second" grep -q libjq "/proc/$m/maps"
kill -TERM "-$(cat .project/agents/long/pid)" "-$(cat .project/agents/idle/pid)"
ag-wait long idle >/dev/null
cd "$T"

# The hot commands load libjq only when they first touch JSON (jvlazy.c;
# in the musl build ag-spawn and ag-wait are static, without it: t0018),
# and JSON still works in them: result.json above came from the monitor.
lazy=""
for c in ag-spawn ag-wait ag-ps ag-task ag-stop ag-watchdog; do
	ldd "$AG_BIN/$c" 2>/dev/null | grep -q libjq && lazy="$lazy $c"
done
is "the hot commands do not load libjq at start" "$lazy" ""
is "  ag-wait --json loads it when asked" "$(ag-wait --json hello | jq -r .agent_id)" hello

# Exit codes of ag-wait.
ag-spawn -n bad -- sh -c 'echo "error: it broke" >&2; exit 3' >/dev/null
expect_exit 1 "ag-wait exits 1 when an agent failed" ag-wait bad
is "failed agent: STATUS EXIT" "$(ag-wait bad)" "bad failed 3"
like "output.log closes with [FAILED] ... exit=3" "$(tail -n 1 .project/agents/bad/output.log)" '^\[FAILED\] .* exit=3$'
is "stderr lines that look like errors are kept" "$(jq -r '.output.errors[0]' .project/agents/bad/result.json)" "error: it broke"
expect_exit 1 "one failure among several makes it 1" ag-wait hello bad
is "lines in argument order" "$(ag-wait bad hello | cut -d' ' -f1 | tr '\n' ' ')" "bad hello "

ag-spawn -n slow -- sleep 30 >/dev/null
expect_exit 124 "-t 0 checks without waiting" ag-wait -t 0 slow
is "a timed-out wait prints the running agent with exit -" "$(ag-wait -t 0 slow)" "slow running -"
expect_exit 124 "-t 200ms times out" ag-wait -t 200ms slow hello
expect_exit 0 "--any returns when the first one is done" ag-wait --any slow hello
is "--any prints only the finished ones" "$(ag-wait --any slow hello)" "hello completed 0"
expect_exit 1 "--any with a failed one first" ag-wait --any bad slow
is "--quiet prints nothing" "$(ag-wait --quiet hello)" ""
is "--json prints result.json on one line" "$(ag-wait --json hello | jq -r .agent_id)" hello
is "--json, one line per agent" "$(ag-wait --json hello bad | wc -l | tr -d ' ')" 2
expect_exit 2 "unknown id is exit 2" ag-wait hello nosuch
expect_exit 2 "no agents named is exit 2" ag-wait
expect_exit 2 "--all with ids is exit 2" ag-wait --all hello
expect_exit 2 "-s of an unknown session is exit 2" ag-wait -s release
like "  saying so" "$(cat "$T/.err")" "unknown session 'release'"
kill -TERM "-$(cat .project/agents/slow/pid)"
expect_exit 1 "an agent killed by a signal fails" ag-wait slow
is "and its exit is 128+N" "$(cat .project/agents/slow/exit)" 143

# The end leaves no temporary file behind (the final status is swapped
# in, and the old one dropped once the waiters are woken).
is "an ended agent's directory holds no hidden file" "$(find .project/agents/hello .project/agents/bad -mindepth 1 -name '.*')" ""

# A named running agent is waited on through its lock, which its monitor
# holds until the end is recorded: no inotify instance (a user has 128),
# and a timeout still breaks the wait.
if command -v strace >/dev/null; then
	# LeakSanitizer cannot run under ptrace (SAN=1 builds).
	nolsan="ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0"
	ag-spawn -n locked -- sleep 0.5 >/dev/null
	env "$nolsan" strace -f -o "$T/w.trace" -e trace=inotify_init1,flock \
	    ag-wait locked >/dev/null
	check "a waiter on a named agent blocks in a shared flock" \
	    grep -q 'flock([0-9]*, LOCK_SH)' "$T/w.trace"
	check "  and makes no inotify instance" sh -c "! grep -q inotify_init1 '$T/w.trace'"
	is "  and sees the end recorded" "$(st locked)" completed

	# The monitor lets go once the status is final, before it syncs the
	# directory: a waiter is not held up by the disk (here an fsync
	# delayed 2 s by strace).
	env "$nolsan" strace -f -o /dev/null -e trace=fsync \
	    -e inject=fsync:delay_enter=2000000 \
	    ag-spawn -n synced -- sleep 0.2 >"$T/synced.id" 2>/dev/null &
	sp=$!
	until [ -s "$T/synced.id" ]; do sleep 0.05; done
	m=$(cat .project/agents/synced/heartbeat)
	is "the waiter is woken before the monitor's fsync" \
	    "$(ag-wait synced; gone "$m" || echo "monitor still syncing")" \
	    "synced completed 0
monitor still syncing"
	wait "$sp"

	# What the end records survives a power loss: the monitor syncs the
	# billing file, then the agent's directory (whose changes that
	# commit already carried: the second sync finds nothing to do).
	# strace -f returns once the monitor, traced too, has exited.
	env "$nolsan" strace -f -o "$T/sync.trace" -e trace=fsync,fdatasync \
	    ag-spawn -n durable -- true >/dev/null 2>&1
	# Where a sandbox refuses clone(CLONE_VM), the monitor is forked
	# instead (strace fails the spawner's first clone).
	env "$nolsan" strace -o /dev/null -e trace=clone \
	    -e inject=clone:error=EINVAL:when=1 \
	    ag-spawn -n forked -- sh -c 'echo "[RESULT] {\"ok\":1}"' >/dev/null 2>&1
	is "a refused clone: the monitor is forked, and records the end" \
	    "$(ag-wait forked) $(jq -c .output.metrics .project/agents/forked/result.json)" \
	    'forked completed 0 {"ok":1}'
	is "the end syncs the billing file, then the agent's directory" \
	    "$(grep -oE '^[0-9]+ +(fsync|fdatasync)' "$T/sync.trace" | awk '{print $2}' | tr '\n' ' ')" \
	    "fdatasync fsync "

	# The monitor lets go of the lock, and then of the CPU: a waiter
	# woken onto its CPU runs before the rest of the end (the syncs).
	env "$nolsan" strace -f -o "$T/yield.trace" \
	    -e trace=openat,close,sched_yield,fsync,fdatasync \
	    ag-spawn -n yielder -- true >/dev/null 2>&1
	lfd=$(sed -n 's/.*openat([0-9]*, "lock",.*= \([0-9]*\)$/\1/p' "$T/yield.trace" | head -n 1)
	mp=$(awk '/fsync|fdatasync/ {print $1; exit}' "$T/yield.trace")
	is "the monitor yields its CPU right after the unlock, before its syncs" \
	    "$(awk -v p="$mp" -v c="close($lfd)" '$1 == p && f {sub(/\(.*/, "", $2); print $2; exit}
	    $1 == p && index($2, c) == 1 {f = 1}' "$T/yield.trace")" sched_yield

	# An agent that runs past its monitor's settling (the agent here
	# waits for it: libjq in its monitor's maps): its end meets libjq
	# loaded and used once already (jq seeds its hashes with getrandom at
	# first use), and opens the log once, for the scan and the closing
	# line both.
	# (Its directory a spare, whose files the end writes through: no
	# random temporary names.  An agent past its settling leaves one.)
	# (prime runs until its monitor has made one: on a busy machine a
	# monitor settles later, and a short agent's none.)
	ag-spawn -n prime -- sh -c 'i=0; until ls -A "$AG_PROJECT" |
	    grep -q "^\.spare\.[0-9]" || [ $i -ge 100 ]; do sleep 0.05;
	    i=$((i + 1)); done' >/dev/null && ag-wait prime >/dev/null
	env "$nolsan" strace -f -o "$T/end.trace" \
	    -e trace=rt_sigtimedwait,getrandom,openat \
	    ag-spawn -n warm -- sh -c 'echo "[RESULT] {\"w\":1}"; i=0
	    until grep -q libjq /proc/$PPID/maps || [ $i -ge 100 ]; do
	    sleep 0.05; i=$((i + 1)); done' >/dev/null 2>&1
	# The end begins where the monitor looks for a stop request (the
	# agent may have ended while the monitor was still settling: then
	# no wait returns SIGCHLD).
	end=$(awk '/openat\(.*"stop"/ {f = 1} f' "$T/end.trace")
	is "past the settling, the end loads nothing and meets libjq warm" \
	    "$(echo "$end" | grep -cE 'getrandom|libjq')" 0
	is "  and opens the log once" "$(echo "$end" | grep -c '"output.log"')" 1
	is "  and records it all" "$(st warm) $(jq -c .output.metrics .project/agents/warm/result.json)" 'completed {"w":1}'
else
	echo "# strace missing: the lock path's syscalls are not checked"
fi
ag-spawn -n held -- sleep 30 >/dev/null
check "an agent nobody waited for has no waited mark" test ! -e .project/agents/held/waited
ag-wait held >/dev/null &
w=$!
i=0; while [ ! -e .project/agents/held/waited ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "a waiter marks it waited while it still runs" \
    sh -c 'test -e .project/agents/held/waited && test "$(cat .project/agents/held/status)" = running'
kill $w
expect_exit 124 "a timeout breaks a wait on the lock" ag-wait -t 300ms held
expect_exit 124 "  and with several named agents" ag-wait -t 300ms hello held
kill -TERM "-$(cat .project/agents/held/pid)"
is "  and a later wait sees its end" "$(ag-wait held)" "held failed 143"

# Environment and ids.
ag-spawn -n env -r reviewer -e FOO=bar -e AG_X=1 -- sh -c 'env | grep -E "^(AG_|FOO)" | sort' >/dev/null
ag-wait env >/dev/null
out=$(grep -E '^(AG_(AGENT_ID|PROJECT|ROLE|PARENT_ID|SESSION|X)|FOO)=' .project/agents/env/output.log | tr '\n' ' ')
is "the agent's environment" "$out" "AG_AGENT_ID=env AG_PROJECT=$T/.project AG_ROLE=reviewer AG_X=1 FOO=bar "
is "role file" "$(cat .project/agents/env/role)" reviewer

gen=$(ag-spawn -- true)
like "without -n a short unique id" "$gen" '^[a-z][a-z0-9]{5}$'
check "the generated agent exists" test -d ".project/agents/$gen"

# A tree: the parent comes from --parent or from AG_AGENT_ID.
ag-spawn -n deploy -- sh -c 'ag-spawn -n tests -- sh -c "ag-spawn -n unit -- true; echo parent=\$AG_PARENT_ID"' >/dev/null
ag-wait deploy >/dev/null
ag-wait --children deploy >/dev/null
check "child id is PARENT.NAME" test -d .project/agents/deploy.tests
check "grandchild id is PARENT.PARENT.NAME" test -d .project/agents/deploy.tests.unit
is "parent file" "$(cat .project/agents/deploy.tests.unit/parent)" deploy.tests
is "AG_PARENT_ID inside the child" "$(grep ^parent= .project/agents/deploy.tests/output.log)" "parent=deploy"
is "result.json parent" "$(jq -r .parent .project/agents/deploy.tests/result.json)" deploy
is "--parent names the parent" "$(ag-spawn -n p2 --parent deploy -- true)" deploy.p2
is "--no-parent ignores AG_AGENT_ID" "$(AG_AGENT_ID=deploy ag-spawn -n top --no-parent -- true)" top
expect_exit 2 "an unknown --parent is exit 2" ag-spawn -n x --parent nosuch -- true
expect_exit 2 "an unknown AG_AGENT_ID parent is exit 2" env AG_AGENT_ID=ghost ag-spawn -n y -- true
ag-wait --all >/dev/null
is "ag-wait --children waits for the whole subtree" "$(ag-wait --children deploy | cut -d' ' -f1 | tr '\n' ' ')" "deploy.p2 deploy.tests deploy.tests.unit "

# A long multi-line argument survives exactly (claude -p "a prompt ...").
ag-spawn -n multi -- printf '%s|' "line one
line two" "" "x" >/dev/null
ag-wait multi >/dev/null
is "argv with newlines and empty args, exactly" "$(jq -c .command .project/agents/multi/result.json)" '["printf","%s|","line one\nline two","","x"]'
is "cmd shows the newline as \\n" "$(sed -n 3p .project/agents/multi/cmd)" 'line one\nline two'
check "  argv holds them, NUL-separated" test "$(tr '\0' '|' <.project/agents/multi/argv)" = "printf|%s||line one
line two||x|"
# cmd holds a plain command exactly: no argv then (one file fewer a spawn).
ag-spawn -n plain -- printf '%s|' 'two words' x >/dev/null
ag-wait plain >/dev/null
check "a plain command: no argv file" test ! -e .project/agents/plain/argv
is "  cmd holds it, one argument a line" "$(cat .project/agents/plain/cmd)" "printf
%s|
two words
x"
is "  and it ran exactly" "$(sed -n 3p .project/agents/plain/output.log)" "two words|x|"
ag-spawn -n bslash -- printf '%s|' 'a\nb' >/dev/null
ag-wait bslash >/dev/null
check "a backslash in an argument: argv is written" test -s .project/agents/bslash/argv
is "  and result.json has it exactly" "$(jq -c .command .project/agents/bslash/result.json)" '["printf","%s|","a\\nb"]'
# Its output ends mid-line: the closing line goes on a line of its own,
# and the unfinished line is the agent's last log line.
is "an unfinished last line is ended before [COMPLETE]" "$(tail -n 2 .project/agents/multi/output.log | cut -c1-11)" "line two||x
[COMPLETE] "
is "  and kept in result.json" "$(jq -c .output.logs .project/agents/multi/result.json)" '["line one","line two||x|"]'

# The command line, not the description, when there is none.
is "Task: the command line" "$(sed -n 2p .project/agents/hello/output.log)" "Task: say hello"
is "Task: without -d" "$(sed -n 2p .project/agents/env/output.log | cut -c1-13)" "Task: sh -c e"

# The monitor's stack is carved out of the spawner's, or mapped when the
# stack limit is too small for both: either way the end is recorded.
# (Not the mapped one under ASan, which warns when M's stack is not the
# one it knows.)
lims="1024 unlimited"
[ "${AG_SAN:-}" = 1 ] || lims="$lims 256"
for lim in $lims; do
	(ulimit -s "$lim" && ag-spawn -n stack$lim -- sh -c 'echo "[RESULT] {\"d\":[[[[1]]]]}"' >/dev/null)
	ag-wait stack$lim >/dev/null
	is "under ulimit -s $lim the agent ends and its result is recorded" \
	    "$(jq -c '[.status, .output.metrics.d]' .project/agents/stack$lim/result.json)" '["completed",[[[[1]]]]]'
done

# Started with 0, 1 and 2 closed (a bare daemon or supervisor can do
# that): the files ag-spawn opens must not take those numbers, or the
# monitor, giving its agent /dev/null and output.log there, closes them.
ag-spawn -n closed -- sh -c 'echo out; echo err >&2' <&- 2>&- >&-
ag-wait closed >/dev/null
is "spawned with 0, 1 and 2 closed, the agent runs and ends recorded" "$(st closed)" completed
is "  its output captured" "$(sed -n '3,4p' .project/agents/closed/output.log)" "out
err"
expect_exit 125 "  a closed stdout is still reported" sh -c 'exec ag-spawn -n closed2 -- true >&-'
like "  as a write error" "$(cat "$T/.err")" "cannot write standard output: Bad file descriptor"
expect_exit 0 "ag-wait with 0 and 2 closed still says how it ended" sh -c 'exec ag-wait closed <&- 2>&-'
is "  on its stdout" "$(cat "$T/.out")" "closed completed 0"
done_testing
