#!/bin/sh
# ag-session: start, name, tag, show, list, and every state transition.
. "$(dirname "$0")/lib.sh"

# A session made with a name is known by it; without one it gets a sess_ id.
is "start prints the name" "$(ag-session start -r supervisor --tag feature:auth --tag p1 feat)" feat
S=.project/sessions/feat
is "  state active" "$(cat $S/state)" active
is "  role" "$(cat $S/role)" supervisor
is "  project is the directory holding .project" "$(cat $S/project)" "$(basename "$T")"
is "  tags one a line" "$(cat $S/tags)" "$(printf 'feature:auth\np1')"
like "  a sess_ id" "$(cat $S/id)" '^sess_[a-z0-9]{10}$'
like "  created is RFC 3339" "$(cat $S/created)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$'
check "  handoffs/ exists" test -d $S/handoffs
anon=$(ag-session start)
like "start without a name prints a sess_ id" "$anon" '^sess_[a-z0-9]{10}$'
is "  which is its id too" "$(cat .project/sessions/$anon/id)" "$anon"
is "  role defaults to orchestrator" "$(cat .project/sessions/$anon/role)" orchestrator
is "-p sets the project" "$(ag-session start -p billing-svc other >/dev/null; cat .project/sessions/other/project)" billing-svc

# Bad input changes nothing.
before=$(ls .project/sessions | sort | tr '\n' ' ')
expect_exit 2 "a duplicate name" ag-session start feat
like "  named" "$(cat "$T/.err")" "session 'feat' already exists"
expect_exit 2 "a bad name" ag-session start 'a/b'
like "  naming the bad value" "$(cat "$T/.err")" "bad session name 'a/b'"
expect_exit 2 "a name with dots" ag-session start 'a..b'
expect_exit 2 "a bad tag" ag-session start --tag 'x y' good
expect_exit 2 "a bad role" ag-session start -r 'a b' good2
expect_exit 2 "an unknown subcommand" ag-session frobnicate
expect_exit 2 "an option that subcommand has not" ag-session show feat --tag x
is "  nothing was created by any of them" "$(ls .project/sessions | sort | tr '\n' ' ')" "$before"
expect_exit 2 "show of an unknown session" ag-session show nosuch
like "  saying so" "$(cat "$T/.err")" "unknown session 'nosuch'"
for sub in pause resume end archive restore; do
	expect_exit 2 "$sub of an unknown session" ag-session $sub nosuch
done
expect_exit 2 "tag of an unknown session" ag-session tag nosuch +x
# In a project with no sessions/ yet, a session named is unknown, and
# nothing is made to say so.
mkdir -p fresh/.project
for c in "ag-session pause nosuch" "ag-session end nosuch" \
    "ag-session name nosuch other" "ag-session tag nosuch +x" \
    "ag-handoff write nosuch -t workagent_completion -f work_completed=x" \
    "ag-spawn -s nosuch -- true"; do
	expect_exit 2 "$c, no sessions/" env AG_PROJECT="$PWD/fresh/.project" $c
	like "  unknown" "$(cat "$T/.err")" "unknown session 'nosuch'"
done
check "  none of them made sessions/ or agents/" test -z "$(ls -A fresh/.project)"

# name: renames, and the id keeps working.
id=$(cat .project/sessions/$anon/id)
is "name ID NAME renames" "$(ag-session name "$anon" api-work --tag phase:one)" api-work
check "  the old directory is gone" test ! -e ".project/sessions/$anon"
is "  the id still finds it" "$(ag-session show "$id" --json | jq -r .name)" api-work
is "  with the tag added" "$(ag-session show api-work --json | jq -c .tags)" '["phase:one"]'
expect_exit 2 "renaming onto an existing name" ag-session name api-work feat
is "  leaves both" "$(ls .project/sessions | grep -c -e '^feat$' -e '^api-work$')" 2

# tag: +T adds, -T removes, bare T adds; no duplicates.
check "tag +p2 -p1 feat:x" ag-session tag feat +p2 -p1 team:core p2
is "  tags now" "$(cat $S/tags | tr '\n' ' ')" "feature:auth p2 team:core "
is "tag NAME alone prints them" "$(ag-session tag feat | tr '\n' ' ')" "feature:auth p2 team:core "
expect_exit 2 "tag with a bad tag changes nothing" ag-session tag feat +ok '-a b'
is "  unchanged" "$(cat $S/tags | tr '\n' ' ')" "feature:auth p2 team:core "

# Every transition (SPEC 4): the allowed ones work...
la0=$(cat $S/last_activity)
check "active -> paused" ag-session pause feat --reason "waiting for review"
is "  state" "$(cat $S/state)" paused
is "  reason kept" "$(cat $S/reason)" "waiting for review"
check "  last_activity moved" test "$(cat $S/last_activity)" '>' "$la0"
check "paused -> active (resume)" ag-session resume feat
is "  state" "$(cat $S/state)" active
check "active -> completed (end)" ag-session end feat
is "  state" "$(cat $S/state)" completed
ag-session start p2c >/dev/null
ag-session pause p2c
check "paused -> completed (end)" ag-session end p2c --reason interrupted
is "  state" "$(cat .project/sessions/p2c/state)" completed
is "  reason" "$(cat .project/sessions/p2c/reason)" interrupted

