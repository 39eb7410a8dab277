#!/bin/sh
# ag-task: order, atomic claims under contention, done/fail/release, stale.
. "$(dirname "$0")/lib.sh"

expect_exit 2 "claim with no project is exit 2" ag-task claim
mkdir .project
expect_exit 1 "claim in a project without tasks is exit 1" ag-task claim
a=$(ag-task add "write the parser")
like "add prints a generated id" "$a" '^T[a-z0-9]{8}$'
check "cat pending/ID shows the task" grep -q '"description":"write the parser"' .project/tasks/pending/$a
ag-task add --id low2 "second low" >/dev/null
ag-task add --id hi -p 5 "urgent" >/dev/null
ag-task add --id mid -p 2 "medium" >/dev/null
is "claim: the highest priority first" "$(ag-task claim -a w1)" "$(printf 'hi\turgent')"
check "  moved to claimed/" test -f .project/tasks/claimed/hi -a ! -e .project/tasks/pending/hi
is "  the claimer recorded" "$(jq -r .claimed_by .project/tasks/claimed/hi)" w1
like "  and when" "$(jq -r .claimed_at .project/tasks/claimed/hi)" '^20[0-9-]{8}T'
is "claimer from AG_AGENT_ID" "$(AG_AGENT_ID=w2 ag-task claim | cut -f1)" mid
is "  recorded" "$(jq -r .claimed_by .project/tasks/claimed/mid)" w2
is "then the oldest of equal priority" "$(ag-task claim | cut -f1)" "$a"
check "release puts it back" ag-task release "$a"
is "  pending again, unclaimed" "$(jq -r .claimed_by .project/tasks/pending/$a)" null
is "  and first again in the order" "$(ag-task claim | cut -f1)" "$a"
is "then the next" "$(ag-task claim | cut -f1)" low2
expect_exit 1 "none pending: exit 1" ag-task claim
is "  printing nothing" "$(cat "$T/.out")" ""
check "done with a result" ag-task done hi --result '{"files":3}'
is "  in done/ with its result" "$(jq -c .result .project/tasks/done/hi)" '{"files":3}'
check "fail with a reason" ag-task fail mid --reason "tests red"
is "  in failed/ with its reason" "$(jq -r .reason .project/tasks/failed/mid)" "tests red"
expect_exit 2 "done of a done task" ag-task done hi
like "  names its state" "$(cat "$T/.err")" "task hi is done, not claimed"
expect_exit 2 "release of a pending task" ag-task release "$(ag-task add x)"
is "list: one line each" "$(ag-task list | wc -l | tr -d ' ')" 5
is "list --status done" "$(ag-task list --status done | cut -f1)" hi
is "list --json" "$(ag-task list --json --status failed | jq -r '.id + " " + .status')" "mid failed"

# Bad input: exit 2, nothing changes.
snap() { find .project/tasks -type f ! -name '.*' | sort | xargs cat | md5sum; }
before=$(snap)
expect_exit 2 "an empty description" ag-task add ""
expect_exit 2 "a blank description" ag-task add "   "
expect_exit 2 "a bad task id" ag-task add --id 'a/b' "x"
expect_exit 2 "a duplicate id" ag-task add --id hi "again"
expect_exit 2 "a bad priority" ag-task add -p highest "x"
like "  naming the words it takes" "$(cat "$T/.err")" "want an integer, or low, normal, high or urgent"
expect_exit 2 "done of an unknown id" ag-task done nosuch
expect_exit 2 "done with bad JSON" ag-task done "$a" --result '{bad'
is "  said in one line, without jq's copy of the input" "$(cat "$T/.err")" "ag-task: bad --result JSON: Invalid numeric literal at EOF at line 1, column 4"
expect_exit 2 "release-stale with a bad duration" ag-task release-stale --older-than 5x
expect_exit 2 "list with a bad status" ag-task list --status weird
is "  nothing changed" "$(snap)" "$before"

