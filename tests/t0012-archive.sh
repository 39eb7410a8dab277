#!/bin/sh
# ag-session archive and restore, and archives crafted to escape .project.
. "$(dirname "$0")/lib.sh"

ag-session start --tag rel rel42 >/dev/null
ag-handoff write rel42 -t orchestrator_to_supervisor -f objective=ship -f success_criteria=green >/dev/null
ag-handoff write rel42 -t supervisor_to_orchestrator -f feature=ship -f status=done >/dev/null
ag-spawn -s rel42 -n build -- sh -c 'echo "[RESULT] {\"ok\":1}"' >/dev/null
ag-spawn -s rel42 --parent build -n test -r workagent -- true >/dev/null
ag-spawn -n bystander -- true >/dev/null
ag-wait build build.test bystander >/dev/null

# Only completed sessions are archived, and only when their agents ended.
expect_exit 2 "archive an active session" ag-session archive rel42
like "  naming its state" "$(cat "$T/.err")" "session rel42 is active"
ag-session start busy >/dev/null
ag-spawn -s busy -n sleeper -- sleep 30 >/dev/null
ag-session end busy
expect_exit 2 "archive with an agent still running" ag-session archive busy
like "  naming it" "$(cat "$T/.err")" "agent sleeper of session busy is running"
check "  the session stays" test -d .project/sessions/busy
kill -TERM "-$(cat .project/agents/sleeper/pid)"

ag-session end rel42
cp -a .project orig
is "archive prints the archive's path" "$(ag-session archive rel42)" "$T/.project/archive/rel42.tar.gz"
check "  the archive exists" test -s .project/archive/rel42.tar.gz
tar tzf .project/archive/rel42.tar.gz >members
check "  tar tzf shows the handoffs" grep -qx 'sessions/rel42/handoffs/0002-supervisor_to_orchestrator.json' members
check "  and the agents' directories" grep -qx 'agents/build.test/result.json' members
check "  and nothing else" test -z "$(grep -v -e '^sessions/rel42/' -e '^agents/build/' -e '^agents/build.test/' members)"
check "  the session left the live tree" test ! -e .project/sessions/rel42
check "  so did its agents" test ! -e .project/agents/build -a ! -e .project/agents/build.test
check "  others stay" test -d .project/agents/bystander
check "  no trash left" test -z "$(ls -A .project/agents .project/sessions | grep '^\.trash')"
is "list --status archived shows it" "$(ag-session list --status archived)" "$(ag-session list --status archived | grep '^rel42 archived orchestrator .* rel$')"
is "  once" "$(ag-session list --status archived | wc -l | tr -d ' ')" 1
is "  and plain list too" "$(ag-session list | grep -c '^rel42 ')" 1
is "ag-ps -s on it: no agents, no error" "$(ag-ps --all -s rel42)" "$(printf 'ID\tROLE\tSTATUS\tELAPSED\tCOST\tPROGRESS')"
is "show works on it" "$(ag-session show rel42 --json | jq -r '.state + " " + (.handoffs|tostring)')" "archived 2"
is "  and knows its agents" "$(ag-session show rel42 --json | jq -c '.agents | sort')" '["build","build.test"]'
expect_exit 2 "archived -> archived" ag-session archive rel42
like "  naming the state" "$(cat "$T/.err")" "is archived"
expect_exit 2 "archived -> paused" ag-session pause rel42
like "  naming the state" "$(cat "$T/.err")" "session rel42 is archived"
expect_exit 2 "archived -> active" ag-session resume rel42
like "  naming the state" "$(cat "$T/.err")" "session rel42 is archived"
expect_exit 2 "archived -> completed by end" ag-session end rel42
expect_exit 2 "tag of an archived session" ag-session tag rel42 +x
expect_exit 2 "spawn -s into an archived session" ag-spawn -s rel42 -- true
expect_exit 2 "ag-wait on an agent archived with it" ag-wait build.test
is "  says where it went" "$(cat "$T/.err")" \
    "ag-wait: unknown agent 'build.test': archived with session rel42 (ag-session restore rel42)"
expect_exit 2 "ag-spawn --parent of an archived agent" ag-spawn --parent build -- true
like "  says so too" "$(cat "$T/.err")" "'build': archived with session rel42"
expect_exit 2 "ag-stop of an archived agent" ag-stop build
like "  says so" "$(cat "$T/.err")" "^ag-stop: unknown agent 'build': archived with session rel42"
expect_exit 2 "ag-wait --children of an archived agent" ag-wait --children build
like "  says so" "$(cat "$T/.err")" "'build': archived with session rel42"
expect_exit 2 "ag-spawn --after an archived agent" ag-spawn --after build.test -- true
like "  says so" "$(cat "$T/.err")" "'build.test' in --after: archived with session rel42"
expect_exit 2 "ag-wait on an id never seen" ag-wait nosuch
is "  unknown, no more" "$(cat "$T/.err")" "ag-wait: unknown agent 'nosuch'"
expect_exit 2 "a handoff into an archived session" ag-handoff write rel42 -t workagent_completion -f work_completed=x
expect_exit 2 "a new session cannot take its name" ag-session start rel42

