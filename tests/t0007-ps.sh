# ag-ps: the table, its filters, --tree and --json.
. "$(dirname "$0")/lib.sh"

ag-spawn -n build -r supervisor -- sh -c 'echo "[PROGRESS] 1/3 compile"; echo "[PROGRESS] 2/3 link"; sleep 30' >/dev/null
ag-spawn -n build.step --parent build -- true >/dev/null 2>&1 || true
ag-spawn -n lint -- sh -c 'exit 1' >/dev/null
ag-spawn -n lint-b -- true >/dev/null
ag-spawn -n hold -q serial -- sleep 30 >/dev/null
ag-spawn -n waiting -q serial -- true >/dev/null
ag-wait lint lint-b build.build.step >/dev/null 2>&1
ag-wait lint lint-b >/dev/null
sleep 0.1

out=$(ag-ps)
is "header names the columns (tab-separated off a terminal)" "$(echo "$out" | head -n 1)" "$(printf 'ID\tROLE\tSTATUS\tELAPSED\tCOST\tPROGRESS')"
row=$(echo "$out" | awk -F'\t' '$1=="build"')
is "a row: id, role, status" "$(echo "$row" | cut -f1-3)" "$(printf 'build\tsupervisor\trunning')"
is "progress is the last [PROGRESS] line" "$(echo "$row" | cut -f6)" "2/3 link"
like "elapsed is a duration" "$(echo "$row" | cut -f4)" '^[0-9.]+(ms|s)$'
is "cost is \$0.00 while no cost is recorded" "$(echo "$row" | cut -f5)" '$0.00'
echo 1.2345 >.project/agents/lint/cost
is "cost comes from the agent's cost file" "$(ag-ps | awk -F'\t' '$1=="lint"{print $5}')" '$1.23'
role=rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr
ag-spawn -n longrole -r "$role" -- true >/dev/null
ag-wait longrole >/dev/null
is "a 64-character role is shown whole" "$(ag-ps | awk -F'\t' '$1=="longrole"{print $2}')" "$role"
is "  on a terminal too" "$(script -qc 'ag-ps' /dev/null | tr -d '\r' | awk '$1=="longrole"{print $2}')" "$role"
is "queued agents show queued" "$(echo "$out" | awk -F'\t' '$1=="waiting"{print $3}')" queued
is "recently ended agents are shown by default" "$(echo "$out" | awk -F'\t' '$1=="lint"{print $3}')" failed
run=$(ag-ps --running | cut -f1 | tail -n +2 | sort | tr '\n' ' ')
is "--running: only queued and running" "$run" "build hold waiting "
# An agent that ended long ago: hidden by default, shown by --all.  (Its
# summary, which ag-ps reads first, would say otherwise: see below.)
ag-spawn -n old -- true >/dev/null
ag-wait old >/dev/null
echo 2020-01-01T00:00:00.000Z >.project/agents/old/ended
rm .project/agents/old/summary
is "by default an agent that ended over an hour ago is hidden" "$(ag-ps | grep -c '^old')" 0
is "--all shows it" "$(ag-ps --all | grep -c '^old')" 1

tree=$(ag-spawn -n p -- sh -c 'ag-spawn -n c -- sh -c "ag-spawn -n g -- true"' >/dev/null; ag-wait p >/dev/null; ag-wait --children p >/dev/null; ag-spawn -n p-x -- true >/dev/null; ag-wait p-x >/dev/null; ag-ps --all --tree | cut -f1 | grep -E '^ *p')
is "--tree puts children right under their parent, indented" "$tree" "p
  p.c
    p.c.g
p-x"
mkfifo "$T/hold"
ag-spawn -n q -- sh -c "ag-spawn -n r -- sh -c 'read x <\"$T/hold\"'" >/dev/null
ag-wait q >/dev/null
is "--tree --running: a child whose parent is not shown starts at the left" \
    "$(ag-ps --running --tree | cut -f1 | grep -E '^ *q')" "q.r"
echo go >"$T/hold"
ag-wait q.r >/dev/null

j=$(ag-ps --json | jq -c 'select(.id=="build") | {id,role,status,progress,parent,cost}')
is "--json: one object per agent" "$j" '{"id":"build","role":"supervisor","status":"running","progress":"2/3 link","parent":null,"cost":0}'
is "--json: every line parses" "$(ag-ps --all --json | jq -s length)" "$(ls .project/agents | wc -l | tr -d ' ')"
is "--json: the parent" "$(ag-ps --all --json | jq -r 'select(.id=="p.c.g") | .parent')" p.c
is "--json: exit code of a failed agent" "$(ag-ps --all --json | jq -r 'select(.id=="lint") | .exit_code')" 1
# An ended agent's summary: what ag-ps shows of it, in one file that it
# reads instead of five.
ag-spawn -n sum -r summer -- sh -c 'echo "[PROGRESS] 1/2 half"; echo "[PROGRESS] 2/2 all"; exit 4' >/dev/null
ag-wait sum >/dev/null
a=.project/agents/sum
ms() { date -d "$(cat "$a/$1")" +%s%3N; }
is "an ended agent has a summary: started and ended in ms, exit, role; its last progress" \
    "$(cat $a/summary)" "$(ms started) $(ms ended) 4 summer
2/2 all"
row=$(ag-ps --all --json | jq -c 'select(.id=="sum")')
is "  which ag-ps shows" "$(echo "$row" | jq -c '[.role, .exit_code, .progress, .elapsed_ms == ('"$(ms ended) - $(ms started)"')]')" '["summer",4,"2/2 all",true]'
echo other >$a/role
is "  reading it, not the files it sums up" "$(ag-ps --all --json | jq -c 'select(.id=="sum")')" "$row"
echo summer >$a/role
rm $a/summary
is "without it, the files give the same row" "$(ag-ps --all --json | jq -c 'select(.id=="sum")')" "$row"
echo other >$a/role
printf '1 2 3\n' >$a/summary
is "  and so they do when it does not parse" "$(ag-ps --all --json | jq -r 'select(.id=="sum") | .role')" other
ag-spawn -n stopped -- sleep 30 >/dev/null
ag-stop stopped >/dev/null
is "an agent stopped has one too" "$(st stopped) $(sed -n 1p .project/agents/stopped/summary | cut -d' ' -f3-)" "stopped 143 workagent"

expect_exit 2 "--all with --running" ag-ps --all --running
# -s keeps the agents of one session (recorded in their session file).
echo release-42 >.project/agents/lint/session
is "-s: only the agents of that session" "$(ag-ps --all -s release-42 | tail -n +2 | cut -f1)" lint
expect_exit 0 "-s: a session that is gone is known by the agents that name it, even those filtered out" ag-ps --running -s release-42
is "  which leaves the header alone" "$(cat "$T/.out")" "$(printf 'ID\tROLE\tSTATUS\tELAPSED\tCOST\tPROGRESS')"
expect_exit 2 "-s: a session nothing knows (no session, no archive, no agent) is an error" ag-ps --all -s nosuch
is "  saying so" "$(cat "$T/.err")" "ag-ps: unknown session 'nosuch'"
expect_exit 2 "-s with a bad name" ag-ps -s 'a/b'

# A terminal gets aligned columns (script(1) gives us a tty).
if command -v script >/dev/null; then
	tty=$(script -qc 'ag-ps --running' /dev/null | tr -d '\r')
	like "on a terminal: space-aligned header" "$(echo "$tty" | head -n 1)" '^ID +ROLE +STATUS +ELAPSED +COST +PROGRESS$'
	is "on a terminal: no tabs" "$(echo "$tty" | grep -c "$(printf '\t')")" 0
fi
done_testing
