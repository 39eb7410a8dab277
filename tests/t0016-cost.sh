#!/bin/sh
# ag-cost: record, the price table, imports from Claude Code and Codex,
# report and total; agents billed from a Claude result object.
. "$(dirname "$0")/lib.sh"

mkdir .project
sum() { jq -s "$@" .project/billing/.tracking-*.jsonl; }
total_json() { ag-cost report --json "$@" | tail -n 1; }
usage_of() {    # AGENT JQ: JQ of each usage event of AGENT, an array
	sum -c "[.[]|select(.agent_id==\"$1\" and .event==\"usage\")|$2]"
}

# record: priced from the built-in table, or --usd.
check "record prices from the table" \
    ag-cost record -m claude-sonnet-4-20250514 --in 1000000 --out 100000
is "  sonnet-4: 3 + 1.5 USD" "$(sum '[.[]|select(.event=="usage")|.cost]|add')" 4.5
check "record --usd" ag-cost record -m gpt-5-codex --in 10 --out 20 \
    --cache-read 30 --cache-write 40 --usd 0.25
is "  cost as given, the four token kinds kept" \
    "$(sum -c '.[1]|[.cost,.input_tokens,.output_tokens,.cache_read_tokens,.cache_write_tokens,.source]')" \
    '[0.25,10,20,30,40,"record"]'
ag-cost record -m mystery-model --in 5 --out 5 2>"$T/warn"
is "an unknown model is priced 0" "$(sum '.[2].cost')" 0
like "  with a warning naming it" "$(cat "$T/warn")" "mystery-model"
printf '# ours\nmystery-* 1 2 3 4\n\nclaude-sonnet-4* 10 10 10 10\n' >.project/pricing
ag-cost record -m mystery-model --in 1000000 --out 1000000 --cache-write 1000000 \
    --cache-read 1000000
is ".project/pricing overrides and extends the table" "$(sum '.[3].cost')" 10
ag-cost record -m claude-sonnet-4-5 --in 1000000 --out 0
is "  and comes before the built-in prices" "$(sum '.[4].cost')" 10
printf 'ok-* 1 2 3 4\nbad-* 1 2 three 4\n' >.project/pricing
expect_exit 2 "a malformed pricing line" ag-cost record -m x --in 1 --out 1
like "  names its line" "$(cat "$T/.err")" "pricing line 2"
printf 'short 1 2\n' >.project/pricing
expect_exit 2 "a pricing line with too few prices" \
    ag-cost record -m x --in 1 --out 1
rm .project/pricing

# Bad input changes nothing.
before=$(cat .project/billing/.tracking-*.jsonl | wc -l)
expect_exit 2 "negative tokens" ag-cost record -m m --in -1 --out 1
expect_exit 2 "non-numeric tokens" ag-cost record -m m --in 12x --out 1
expect_exit 2 "a fractional token count" ag-cost record -m m --in 1 --out 1.5
expect_exit 2 "no model" ag-cost record --in 1 --out 1
expect_exit 2 "a bad agent name" ag-cost record -a '../x' -m m --in 1 --out 1
expect_exit 2 "an unknown agent" ag-cost record -a ghost -m m --in 1 --out 1
expect_exit 2 "an unknown session" ag-cost record -s ghost -m m --in 1 --out 1
expect_exit 2 "a negative --usd" ag-cost record -m m --in 1 --out 1 --usd -2
expect_exit 2 "an unknown --by" ag-cost report --by planet
expect_exit 2 "a bad --since" ag-cost report --since 2026-13-01
expect_exit 2 "a bad --until" ag-cost report --until yesterday
expect_exit 2 "invalid jq" ag-cost report --where '.model =='
like "  with jq's message" "$(cat "$T/.err")" "syntax error"
expect_exit 2 "--tree without --by agent" ag-cost report --by day --tree
expect_exit 2 "total of an unknown agent" ag-cost total ghost
expect_exit 2 "an unknown import source" ag-cost import gemini
expect_exit 2 "a missing import directory" ag-cost import claude "$T/nowhere"
is "  none of it wrote a line" "$(cat .project/billing/.tracking-*.jsonl | wc -l)" \
    "$before"
