#!/bin/sh
# ag-handoff: typed documents, fields, rendering, racing writers; and the
# session's agents (ag-spawn -s, ag-wait -s) and its session_end event.
. "$(dirname "$0")/lib.sh"

ag-session start feat >/dev/null
H=.project/sessions/feat/handoffs

# One of each type, with its required fields.
p=$(AG_AGENT_ID=orch AG_ROLE=orchestrator ag-handoff write feat -t orchestrator_to_supervisor \
	-f objective="Ship login" -f success_criteria="tests pass" -f success_criteria="docs")
is "write prints the path" "$p" "$T/.project/sessions/feat/handoffs/0001-orchestrator_to_supervisor.json"
is "  a JSON document of its type" "$(jq -r .type "$p")" orchestrator_to_supervisor
is "  numbered" "$(jq -r .number "$p")" 1
is "  its session" "$(jq -r .session "$p")" feat
like "  created_at" "$(jq -r .created_at "$p")" '^20[0-9-]{8}T[0-9:.]{12}Z$'
is "  the writing agent and role" "$(jq -r '.agent_id + " " + .role' "$p")" "orch orchestrator"
is "  a repeated list key appends" "$(jq -c .context.success_criteria "$p")" '["tests pass","docs"]'
is "  a single field is a string" "$(jq -r .context.objective "$p")" "Ship login"
check "supervisor_to_workagent" ag-handoff write feat -t supervisor_to_workagent -f objective=o -f work_assignment=w
check "workagent_completion" ag-handoff write feat -t workagent_completion -f work_completed=done
check "supervisor_to_orchestrator" ag-handoff write feat -t supervisor_to_orchestrator -f feature=login -f status=done
check "supervisor_continuation" ag-handoff write feat -t supervisor_continuation -f work_completed=a -f next_steps=b
check "orchestrator_continuation" ag-handoff write feat -t orchestrator_continuation -f work_completed=a -f next_steps=b
is "  six documents, numbered in order" "$(ls $H | cut -c1-4 | tr '\n' ' ')" "0001 0002 0003 0004 0005 0006 "
is "  no writer recorded without AG_AGENT_ID" "$(jq -r .agent_id $H/0003-*.json)" null

# Bad input: exit 2, one line, nothing written.
n0=$(ls $H | wc -l)
expect_exit 2 "missing required fields" ag-handoff write feat -t supervisor_to_workagent
like "  all listed" "$(cat "$T/.err")" "needs the field\(s\): objective, work_assignment"
is "  one line" "$(wc -l <"$T/.err" | tr -d ' ')" 1
expect_exit 2 "an empty required field counts as missing" ag-handoff write feat -t workagent_completion -f work_completed=
expect_exit 2 "an unknown type" ag-handoff write feat -t gossip -f a=b
like "  named, with the known ones" "$(cat "$T/.err")" "unknown handoff type 'gossip' \(known: orchestrator_to_supervisor"
expect_exit 2 "-f without =" ag-handoff write feat -t workagent_completion -f work_completed
like "  saying so" "$(cat "$T/.err")" "no '='"
expect_exit 2 "an unreadable @FILE" ag-handoff write feat -t workagent_completion -f work_completed=@/nonexistent/x
echo '{"work_completed": ["a"' >bad.json
expect_exit 2 "a malformed --from" ag-handoff write feat -t workagent_completion --from bad.json
like "  jq's message" "$(cat "$T/.err")" "bad JSON in bad.json"
# jq's message quotes the whole input: not ours, which is one short line.
{ printf '{"work_completed": ['; seq -s, 3000; printf ',\n oops]}\n'; } >big.json
expect_exit 2 "a large malformed --from" ag-handoff write feat -t workagent_completion --from big.json
is "  is told in one line, without the input" "$(cat "$T/.err")" "ag-handoff: bad JSON in big.json: Invalid numeric literal at line 3, column 6"
echo '["work_completed"]' >arr.json
expect_exit 2 "a non-object context" ag-handoff write feat -t workagent_completion --from arr.json
like "  saying so" "$(cat "$T/.err")" "must be a JSON object, not array"
expect_exit 2 "an unknown session" ag-handoff write nosuch -t workagent_completion -f work_completed=x
expect_exit 2 "a bad session name" ag-handoff write '../x' -t workagent_completion -f work_completed=x
expect_exit 2 "a bad key" ag-handoff write feat -t workagent_completion -f 'a b=c' -f work_completed=x
is "  nothing was written" "$(ls $H | wc -l)" "$n0"

