# fish completion for ag-handoff
functions -q __ag_sessions; or source (status dirname)/ag-spawn.fish 2>/dev/null
set -l types orchestrator_to_supervisor supervisor_to_workagent workagent_completion supervisor_to_orchestrator supervisor_continuation orchestrator_continuation
complete -c ag-handoff -f
complete -c ag-handoff -n "not __fish_seen_subcommand_from write read list" -a 'write' -d 'write a handoff'
complete -c ag-handoff -n "not __fish_seen_subcommand_from write read list" -a 'read' -d 'print a handoff'
complete -c ag-handoff -n "not __fish_seen_subcommand_from write read list" -a 'list' -d 'list the handoffs'
complete -c ag-handoff -n "__fish_seen_subcommand_from write read list" -a '(__ag_sessions)'
complete -c ag-handoff -n "__fish_seen_subcommand_from write read" -s t -x -a "$types" -d type
complete -c ag-handoff -n "__fish_seen_subcommand_from write" -s f -x -d 'KEY=VALUE'
complete -c ag-handoff -n "__fish_seen_subcommand_from write" -l from -r -d 'JSON context file, or -'
complete -c ag-handoff -n "__fish_seen_subcommand_from read list" -l json -d 'JSON output'
