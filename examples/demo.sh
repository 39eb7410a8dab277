#!/bin/sh
# The ag demo: a small fleet of simulated agents, start to finish, in a
# scratch project.  No network, no API key; about 10 seconds.
#   sh examples/demo.sh BINDIR
set -eu
bin=${1:?usage: demo.sh BINDIR}
here=$(cd "$(dirname "$0")" && pwd)
PATH="$bin:$here:$PATH"
export PATH
unset AG_PROJECT AG_AGENT_ID AG_PARENT_ID AG_SESSION AG_ROLE
work=$(mktemp -d "${TMPDIR:-/tmp}/ag-demo.XXXXXX")
cd "$work"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Show the command as it could be typed: words that need it are quoted.
shown() {
	for w; do
		case $w in
		'' | *[!A-Za-z0-9_./:=@%+,-]*)
			printf " '%s'" "$(printf '%s' "$w" | sed "s/'/'\\\\''/g")" ;;
		*) printf ' %s' "$w" ;;
		esac
	done
}
run() { printf '$%s\n' "$(shown "$@")"; "$@"; }

say "Spawn a fleet: each command returns at once with the agent's id"
run ag-spawn -n plan -r orchestrator -- fake-agent 3 0.3
run ag-spawn -n build -r supervisor -d "build the project" -- fake-agent 5 0.3
run ag-spawn -n flaky -- fake-agent 2 0.3 1
run ag-spawn -n hang -t 1s -- fake-agent 100 0.5
say "A queue with two slots: four reviews, at most two at a time"
for f in auth api db ui; do
	run ag-spawn -n review-$f -q review --slots 2 -- fake-agent 2 0.4
done
say "A report that waits for all four reviews"
run ag-spawn -n report --after review-auth,review-api,review-db,review-ui -- fake-agent 1 0.2
say "An agent that spawns its own workers: a tree"
run ag-spawn -n deploy -r supervisor -- sh -c '
	ag-spawn -n tests -- fake-agent 2 0.3 >/dev/null
	ag-spawn -n docs -- fake-agent 1 0.3 >/dev/null
	ag-wait --children "$AG_AGENT_ID" >/dev/null'

say "While they run"
sleep 0.5
run ag-ps --tree

say "Wait for everything; the exit status says whether all completed"
set +e
run ag-wait --all
echo "(exit status $?: some agents did not complete)"
set -e

say "Everything is plain files"
run ag-ps --all
run cat .project/agents/flaky/status
run tail -n 3 .project/agents/flaky/output.log
run tail -n 2 .project/agents/hang/output.log
printf '$ jq -c .output.metrics .project/agents/build/result.json\n'
jq -c .output.metrics .project/agents/build/result.json
printf '$ grep -l failed .project/agents/*/status\n'
grep -l failed .project/agents/*/status
say "A named session carries work across agents, with handoffs"
run ag-session start -r orchestrator --tag feature:auth auth
run ag-handoff write auth -t orchestrator_to_supervisor -f objective="Add login" -f success_criteria="tests pass" -f success_criteria="docs updated"
run ag-spawn -s auth -n auth-impl -r workagent -- sh -c 'fake-agent 2 0.2 && ag-handoff write "$AG_SESSION" -t workagent_completion -f work_completed="login form" -f work_completed="session cookie" >/dev/null'
run ag-wait -s auth
run ag-handoff list auth
run ag-handoff read auth latest
run ag-session end auth
run ag-session archive auth
run ag-session list --status archived
printf '$ tar tzf .project/archive/auth.tar.gz | grep handoffs/\n'
tar tzf .project/archive/auth.tar.gz | grep handoffs/
say "Every end is a billing line"
printf '$ cat .project/billing/.tracking-*.jsonl | jq -c "select(.event==\"agent_end\") | [.agent_id, .status, .duration_ms]" | head -n 4\n'
cat .project/billing/.tracking-*.jsonl | jq -c 'select(.event=="agent_end") | [.agent_id, .status, .duration_ms]' | head -n 4
say "What it cost: recorded usage, an agent billed from its Claude result, a report"
run ag-cost record -a plan -m claude-opus-4-1 --in 42000 --out 3100 --cache-read 120000
run ag-cost record -a deploy.tests -m claude-sonnet-4-5 --in 18000 --out 2400
run ag-cost record -m claude-sonnet-4-5 --in 9000 --out 700
run ag-spawn -n review-claude -r workagent -- sh -c 'echo "{\"type\":\"result\",\"total_cost_usd\":0.0421,\"usage\":{\"input_tokens\":9000,\"output_tokens\":1000},\"modelUsage\":{\"claude-sonnet-4-5\":{\"inputTokens\":9000,\"outputTokens\":1000,\"costUSD\":0.0421}}}"'
run ag-wait review-claude
run ag-cost report --by role
run ag-cost report --tree --where 'select(.agent_id != null)'
run ag-cost total deploy
say "Stop a small tree: children first"
run ag-spawn -n crawl -- sh -c 'ag-spawn -n a -- sleep 60 >/dev/null; ag-spawn -n b -- sleep 60 >/dev/null; sleep 60'
sleep 0.3
run ag-stop --grace 2s --reason "demo over" crawl
say "A task store: claims are one rename"
run ag-task add -p 5 "fix the login bug"
run ag-task add "write the changelog"
run ag-task claim -a demo
say "One watchdog pass, as cron runs it"
run ag-spawn -n crashed -- sleep 60
kill -KILL "$(cat .project/agents/crashed/heartbeat)" "$(cat .project/agents/crashed/pid)"
# The kernel frees the dead monitor's lock as it finishes dying: wait for
# that, as a cron pass a minute later would never notice.
flock -w 5 .project/agents/crashed/lock true 2>/dev/null || sleep 0.2
run ag-watchdog
say "The demo project is in $work"