# Values from files and stdin; --from merged with -f.
printf 'line one\nline two\n' >notes.txt
p=$(ag-handoff write feat -t workagent_completion -f work_completed=@notes.txt -f blockers=@-  <<'E'
waiting on CI
E
)
is "@FILE: the file, less its last newline" "$(jq -r '.context.work_completed[0]' "$p")" "$(printf 'line one\nline two')"
is "@-: standard input" "$(jq -c .context.blockers "$p")" '["waiting on CI"]'
cat >ctx.json <<'E'
{"objective": "Refactor", "success_criteria": ["fast"], "metrics": {"files": 3}, "extra": "kept"}
E
p=$(ag-handoff write feat -t orchestrator_to_supervisor --from ctx.json -f success_criteria=small)
is "--from, with -f list values appended" "$(jq -c .context.success_criteria "$p")" '["fast","small"]'
is "  other fields kept as given" "$(jq -c '[.context.metrics, .context.extra]' "$p")" '[{"files":3},"kept"]'
p2=$(ag-handoff write feat -t orchestrator_to_supervisor --from - <ctx.json)
is "--from -" "$(jq -r .context.objective "$p2")" Refactor

# read: Markdown by default, JSON with --json; latest, N, -t.
n=$(ls $H | wc -l | tr -d ' ')
md=$(ag-handoff read feat 8)
like "Markdown heading" "$(echo "$md" | head -1)" "^# Handoff 0008: orchestrator_to_supervisor$"
like "  a section per field" "$md" "## Success criteria"
is "  list fields as lists" "$(echo "$md" | sed -n '/^## Success criteria/,/^## /p' | grep '^- ')" "$(printf -- '- fast\n- small')"
like "  unknown fields too" "$md" "## Extra"
is "read latest is the newest" "$(ag-handoff read feat latest --json | jq .number)" "$n"
is "read with no N is latest" "$(ag-handoff read feat --json | jq .number)" "$n"
is "read -t TYPE: the latest of that type" "$(ag-handoff read feat -t supervisor_to_workagent --json | jq .number)" 2
expect_exit 2 "read a number that does not exist" ag-handoff read feat 99
expect_exit 2 "read a bad number" ag-handoff read feat 1x
expect_exit 2 "read an unknown type" ag-handoff read feat -t gossip
# Round trip: the JSON read back writes the same document again.
ag-handoff read feat 8 --json | jq .context >ctx2.json
p3=$(ag-handoff write feat -t orchestrator_to_supervisor --from ctx2.json)
is "JSON round trip: same context" "$(jq -cS .context "$p3")" "$(jq -cS .context $H/0008-*.json)"
m1=$(ag-handoff read feat 8 | sed 1,5d)
m2=$(ag-handoff read feat "$(jq .number "$p3")" | sed 1,5d)
is "Markdown round trip: same body" "$m2" "$m1"
is "list: one line each" "$(ag-handoff list feat | wc -l | tr -d ' ')" "$(ls $H | wc -l | tr -d ' ')"
is "  NNNN TYPE CREATED AGENT" "$(ag-handoff list feat | head -1 | cut -d' ' -f1,2,4)" "0001 orchestrator_to_supervisor orch"
is "list --json" "$(ag-handoff list feat --json | jq -s 'map(.number) | add')" "$(seq 1 "$(ls $H | wc -l)" | paste -sd+ | bc)"

# resume prints the latest handoff, ready for a fresh agent.
ag-session pause feat
is "resume prints the latest handoff as Markdown" "$(ag-session resume feat | head -1)" "$(ag-handoff read feat | head -1)"

# Two writers racing, 50 times each: all land, none overwritten.
ag-session start race >/dev/null
for w in a b; do
	(i=0; while [ $i -lt 50 ]; do
		AG_AGENT_ID=$w ag-handoff write race -t workagent_completion -f work_completed=$w$i >/dev/null || echo FAIL
		i=$((i + 1)); done) >race.$w &
