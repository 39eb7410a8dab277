# Queues run at most SLOTS agents at once, in order; --after waits for
# dependencies and fails when one did.
. "$(dirname "$0")/lib.sh"

job='echo "start $AG_AGENT_ID $(date +%s%N)" >>"$LOG"; sleep 0.3; echo "end $AG_AGENT_ID $(date +%s%N)" >>"$LOG"'
export LOG="$T/one.log"
for i in 1 2 3 4; do ag-spawn -n one$i -q one -- sh -c "$job" >/dev/null; done
is "the first runs, the rest are queued" "$(st one1) $(st one2) $(st one3) $(st one4)" "running queued queued queued"
check "a queued agent keeps its environment, private" test "$(stat -c %a .project/agents/one3/environ)" = 600
check "ag-wait waits through the queue" ag-wait one1 one2 one3 one4
# Replay the log: never more than one running at once, and in order.
max=$(sort -k3 -n "$LOG" | awk '$1=="start"{n++; if(n>m)m=n} $1=="end"{n--} END{print m}')
is "one slot: never two at once" "$max" 1
is "started in spawn order" "$(grep ^start "$LOG" | cut -d' ' -f2 | tr '\n' ' ')" "one1 one2 one3 one4 "
check "a started agent's environ is removed" test ! -e .project/agents/one4/environ
# A queued agent is started later from its files: from cmd alone when
# that holds the command exactly, from argv when it cannot.
ag-spawn -n qhold -q args -- sleep 0.3 >/dev/null
ag-spawn -n qplain -q args -- printf '%s|' 'two words' x >/dev/null
ag-spawn -n qexact -q args -- printf '%s|' 'a
b' '' 'c\nd' >/dev/null
check "a queued plain command has no argv" test ! -e .project/agents/qplain/argv
ag-wait qhold qplain qexact >/dev/null
is "  and runs exactly from cmd" "$(sed -n 3p .project/agents/qplain/output.log)" "two words|x|"
is "a queued command cmd cannot hold runs exactly from argv" "$(sed -n 3,4p .project/agents/qexact/output.log)" "a
b||c\nd|"

export LOG="$T/two.log"
for i in 1 2 3 4 5; do ag-spawn -n two$i -q two --slots 2 -- sh -c "$job" >/dev/null; done
ag-wait two1 two2 two3 two4 two5 >/dev/null
max=$(sort -k3 -n "$LOG" | awk '$1=="start"{n++; if(n>m)m=n} $1=="end"{n--} END{print m}')
is "two slots: at most two at once, and really two" "$max" 2
is "slots persist per queue" "$(cat .project/queues/two/slots)" 2
export LOG="$T/two-b.log"
for i in 1 2 3; do ag-spawn -n twob$i -q two -- sh -c "$job" >/dev/null; done
is "a later spawn without --slots uses the queue's 2" "$(st twob1) $(st twob2) $(st twob3)" "running running queued"
ag-wait twob1 twob2 twob3 >/dev/null

# --after
ag-spawn -n dep -- sleep 0.3 >/dev/null
ag-spawn -n after1 --after dep -- true >/dev/null
is "--after: queued while the dependency runs" "$(st after1)" queued
ag-wait after1 >/dev/null
is "--after: started once it completed" "$(st after1)" completed
# Not before: the same millisecond is allowed (the start follows the
# recording of the end by well under one).
check "--after: and not before it ended" test ! "$(cat .project/agents/after1/started)" \< "$(cat .project/agents/dep/ended)"

ag-spawn -n bad -- sh -c 'sleep 0.2; exit 4' >/dev/null
ag-spawn -n never --after bad -- touch never-ran >/dev/null
ag-spawn -n never2 --after never -- touch never-ran >/dev/null
expect_exit 1 "a failed dependency fails the dependent" ag-wait never never2
is "  as failed" "$(st never) $(st never2)" "failed failed"
is "  with the reason in result.json" "$(jq -r .reason .project/agents/never/result.json)" "dependency bad ended failed"
is "  and down the chain" "$(jq -r .reason .project/agents/never2/result.json)" "dependency never ended failed"
is "  with no exit code (it never ran)" "$(ag-wait never)" "never failed -"
check "  and the command never ran" test ! -e never-ran
# Its dependency failed already: the spawn's own queue pass fails it
# (in the musl build, by a pass of ag-monitor's, which can write JSON).
expect_exit 0 "--after an agent that failed already: the spawn succeeds" \
    ag-spawn -n late --after bad -- touch never-ran
is "  printing the id" "$(cat "$T/.out")" late
is "  and the dependent is failed at once, not left queued" \
    "$(st late) $(jq -r .reason .project/agents/late/result.json)" \
    "failed dependency bad ended failed"
ag-spawn -n done1 -- true >/dev/null
ag-wait done1 >/dev/null
is "--after a completed agent starts at once" "$(ag-spawn -n now --after done1 -- true; ag-wait now)" "now
now completed 0"
ag-spawn -n m1 -- sleep 0.2 >/dev/null
ag-spawn -n m2 -- sleep 0.4 >/dev/null
ag-spawn -n both --after m1,m2 -q one -- true >/dev/null
ag-wait m1 >/dev/null
is "--after several: waits for all" "$(st both)" queued
ag-wait both >/dev/null
check "  then runs" test "$(st both)" = completed
expect_exit 127 "a queued command that cannot run, started at once, is still 127" ag-spawn -n qnf -q free -- /no/such
is "  recorded failed" "$(st qnf)" failed
check "no queued entries are left behind" test -z "$(ls .project/queued)"
# Started by the scheduler, its status swapped queued -> running -> final:
# the old status files went each time.
is "queued agents that ran leave no hidden file" "$(find .project/agents/one1 .project/agents/one2 .project/agents/two1 -mindepth 1 -name '.*')" ""
done_testing