# ... and every other exits 2 naming the current state, changing nothing.
ag-session start fresh >/dev/null
expect_exit 2 "active -> active (resume)" ag-session resume fresh
like "  names the state" "$(cat "$T/.err")" "session fresh is active"
expect_exit 2 "active -> archived" ag-session archive fresh
like "  names the state" "$(cat "$T/.err")" "is active"
expect_exit 2 "active -> restore" ag-session restore fresh
ag-session pause fresh
expect_exit 2 "paused -> paused" ag-session pause fresh
like "  names the state" "$(cat "$T/.err")" "is paused"
expect_exit 2 "paused -> archived" ag-session archive fresh
is "  still paused" "$(cat .project/sessions/fresh/state)" paused
expect_exit 2 "completed -> paused" ag-session pause feat
like "  names the state" "$(cat "$T/.err")" "session feat is completed"
expect_exit 2 "completed -> active" ag-session resume feat
expect_exit 2 "completed -> completed" ag-session end feat
expect_exit 2 "completed -> restore" ag-session restore feat
is "  still completed" "$(cat $S/state)" completed
expect_exit 2 "end with a bad reason" ag-session end fresh --reason bored
is "  still paused" "$(cat .project/sessions/fresh/state)" paused
# completed -> archived -> completed is t0012's.

# list: NAME STATE ROLE LAST_ACTIVITY TAGS, by name.
is "list, one line a session" "$(ag-session list | wc -l | tr -d ' ')" "$(ls .project/sessions | wc -l | tr -d ' ')"
is "  the columns" "$(ag-session list | grep '^feat ' | cut -d' ' -f1-3,5)" "feat completed supervisor feature:auth,p2,team:core"
is "  no tags is -" "$(ag-session list | grep '^fresh ' | cut -d' ' -f5)" "-"
is "  sorted by name" "$(ag-session list | cut -d' ' -f1)" "$(ag-session list | cut -d' ' -f1 | LC_ALL=C sort)"
is "--status" "$(ag-session list --status paused | cut -d' ' -f1)" fresh
ag-session start --tag a --tag b ab >/dev/null
ag-session start --tag a only-a >/dev/null
ag-session start --tag b only-b >/dev/null
is "--tag a" "$(ag-session list --tag a | cut -d' ' -f1 | tr '\n' ' ')" "ab only-a "
is "--tag a --tag b: all must match" "$(ag-session list --tag a --tag b | cut -d' ' -f1)" ab
is "--tag b --tag a: the same" "$(ag-session list --tag b --tag a | cut -d' ' -f1)" ab
is "--tag none matching" "$(ag-session list --tag a --tag zzz | wc -l | tr -d ' ')" 0
is "--json: one object a line" "$(ag-session list --json | jq -s 'length')" "$(ag-session list | wc -l | tr -d ' ')"
is "--json fields" "$(ag-session list --json --tag a --tag b | jq -c '[.name,.state,.tags]')" '["ab","active",["a","b"]]'
# --stale: idle longer than DUR, by last_activity.
echo 2026-01-01T00:00:00.000Z >.project/sessions/only-b/last_activity
is "--stale 7d" "$(ag-session list --stale 7d | cut -d' ' -f1)" only-b
is "--stale with --tag" "$(ag-session list --stale 1d --tag a | wc -l | tr -d ' ')" 0
expect_exit 2 "--stale with a bad duration" ag-session list --stale 7x
expect_exit 2 "--status with a bad state" ag-session list --status sleeping

# show: text and JSON.
is "show NAME" "$(ag-session show feat | grep '^state:')" "state: completed"
is "show --json" "$(ag-session show feat --json | jq -r '[.name,.state,.role] | join(" ")')" "feat completed supervisor"

# Completion offers session names and handoff types.
bc="$AG_BIN/../share/bash-completion/completions/ag-session"
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-session pause fr); COMP_CWORD=2; _ag_session; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes session names" "$comp" fresh
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-handoff write feat -t workagent_c); COMP_CWORD=4; _ag_handoff; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes handoff types" "$comp" workagent_completion
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-spawn -s on); COMP_CWORD=2; _ag_spawn; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes ag-spawn -s" "$comp" "$(printf 'only-a\nonly-b')"
check "fish completion is installed" test -f "$AG_BIN/../share/fish/vendor_completions.d/ag-session.fish"

# A read-only command finds no project: exit 2, nothing created.
E=$(mktemp -d) && cd "$E"
expect_exit 2 "list with no project" ag-session list
like "  saying so" "$(cat "$T/.err")" "no .project"
expect_exit 2 "pause with no project" ag-session pause x
check "  created nothing" test ! -e .project
cd "$T" && rm -rf "$E"
done_testing