rm -rf .project && mkdir .project

# 10 concurrent writers x 40 records: 400 whole lines, exact sums.
for w in 0 1 2 3 4 5 6 7 8 9; do
	(
		i=0
		while [ $i -lt 40 ]; do
			ag-cost record -m claude-haiku-4-5 --in $((w + 1)) --out 2 \
			    --usd 0.125 || exit 1
			i=$((i + 1))
		done
	) &
done
wait
is "10 writers x 40 records: 400 lines" \
    "$(cat .project/billing/.tracking-*.jsonl | wc -l | tr -d ' ')" 400
is "  every line whole JSON" "$(sum 'length')" 400
is "  input tokens sum exactly (40 x (1+...+10))" \
    "$(sum '[.[].input_tokens]|add')" 2200
is "  and the cost" "$(sum '[.[].cost]|add')" 50
rm -rf .project && mkdir .project

# An agent tree, its roles, and sessions' own (foreground) usage.
ag-session start rel >/dev/null
ag-spawn -n a -r orchestrator -s rel -- sleep 1 >/dev/null
ag-spawn -n b --parent a -r supervisor -- true >/dev/null
ag-spawn -n c --parent a.b -- true >/dev/null
ag-spawn -n d -- true >/dev/null
ag-wait a a.b a.b.c d >/dev/null
ag-cost record -a a -m claude-opus-4-1 --in 1 --out 1 --usd 1
AG_AGENT_ID=a.b ag-cost record -m claude-sonnet-4 --in 2 --out 2 --usd 2
ag-cost record -a a.b.c -m claude-sonnet-4 --in 4 --out 4 --usd 4
ag-cost record -a d -m claude-sonnet-4 --in 16 --out 16 --usd 16
AG_SESSION=rel ag-cost record -m claude-opus-4-1 --in 8 --out 8 --usd 8
is "record takes role, parent and session from the agent" \
    "$(sum -c '[.[]|select(.agent_id=="a.b.c")][0]|[.role,.parent_id]')" \
    '["workagent","a.b"]'
is "  and \$AG_AGENT_ID by default" \
    "$(sum -c '[.[]|select(.event=="usage" and .agent_id=="a.b")][0].role')" \
    '"supervisor"'
is "  the agent's session" \
    "$(sum -c '[.[]|select(.event=="usage" and .agent_id=="a")][0].session')" \
    '"rel"'
is "total: an agent with all its descendants" "$(ag-cost total a)" 7.000000
is "  a middle one" "$(ag-cost total a.b)" 6.000000
is "  a leaf" "$(ag-cost total a.b.c)" 4.000000
is "  --json sums tokens too" \
    "$(ag-cost total --json a | jq -c '[.input_tokens,.agents]')" '[7,3]'
ag-cost report --tree >"$T/tree"
is "report --tree: a, then its children, indented, with their sums" \
    "$(awk -F'\t' '$1 ~ /a/ {print $1 "=" $6}' "$T/tree" | tr '\n' ' ')" \
    "a=7.0000   a.b=6.0000     a.b.c=4.0000 "
like "  TOTAL counts each event once" "$(grep TOTAL "$T/tree")" \
    "TOTAL.*31\.0000"
hours=$(total_json --by agent --where 'select(.agent_id=="a")' | jq .hours)
like "agent hours come from agent_end (a slept 1 s)" \
    "$(jq -n "$hours > 0.00027 and $hours < 0.0014")" true
ag-cost report --by role >"$T/role"
like "--by role: hours and cost per role" "$(grep orchestrator "$T/role")" \
    "1\.0000"
like "  foreground (sessions' own) against background (agents')" \
    "$(tail -n 1 "$T/role")" "foreground 8\.0000 \(26%\)  background 23\.0000 \(74%\)"
is "  --json says both" \
    "$(total_json --by role | jq -c '[.foreground_cost,.background_cost]')" \
    '[8,23]'
is "--by session" \
    "$(ag-cost report --by session --json | jq -c 'select(.session=="rel")|.cost')" 9
