# Bad input gets one clear line, exit 2, and changes nothing.
. "$(dirname "$0")/lib.sh"

ag-spawn -n base -- true >/dev/null
ag-wait base >/dev/null
before=$(agent_count)
long=$(printf 'x%.0s' $(seq 65))

for n in 'a/b' '..' 'has space' "$(printf 'ctl\001x')" '' "$long" '-lead' 'a.b'; do
	expect_exit 2 "bad name '$(printf %s "$n" | tr -d '\001')' is refused" ag-spawn -n "$n" -- true
	lines=$(wc -l <"$T/.err" | tr -d ' ')
	is "  with one line on stderr" "$lines" 1
done
like "the message names the bad value" "$(ag-spawn -n 'a/b' -- true 2>&1)" "^ag-spawn: bad name 'a/b': contains '/'$"
# A newline or a terminal escape in a bad value is spelled out: the
# message stays one line, and a terminal shows it rather than obeys it.
expect_exit 2 "a name with a newline is refused" ag-spawn -n "$(printf 'a\nb')" -- true
is "  in one line" "$(wc -l <"$T/.err" | tr -d ' ')" 1
is "  the newline spelled out" "$(cat "$T/.err")" "ag-spawn: bad name 'a\\nb': contains a control character"
expect_exit 2 "an id with an escape sequence is refused by ag-wait" ag-wait "$(printf 'x\033[31my')"
is "  shown, not sent to the terminal" "$(cat "$T/.err")" "ag-wait: bad agent id 'x\\x1b[31my': contains a control character"
expect_exit 2 "bad role" ag-spawn -r 'x y' -- true
expect_exit 2 "duplicate id" ag-spawn -n base -- true
like "duplicate message" "$(ag-spawn -n base -- true 2>&1)" "already in use"
for d in 5x -1 '' 10q 1.2.3 ms 1m30 1h-5m; do
	expect_exit 2 "bad duration '$d'" ag-spawn -t "$d" -- true
done
expect_exit 0 "a duration in parts (1m30s)" ag-wait -t 1m30s base
expect_exit 2 "missing command" ag-spawn -n nocmd
expect_exit 2 "missing command after --" ag-spawn -n nocmd --
expect_exit 2 "--slots 0" ag-spawn -q q --slots 0 -- true
expect_exit 2 "--slots without -q" ag-spawn --slots 2 -- true
expect_exit 2 "--after an unknown agent" ag-spawn --after nosuch -- true
expect_exit 2 "--after a bad id" ag-spawn --after 'a//b' -- true
expect_exit 2 "-e without =" ag-spawn -e FOO -- true
expect_exit 2 "unknown option" ag-spawn --bogus -- true
expect_exit 2 "-s of an unknown session" ag-spawn -s release -- true
expect_exit 2 "--isolate before git isolation exists" ag-spawn --isolate -- true
expect_exit 2 "ag-wait: unknown id" ag-wait nosuch
expect_exit 2 "ag-wait: bad id" ag-wait '../x'
expect_exit 2 "ag-wait: bad timeout" ag-wait -t 5x base
expect_exit 2 "ag-ps: stray operand" ag-ps foo
expect_exit 2 "ag: bad command name" ag '../x'
is "nothing was created" "$(agent_count)" "$before"
check "no half-made directories" no_temp_dirs
check "a refused -s made no sessions/" test ! -e .project/sessions

# Read-only commands with no project at all.
E=$(mktemp -d "${TMPDIR:-/tmp}/ag-empty.XXXXXX") && cd "$E" || exit 1
expect_exit 2 "ag-ps with no project" ag-ps
expect_exit 2 "ag-wait with no project" ag-wait --all
check "and they created nothing" test ! -e .project
# A spawn naming what must exist, where nothing can: no project made.
expect_exit 2 "ag-spawn --parent, no project" ag-spawn --parent p -- true
expect_exit 2 "ag-spawn --after, no project" ag-spawn --after a -- true
expect_exit 2 "ag-spawn -s, no project" ag-spawn -s s -- true
like "  says the session is unknown" "$(cat "$T/.err")" "^ag-spawn: unknown session 's'$"
expect_exit 2 "ag-spawn in an unknown AG_AGENT_ID, no project" env AG_AGENT_ID=p ag-spawn -- true
like "  names the parent and where it came from" "$(cat "$T/.err")" "unknown parent agent 'p' .from AG_AGENT_ID"
expect_exit 2 "ag-session start of a bad name, no project" ag-session start 'a b'
check "and they created nothing" test ! -e .project
cd "$T" && rm -rf "$E"
done_testing