done
wait
R=.project/sessions/race/handoffs
is "racing writers: no failure" "$(cat race.a race.b)" ""
is "  100 documents" "$(ls $R | wc -l | tr -d ' ')" 100
is "  numbered 1..100, each once" "$(ls $R | cut -c1-4 | sort -u | wc -l | tr -d ' ')" 100
is "  every value once" "$(cat $R/* | jq -r '.context.work_completed[0]' | sort -u | wc -l | tr -d ' ')" 100
is "  each file's number is its name's" "$(for f in $R/*; do [ "$(jq .number $f)" = "$(basename $f | cut -c1-4 | sed 's/^0*//')" ] || echo bad; done)" ""

# The session's agents: ag-spawn -s, ag-wait -s, ag-ps -s.
ag-session start work >/dev/null
check "spawn -s into an active session" ag-spawn -s work -n w1 -- sh -c 'sleep 0.2; echo done'
ag-spawn -s work -n w2 -- true >/dev/null
ag-spawn -n outsider -- sleep 5 >/dev/null
is "  the agent records the session" "$(cat .project/agents/w1/session)" work
is "  and sees AG_SESSION" "$(ag-spawn -s work -n w3 -- sh -c 'echo $AG_SESSION' >/dev/null; ag-wait w3 >/dev/null; sed -n 3p .project/agents/w3/output.log)" work
is "ag-wait -s waits for every agent of the session" "$(ag-wait -s work | cut -d' ' -f1,2 | tr '\n' ' ')" "w1 completed w2 completed w3 completed "
is "  (and not for the others)" "$(st outsider)" running
is "ag-ps -s" "$(ag-ps --all -s work | tail -n +2 | cut -f1 | tr '\n' ' ')" "w1 w2 w3 "
sid=$(cat .project/sessions/work/id)
is "ag-ps -s by the session's id" "$(ag-ps --all -s "$sid" | tail -n +2 | wc -l | tr -d ' ')" 3
ag-session name work work2 >/dev/null
is "a rename reaches the agents' records" "$(cat .project/agents/w1/session)" work2
is "ag-wait -s NEWNAME" "$(ag-wait -s work2 | wc -l | tr -d ' ')" 3
ag-session pause work2
expect_exit 2 "spawn -s into a paused session" ag-spawn -s work2 -- true
like "  naming its state" "$(cat "$T/.err")" "session work2 is paused, not active"
expect_exit 2 "spawn -s into an unknown session" ag-spawn -s nosuch -- true
is "  nothing was spawned" "$(agent_count)" 4

# session_end: tokens and cost summed from the session's usage events.
ag-session start billed >/dev/null
d=$(date -u +%Y-%m-%d)
B=.project/billing/.tracking-$d.jsonl
printf '%s\n' \
 '{"event":"usage","timestamp":"'$d'T00:00:01.000Z","session":"billed","model":"m","input_tokens":100,"output_tokens":20,"cache_read_tokens":5,"cache_write_tokens":0,"cost":0.25}' \
 '{"event":"usage","timestamp":"'$d'T00:00:02.000Z","session":"other","model":"m","input_tokens":999,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"cost":9}' \
 '{"event":"usage","timestamp":"'$d'T00:00:03.000Z","session":"billed","model":"m","input_tokens":1,"output_tokens":2,"cache_read_tokens":3,"cache_write_tokens":4,"cost":0.5}' >>$B
check "end" ag-session end billed
e=$(grep '"session_end"' $B | jq -c 'select(.session_id=="billed")')
is "session_end: tokens of its usage events" "$(echo "$e" | jq .tokens_used)" 135
is "  estimated_cost" "$(echo "$e" | jq .estimated_cost)" 0.75
is "  reason and role" "$(echo "$e" | jq -r '.reason + " " + .role')" "completed orchestrator"
check "  duration_minutes" test "$(echo "$e" | jq '.duration_minutes >= 0')" = true
ag-session start unbilled >/dev/null
ag-session end unbilled --reason exit
is "a session with no usage ends with 0" "$(grep '"session_end"' $B | jq -c 'select(.session_id=="unbilled") | [.tokens_used,.estimated_cost,.reason]')" '[0,0,"exit"]'
is "every billing line is whole JSON" "$(jq -c . $B | wc -l)" "$(wc -l <$B)"
kill -TERM "-$(cat .project/agents/outsider/pid)"
done_testing