is "--where keeps what the filter yields true for" \
    "$(total_json --where '.model == "claude-sonnet-4"' | jq .cost)" 22
is "  select() works as well" \
    "$(total_json --where 'select(.input_tokens > 3)' | jq .cost)" 28
is "  a filter that yields nothing drops all" \
    "$(total_json --where 'empty' | jq .cost)" 0
ag-cost report --where '.model | tonumber > 0' >/dev/null 2>"$T/werr"
like "  a runtime error in it is said, once" \
    "$(cat "$T/werr" | wc -l | tr -d ' '):$(cat "$T/werr")" \
    "^1:ag-cost: --where: .*left out"

# An agent printing a Claude Code result object is billed for it.
cat >"$T/claude.json" <<'EOF'
{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.25,"session_id":"cs-1","usage":{"input_tokens":10,"output_tokens":20,"cache_read_input_tokens":30,"cache_creation_input_tokens":40},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":6,"outputTokens":12,"cacheReadInputTokens":30,"cacheCreationInputTokens":40,"costUSD":0.2},"claude-haiku-4-5":{"inputTokens":4,"outputTokens":8,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.05}}}
EOF
ag-spawn -n cl -r coder -- cat "$T/claude.json" >/dev/null
ag-wait cl >/dev/null
is "a Claude result object: one usage event per model, at once after ag-wait" \
    "$(usage_of cl '[.model,.cost,.source]')" \
    '[["claude-sonnet-4-5",0.2,"claude-result"],["claude-haiku-4-5",0.05,"claude-result"]]'
is "  result.json's billing" \
    "$(jq -c '.billing|[.tokens_used,.estimated_cost]' .project/agents/cl/result.json)" \
    '[100,0.25]'
like "  ag-ps shows its cost" "$(ag-ps --all | grep '^cl')" '\$0\.25'
result_line() {        # COST SESSION IN OUT: a Claude result object
	printf '{"type":"result","total_cost_usd":%s%s,"usage":{"input_tokens":%s,"output_tokens":%s}}\n' \
	    "$1" "${2:+,\"session_id\":\"$2\"}" "$3" "$4"
}
result_line 1.5 "" 100 50 >"$T/claude2.json"
ag-spawn -n cl2 -- sh -c "echo thinking; cat '$T/claude2.json'" >/dev/null
ag-wait cl2 >/dev/null
is "  without modelUsage: one event for its usage" \
    "$(usage_of cl2 '[.input_tokens,.output_tokens,.cost]')" \
    '[[100,50,1.5]]'
result_line 0.5 p-1 10 5 >"$T/plan.json"
result_line 2.0 p-2 20 5 >"$T/impl.json"
ag-spawn -n pipe -- sh -c "cat '$T/plan.json'; echo planned; cat '$T/impl.json' '$T/impl.json'" >/dev/null
ag-wait pipe >/dev/null
is "a script running claude -p twice: each run billed, a line printed twice once" \
    "$(usage_of pipe '[.claude_session,.cost]')" \
    '[["p-1",0.5],["p-2",2]]'
is "  result.json's billing sums them" \
    "$(jq -c '.billing|[.tokens_used,.estimated_cost]' .project/agents/pipe/result.json)" \
    '[40,2.5]'
is "  both Claude sessions recorded as billed" \
    "$(cat .project/agents/pipe/claude_session)" "$(printf 'p-1\np-2')"
st=$(cat .project/agents/pipe/started)
mkdir -p "$T/ccp/projects/-p"
for sid in p-1 p-2; do
	printf '{"cwd":"/x","sessionId":"%s","message":{"id":"m-%s","model":"claude-sonnet-4-5","usage":{"input_tokens":7,"output_tokens":0}},"requestId":"q","type":"assistant","timestamp":"%s"}\n' \
	    "$sid" "$sid" "$st"
done >"$T/ccp/projects/-p/p.jsonl"
ag-cost import claude "$T/ccp/projects" >"$T/impp"
like "  and an import counts neither's messages again" "$(cat "$T/impp")" \
    "; 0 messages .* 2 billed by agents already"
is "  an agent without one is billed nothing" \
    "$(jq -c '.billing.estimated_cost' .project/agents/d/result.json)" 0
# Billing that cannot be written never keeps an agent from its end.
day=$(date -u +%Y-%m-%d)
mv ".project/billing/.tracking-$day.jsonl" "$T/saved.jsonl"
mkdir ".project/billing/.tracking-$day.jsonl"
ag-spawn -n nobill -- true >/dev/null
is "an unwritable billing file: the agent still ends completed" \
    "$(ag-wait -t 10s nobill)" "nobill completed 0"
rmdir ".project/billing/.tracking-$day.jsonl"
mv "$T/saved.jsonl" ".project/billing/.tracking-$day.jsonl"
# A monitor killed after billing, before the status: the end recorded
# again (lost, by the watchdog) is not billed twice.
printf 'running\n' >.project/agents/cl/status
ag-watchdog >/dev/null 2>&1
is "an end recorded twice is billed once (the watchdog's lost)" \
    "$(st cl) $(sum '[.[]|select(.agent_id=="cl" and .event=="agent_end")]|length') $(sum '[.[]|select(.agent_id=="cl" and .event=="usage")]|length')" \
    "lost 1 2"
rm -rf .project && mkdir .project

# import claude: the rules, on transcripts made here.
P=$T/cc/projects/-w
mkdir -p "$P/s1/subagents"
cat >"$P/s1.jsonl" <<'EOF'
{"parentUuid":null,"cwd":"/w","sessionId":"s1","type":"user","message":{"role":"user","content":"go"},"timestamp":"2026-11-20T10:00:00.000Z","toolUseResult":{"usage":{"input_tokens":999,"output_tokens":999}}}
{"parentUuid":"x","cwd":"/w","sessionId":"s1","message":{"id":"m1","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"a"}],"usage":{"input_tokens":100,"cache_creation_input_tokens":1000,"cache_read_input_tokens":10000,"output_tokens":50}},"requestId":"r1","type":"assistant","timestamp":"2026-11-20T10:00:01.000Z"}
{"parentUuid":"x","cwd":"/w","sessionId":"s1","message":{"id":"m1","model":"claude-sonnet-4-20250514","content":[{"type":"tool_use","name":"Bash"}],"usage":{"input_tokens":100,"cache_creation_input_tokens":1000,"cache_read_input_tokens":10000,"output_tokens":50}},"requestId":"r1","type":"assistant","timestamp":"2026-11-20T10:00:01.100Z"}
{ "cwd" : "/w" , "sessionId" : "s1" , "message" : { "id" : "m2" , "model" : "claude-opus-4-1-20250805" , "usage" : { "input_tokens" : 7 , "output_tokens" : 3 } } , "requestId" : "r2" , "type" : "assistant" , "timestamp" : "2026-11-21T00:00:01.000Z" }
{"broken
{"cwd":"/w","sessionId":"s1","message":{"id":"m9","model":"<synthetic>","usage":{"input_tokens":0,"output_tokens":0}},"requestId":"r9","type":"assistant","timestamp":"2026-11-21T00:00:02.000Z"}
EOF
cat >"$P/s1/subagents/agent-1.jsonl" <<'EOF'
{"cwd":"/w","sessionId":"s1","message":{"id":"m3","model":"claude-sonnet-4-20250514","usage":{"input_tokens":200,"output_tokens":100}},"requestId":"r3","type":"assistant","timestamp":"2026-11-21T05:00:00.000Z"}
{"parentUuid":"x","cwd":"/w","sessionId":"s1","message":{"id":"m1","model":"claude-sonnet-4-20250514","content":[],"usage":{"input_tokens":100,"cache_creation_input_tokens":1000,"cache_read_input_tokens":10000,"output_tokens":50}},"requestId":"r1","type":"assistant","timestamp":"2026-11-20T10:00:01.000Z"}
EOF
ag-cost import claude "$T/cc/projects" >"$T/imp" 2>"$T/imp.err"
is "import claude exits 0" $? 0
is "  tokens: each message once; no tool-result usage" \
    "$(total_json | jq -c '[.input_tokens,.output_tokens,.cache_write_tokens,.cache_read_tokens]')" \
    '[307,153,1000,10000]'
is "  cost from the table, two models (micro-dollars)" \
    "$(total_json | jq '.cost*1e6|round')" 10230
like "  the skipped lines (malformed, synthetic) counted on stderr" \
    "$(cat "$T/imp.err")" "2 lines skipped"
is "  by day: two days" \
    "$(ag-cost report --by day --json | jq -c 'select(.day)|[.day,.input_tokens]')" \
    "$(printf '%s\n' '["2026-11-20",100]' '["2026-11-21",207]')"
is "  unattributed events carry their Claude session" \
    "$(sum -c '[.[].claude_session]|unique')" '["s1"]'
ag-cost import claude "$T/cc/projects" >"$T/imp"
like "import again: nothing read" "$(cat "$T/imp")" "0 read, 0 bytes; 0 messages"
is "  nothing added" "$(total_json | jq .input_tokens)" 307
printf '%s\n' '{"cwd":"/w","sessionId":"s1","message":{"id":"m4","model":"claude-sonnet-4-20250514","usage":{"input_tokens":1000,"output_tokens":0}},"requestId":"r4","type":"assistant","timestamp":"2026-11-21T06:00:00.000Z"}' \
    >>"$P/s1/subagents/agent-1.jsonl"
ag-cost import claude "$T/cc/projects" >"$T/imp"
like "append a line, import: only that line is read" "$(cat "$T/imp")" \
    "1 read, [0-9]+ bytes; 1 messages"
is "  and exactly it added" \
    "$(total_json | jq -c '[.input_tokens,(.cost*1e6|round)]')" '[1307,13230]'
printf '%s' '{"cwd":"/w","sessionId":"s1","message":{"id":"m5","model":"claude-sonnet-4-20250514","usage":{"input_tokens":5,"output_tok' \
    >>"$P/s1/subagents/agent-1.jsonl"
ag-cost import claude "$T/cc/projects" >/dev/null 2>&1
is "a line still being written is left for later" \
    "$(total_json | jq .input_tokens)" 1307
printf '%s\n' 'ens":0}},"requestId":"r5","type":"assistant","timestamp":"2026-11-21T06:00:01.000Z"}' \
    >>"$P/s1/subagents/agent-1.jsonl"
ag-cost import claude "$T/cc/projects" >/dev/null 2>&1
is "  and counted once whole" "$(total_json | jq .input_tokens)" 1312
cp "$P/s1.jsonl" "$P/copy.jsonl"
ag-cost import claude "$T/cc/projects" >"$T/imp" 2>/dev/null
like "a copied transcript (a resumed session) adds nothing" "$(cat "$T/imp")" \
    "0 messages .*3 duplicates"
CLAUDE_CONFIG_DIR=$T/cc ag-cost import claude >"$T/imp"
is "CLAUDE_CONFIG_DIR's projects is the default" $? 0
is "  and the same messages are not counted again" \
    "$(total_json | jq .input_tokens)" 1312
expect_exit 1 "no default directory: exit 1" env HOME="$T/none" \
    CLAUDE_CONFIG_DIR= ag-cost import claude

# A 70 MB line: skipped and counted, the lines around it still read.
mkdir -p "$T/huge/projects/-h"
{
	printf '%s\n' '{"cwd":"/h","sessionId":"h","message":{"id":"h1","model":"claude-sonnet-4-5","usage":{"input_tokens":11,"output_tokens":0}},"requestId":"q","type":"assistant","timestamp":"2026-11-20T10:00:00.000Z"}'
	printf '{"cwd":"/h","message":{"content":"'
	head -c 73400320 /dev/zero | tr '\0' x
	printf '"},"type":"assistant"}\n'
	printf '%s\n' '{"cwd":"/h","sessionId":"h","message":{"id":"h2","model":"claude-sonnet-4-5","usage":{"input_tokens":22,"output_tokens":0}},"requestId":"q","type":"assistant","timestamp":"2026-11-20T10:00:01.000Z"}'
} >"$T/huge/projects/-h/h.jsonl"
mkdir hp && (cd hp && mkdir .project &&
    ag-cost import claude "$T/huge/projects" >/dev/null 2>"$T/huge.err")
is "a line of 70 MB does not stop the import" $? 0
like "  it is named, skipped and counted" "$(cat "$T/huge.err")" \
    "longer than 64 MiB skipped.*|1 lines skipped"
is "  the lines around it count" \
    "$(cd hp && total_json | jq .input_tokens)" 33
rm -rf hp "$T/huge"

# Attribution: a transcript written in an agent's directory while it ran.
mkdir -p "$T/wd" "$T/cc2/projects/-wd"
( cd "$T/wd" && ag-spawn -n worker -r coder -- sleep 0.3 >/dev/null )
sleep 0.1
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
ag-wait worker >/dev/null
printf '%s\n' "{\"cwd\":\"$T/wd\",\"sessionId\":\"s2\",\"message\":{\"id\":\"w1\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":1000000,\"output_tokens\":0}},\"requestId\":\"q1\",\"type\":\"assistant\",\"timestamp\":\"$now\"}" \
    >"$T/cc2/projects/-wd/s2.jsonl"
ag-cost import claude "$T/cc2/projects" >/dev/null
is "a message from an agent's cwd while it ran is the agent's" \
    "$(ag-cost total worker)" 3.000000
is "  with its role" \
    "$(sum -c '[.[]|select(.claude_session=="s2")][0].role')" '"coder"'

# An import while a `claude -p` agent runs (cron's hourly one, a Stop hook):
# its messages may yet be billed from its result object, so they wait for
# an import after its end, and are counted once.  The agent is held on a
# FIFO until the import is done.
mkdir -p "$T/wd3" "$T/cc3/projects/-wd3"
mkfifo "$T/go3" "$T/go3b" "$T/go4"
cat >"$T/claude3" <<EOF
#!/bin/sh
read x <"$T/go3"
echo '{"type":"result","total_cost_usd":3.0,"session_id":"s3","usage":{"input_tokens":1000000,"output_tokens":0}}'
EOF
chmod +x "$T/claude3"
( cd "$T/wd3" && ag-spawn -n cl3 -- "$T/claude3" >/dev/null
  ag-spawn -n plain3 -- sh -c "read x <'$T/go3b'" >/dev/null )
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
msg3() {        # SESSION ID CWD: one message of 1M input tokens, now
	printf '{"cwd":"%s","sessionId":"%s","message":{"id":"%s","model":"claude-sonnet-4-5","usage":{"input_tokens":1000000,"output_tokens":0}},"requestId":"q","type":"assistant","timestamp":"%s"}\n' \
	    "$3" "$1" "$2" "$now"
}
msg3 s3 c1 "$T/wd3" >"$T/cc3/projects/-wd3/s3.jsonl"
msg3 s3 c2 "$T/wd3/sub" >"$T/cc3/projects/-wd3/s3-sub.jsonl"
msg3 s3x c4 "$T/wd3" >"$T/cc3/projects/-wd3/s3x.jsonl"   # an interactive one
msg3 s4 c3 /elsewhere >"$T/cc3/projects/-wd3/s4.jsonl"
ag-cost import claude "$T/cc3/projects" >"$T/imp3"
like "an import while agents run there counts only the rest" \
    "$(cat "$T/imp3")" "; 1 messages .*; 3 files wait for a running agent's end$"
is "  the message from elsewhere is in" \
    "$(sum -c '[.[]|select(.claude_session=="s4")|.input_tokens]')" '[1000000]'
is "  none of the running agents' folder yet" \
    "$(sum -c '[.[]|select(.claude_session=="s3")]|length')" 0
echo go >"$T/go3"
echo go >"$T/go3b"
ag-wait cl3 plain3 >/dev/null
ag-cost import claude "$T/cc3/projects" >"$T/imp3"
like "  the import after their end" "$(cat "$T/imp3")" \
    "; 1 messages \(0 to agents\), .* 2 billed by agents already; 1 events"
is "  the agent's Claude session is billed once, from its result object" \
    "$(ag-cost total cl3)" 3.000000
is "  a message of another Claude session while both ran there: no one's" \
    "$(sum -c '[.[]|select(.claude_session=="s3x")|[.agent_id,.input_tokens]]')" \
    '[[null,1000000]]'
is "  and nothing of it by the import" \
    "$(sum -c '[.[]|select(.claude_session=="s3" and .source=="claude")]|length')" 0
# A message in a running agent's folder that no result object bills (an
# interactive Claude beside a `make test` agent) is counted once it ends.
( cd "$T/wd3" && ag-spawn -n plain4 -- sh -c "read x <'$T/go4'" >/dev/null )
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
msg3 s5 c5 "$T/wd3" >"$T/cc3/projects/-wd3/s5.jsonl"
ag-cost import claude "$T/cc3/projects" >/dev/null
is "a message beside a running agent waits" \
    "$(sum -c '[.[]|select(.claude_session=="s5")]|length')" 0
echo go >"$T/go4"
ag-wait plain4 >/dev/null
ag-cost import claude "$T/cc3/projects" >/dev/null
ag-cost import claude "$T/cc3/projects" >/dev/null
is "  and is counted once after its end, the agent's" \
    "$(sum -c '[.[]|select(.claude_session=="s5")|[.agent_id,.input_tokens]]')" \
    '[["plain4",1000000]]'

# A transcript dated in the future (a skewed clock, a made-up one) is
# counted at once: no agent can have started then to bill it.
mkdir -p "$T/ccf/projects/-f"
now=2099-01-01T00:00:00.000Z
msg3 s9 c9 /elsewhere >"$T/ccf/projects/-f/s9.jsonl"
ag-cost import claude "$T/ccf/projects" >"$T/impf"
like "a message from the future: counted at once" \
    "$(cat "$T/impf")" "; 1 messages \(0 to agents\).* 1 events, [0-9.]* USD$"

# A first import after the session was archived (its agents' directories
# gone): the archive's summary keeps what the import needs of them.
mkdir -p "$T/wd6" "$T/cc6/projects/-wd6"
mkfifo "$T/go6" "$T/go7"
cat >"$T/claude6" <<EOF
#!/bin/sh
read x <"$T/go6"
echo '{"type":"result","total_cost_usd":3.0,"session_id":"s6","usage":{"input_tokens":1000000,"output_tokens":0}}'
EOF
chmod +x "$T/claude6"
ag-session start -r supervisor arch6 >/dev/null
( cd "$T/wd6" && ag-spawn -s arch6 -n cl6 -- "$T/claude6" >/dev/null )
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
msg3 s6 c6 "$T/wd6" >"$T/cc6/projects/-wd6/s6.jsonl"
echo go >"$T/go6"
ag-wait cl6 >/dev/null
( cd "$T/wd6" && ag-spawn -s arch6 -r tester -n plain7 -- sh -c "read x <'$T/go7'" >/dev/null )
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
msg3 s7 c7 "$T/wd6" >"$T/cc6/projects/-wd6/s7.jsonl"
echo go >"$T/go7"
ag-wait plain7 >/dev/null
ag-session end arch6 >/dev/null
ag-session archive arch6 >/dev/null
is "archived: the agents are gone" "$(ls .project/agents | grep -c '^cl6$\|^plain7$')" 0
ag-cost import claude "$T/cc6/projects" >"$T/imp6"
like "  an import then: the archived agent's billed session is not counted again" \
    "$(cat "$T/imp6")" "; 1 messages \(1 to agents\), 0 duplicates, 1 billed by agents already"
is "  the Claude session billed once" \
    "$(sum -c '[.[]|select(.claude_session=="s6")|.source]')" '["claude-result"]'
is "  a message of the other's run is still that agent's, with its role" \
    "$(sum -c '[.[]|select(.claude_session=="s7")|[.agent_id,.role,.session]]')" \
    '[["plain7","tester","arch6"]]'

# import codex.
C=$T/codex/sessions/2026/11/20
mkdir -p "$C"
cat >"$C/rollout-2026-11-20T09-00-00-cx1.jsonl" <<'EOF'
{"timestamp":"2026-11-20T09:00:00.000Z","type":"session_meta","payload":{"id":"cx1","cwd":"/nowhere"}}
{"timestamp":"2026-11-20T09:00:01.000Z","type":"turn_context","payload":{"cwd":"/nowhere","model":"gpt-5-codex"}}
{"timestamp":"2026-11-20T09:00:02.000Z","type":"event_msg","payload":{"type":"token_count","info":null}}
{"timestamp":"2026-11-20T09:00:03.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":1000,"cached_input_tokens":400,"output_tokens":100},"last_token_usage":{"input_tokens":1000,"cached_input_tokens":400,"output_tokens":100}}}}
{"timestamp":"2026-11-20T09:00:04.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":3000,"cached_input_tokens":1400,"output_tokens":300}}}}
EOF
rm -rf .project && mkdir .project
CODEX_HOME=$T/codex ag-cost import codex >/dev/null
is "import codex: cached input apart, as cache reads; diffs of totals" \
    "$(total_json | jq -c '[.input_tokens,.cache_read_tokens,.output_tokens,.cache_write_tokens]')" \
    '[1600,1400,300,0]'