# Stale claims: by age, and by a claimer that has ended.
rm -rf .project/tasks
ag-task add --id old "old claim" >/dev/null
ag-task add --id dead "dead claimer" >/dev/null
ag-task add --id fresh "fresh claim" >/dev/null
ag-spawn -n gone-agent -- true >/dev/null; ag-wait gone-agent >/dev/null
ag-spawn -n live-agent -- sleep 300 >/dev/null
ag-task claim -a live-agent >/dev/null   # old
ag-task claim -a gone-agent >/dev/null   # dead
ag-task claim -a live-agent >/dev/null   # fresh
jq -c '.claimed_at = "2026-01-01T00:00:00.000Z"' .project/tasks/claimed/old >x && mv x .project/tasks/claimed/old
out=$(ag-task release-stale)
like "release-stale: the old one" "$out" '^released old \(claimed by live-agent, '
like "  the one whose agent ended" "$out" 'released dead \(claimed by gone-agent, .*agent ended\)'
is "  not the fresh one" "$(echo "$out" | grep -c fresh)" 0
is "  both pending again" "$(ls .project/tasks/pending | grep -c -e '^old$' -e '^dead$')" 2
is "--older-than 0 takes every claim" "$(ag-task release-stale --older-than 0 | cut -d' ' -f2)" fresh
ag-stop live-agent >/dev/null

# Six claimers race for 120 tasks: each task exactly once, all claimed.
rm -rf .project/tasks
i=0; while [ $i -lt 120 ]; do ag-task add --id "r$i" "race $i" >/dev/null; i=$((i+1)); done
for c in 1 2 3 4 5 6; do
	(while ag-task claim -a "c$c" >>claims.$c; do :; done) &
done
wait
is "racing claimers: 120 claims in all" "$(cat claims.* | wc -l | tr -d ' ')" 120
is "  no task claimed twice" "$(cat claims.* | cut -f1 | sort | uniq -d)" ""
is "  every task claimed" "$(ls .project/tasks/claimed | wc -l | tr -d ' ')" 120
is "  none left pending" "$(ls .project/tasks/pending | wc -l | tr -d ' ')" 0
is "  each claimed file names one of the claimers" "$(cat .project/tasks/claimed/* | jq -r .claimed_by | sort -u | grep -vc '^c[1-6]$')" 0

# claim -n: a batch, in order; fewer when fewer are left.
rm -rf .project/tasks claims.*
ag-task add --id low "low" >/dev/null
ag-task add --id high -p 9 "high" >/dev/null
ag-task add --id mid -p 5 "mid" >/dev/null
ag-task add --id low2 "low2" >/dev/null
is "claim -n 3: three tasks, by priority then age" \
    "$(ag-task claim -a b -n 3 | cut -f1 | tr '\n' ' ')" "high mid low "
is "  -n 5 with one left gives it, exit 0" "$(ag-task claim -n 5 | cut -f1)" low2
expect_exit 1 "  none left: exit 1" ag-task claim -n 5
expect_exit 2 "a bad count" ag-task claim -n 0
expect_exit 2 "a count that is not a number" ag-task claim -n 3x
i=0; while [ $i -lt 120 ]; do ag-task add --id "n$i" "race $i" >/dev/null; i=$((i+1)); done
for c in 1 2 3 4; do
	(while ag-task claim -a "c$c" -n 7 >>claims.$c; do :; done) &
done
wait
is "4 batch claimers (-n 7) race for 120 tasks: 120 claims" \
    "$(cat claims.* | wc -l | tr -d ' ')" 120
is "  none twice" "$(cat claims.* | cut -f1 | sort | uniq -d)" ""
# Priority words, in a project of their own.
mkdir -p words/.project && cd words || exit 1
ag-task add --id wlow -p low "l" >/dev/null
ag-task add --id wnone "n" >/dev/null
ag-task add --id whigh -p high "h" >/dev/null
ag-task add --id wurgent -p urgent "u" >/dev/null
is "priority words: urgent, high, the default, low" \
    "$(for i in 1 2 3 4; do ag-task claim | cut -f1; done | tr '\n' ' ')" \
    "wurgent whigh wnone wlow "
is "  stored as numbers" "$(jq -c '[.priority]' .project/tasks/claimed/wlow .project/tasks/claimed/whigh | tr -d '\n')" "[-1][1]"
cd "$T" || exit 1
done_testing