is "restore prints the name" "$(ag-session restore rel42)" rel42
is "  archived -> completed" "$(cat .project/sessions/rel42/state)" completed
check "  the archive is consumed" test ! -e .project/archive/rel42.tar.gz -a ! -e .project/archive/rel42.json
check "  session equal to the original (but last_activity)" diff -r -x last_activity orig/sessions/rel42 .project/sessions/rel42
check "  agents equal to the original" diff -r orig/agents/build .project/agents/build
check "  agents equal to the original (child)" diff -r orig/agents/build.test .project/agents/build.test
check "  no staging left" test -z "$(ls -A .project | grep '^\.restore')"
is "  ag-wait reads the restored agents" "$(ag-wait -s rel42 | tr '\n' ' ')" "build completed 0 build.test completed 0 "
expect_exit 2 "restore a live session" ag-session restore rel42
like "  naming its state" "$(cat "$T/.err")" "session rel42 is completed"
expect_exit 2 "restore an unknown session" ag-session restore nosuch
# Archiving by id works too, and round-trips again.
sid=$(cat .project/sessions/rel42/id)
check "archive by id" ag-session archive "$sid"
check "restore by id" ag-session restore "$sid"

# Crafted archives: nothing may land outside .project.
mkdir -p outside c1/sessions/evil c2/sessions/evil/link c3/sessions/evil/elink
echo completed >c1/sessions/evil/state
ln -s "$T/outside" c1/sessions/evil/link
ln -s /etc c1/sessions/evil/elink
echo pwned >c2/sessions/evil/link/pwned
mkdir -p c2/sessions/evil/elink && echo pwned >c2/sessions/evil/elink/ag-pwned-$$
echo pwned >"$T/dotdot-src"
tar cf evil.tar -C c1 sessions/evil/state sessions/evil/link sessions/evil/elink
tar rf evil.tar -C c2 sessions/evil/link/pwned sessions/evil/elink/ag-pwned-$$
# A member with ../ and an absolute one (-P keeps them as given).
mkdir -p deep/a/b && echo pwned >deep/escape-$$
(cd deep/a/b && tar -r -P -f "$T/evil.tar" ../../../deep/escape-$$ 2>/dev/null)
tar -r -P -f evil.tar "$T/dotdot-src" 2>/dev/null
mkdir -p c4/agents && mkfifo c4/agents/fifo
tar rf evil.tar -C c4 agents/fifo
gzip -c evil.tar >.project/archive/evil.tar.gz
rm deep/escape-$$ "$T/dotdot-src"
expect_exit 1 "restore of a crafted archive refuses members (exit 1)" ag-session restore evil
like "  a warning for the symlink" "$(cat "$T/.err")" "refused member 'sessions/evil/link': a symbolic link"
like "  for the ../ member" "$(cat "$T/.err")" "refused member '../../../deep/escape-$$': a '..' component"
like "  for the absolute one" "$(cat "$T/.err")" "refused member '$T/dotdot-src': an absolute path"
like "  for the fifo" "$(cat "$T/.err")" "refused member 'agents/fifo': not a plain file or directory"
check "  nothing written through the symlink" test ! -e outside/pwned
check "  nothing written in /etc" test ! -e /etc/ag-pwned-$$
check "  nothing written by ../" test ! -e deep/escape-$$ -a ! -e "$T/../deep/escape-$$"
check "  nothing written at the absolute path" test ! -e "$T/dotdot-src"
check "  the legitimate part is restored" test "$(cat .project/sessions/evil/state)" = completed
check "  no symlink restored" test ! -L .project/sessions/evil/link
rm -f /etc/ag-pwned-$$
# An archive holding no session of that name restores nothing.
mkdir -p c5/sessions/other && echo completed >c5/sessions/other/state
tar czf .project/archive/hollow.tar.gz -C c5 sessions/other
expect_exit 2 "an archive without its session" ag-session restore hollow
check "  restores nothing" test ! -e .project/sessions/other -a ! -e .project/sessions/hollow

# A project with an archive and no sessions/ yet (one copied in, say):
# a restore makes sessions/, one of an unknown session makes nothing.
ag-session archive rel42 >/dev/null
mkdir -p p2/.project/archive && cp .project/archive/rel42.tar.gz p2/.project/archive/
AG_PROJECT=$PWD/p2/.project
export AG_PROJECT
expect_exit 2 "restore of an unknown session, no sessions/" ag-session restore nosuch
expect_exit 2 "archive of an unknown session, no sessions/" ag-session archive nosuch
check "  made no sessions/" test ! -e p2/.project/sessions
is "restore with no sessions/ yet" "$(ag-session restore rel42)" rel42
is "  the session is back, completed" "$(cat p2/.project/sessions/rel42/state)" completed
unset AG_PROJECT
done_testing