is "  priced as gpt-5-codex (micro-dollars)" \
    "$(total_json | jq '.cost*1e6|round')" 5175
printf '%s\n' '{"timestamp":"2026-11-20T09:00:05.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":3500,"cached_input_tokens":1400,"output_tokens":310}}}}' \
    >>"$C/rollout-2026-11-20T09-00-00-cx1.jsonl"
CODEX_HOME=$T/codex ag-cost import codex >/dev/null
CODEX_HOME=$T/codex ag-cost import codex >/dev/null
is "  appended, imported twice: the difference from the remembered total, once" \
    "$(total_json | jq -c '[.input_tokens,.output_tokens]')" '[2100,310]'
is "report --since/--until select by date" \
    "$(total_json --since 2026-11-21 | jq .cost),$(total_json --until 2026-11-20 | jq '.cost*1e6|round')" \
    "0,5900"

# kill -9 in the middle of imports: nothing lost, nothing twice.
mkdir -p "$T/big/projects/-b"
awk 'BEGIN {
	pad = sprintf("%2000s", "");
	for (f = 0; f < 40; f++) {
		out = sprintf("'"$T"'/big/projects/-b/s%02d.jsonl", f);
		for (m = 0; m < 150; m++) {
			printf "{\"type\":\"user\",\"message\":{\"content\":\"%s\"}}\n", pad > out;
			for (b = 0; b < 2; b++)
				printf "{\"cwd\":\"/b\",\"sessionId\":\"s%d\",\"message\":{\"id\":\"m%d-%d\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":%d,\"output_tokens\":1}},\"requestId\":\"r\",\"type\":\"assistant\",\"timestamp\":\"2026-11-%02dT10:00:00.000Z\"}\n", f, f, m, m + 1, 10 + f % 5 > out;
		}
		close(out);
	}
}'
mkdir ref && (cd ref && mkdir .project && ag-cost import claude "$T/big/projects" >/dev/null)
want=$(cd ref && total_json | jq -c '[.input_tokens,.output_tokens]')
is "the reference import" "$want" '[453000,6000]'
for delay in 0.005 0.01 0.02 0.03 0.05 0.08; do
	# no leak check under SAN=1 for a process killed at random
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	    ag-cost import claude "$T/big/projects" >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
done
ag-cost import claude "$T/big/projects" >/dev/null 2>&1 &
ag-cost import claude "$T/big/projects" >/dev/null 2>&1 &
wait
ag-cost import claude "$T/big/projects" >/dev/null
is "imports killed at random, two at once, then one more: exact totals" \
    "$(total_json --where 'select(.source=="claude" and .model=="claude-sonnet-4-5")' | jq -c '[.input_tokens,.output_tokens]')" \
    "$want"
is "  and every billing line is whole JSON" \
    "$(cat .project/billing/.tracking-*.jsonl | jq -c . >/dev/null 2>&1 && echo ok)" ok

done_testing
