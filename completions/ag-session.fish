# fish completion for ag-session
functions -q __ag_sessions; or source (status dirname)/ag-spawn.fish 2>/dev/null
set -l subs start name tag show list pause resume end archive restore
complete -c ag-session -f
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'start' -d 'make a session'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'name' -d 'name or rename a session'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'tag' -d 'add or remove tags'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'show' -d 'print a session'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'list' -d 'one line per session'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'pause' -d 'active to paused'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'resume' -d 'paused to active, print the latest handoff'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'end' -d 'to completed'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'archive' -d 'to .project/archive'
complete -c ag-session -n "not __fish_seen_subcommand_from $subs" -a 'restore' -d 'back from the archive'
complete -c ag-session -n "__fish_seen_subcommand_from name tag show pause resume end archive restore" -a '(__ag_sessions)'
complete -c ag-session -n "__fish_seen_subcommand_from start" -s r -x -a 'orchestrator supervisor workagent' -d role
complete -c ag-session -n "__fish_seen_subcommand_from start" -s p -x -d project
complete -c ag-session -n "__fish_seen_subcommand_from start name list" -l tag -x -d tag
complete -c ag-session -n "__fish_seen_subcommand_from show list" -l json -d 'JSON output'
complete -c ag-session -n "__fish_seen_subcommand_from list" -l status -x -a 'active paused completed archived' -d state
complete -c ag-session -n "__fish_seen_subcommand_from list" -l stale -x -d 'idle longer than'
complete -c ag-session -n "__fish_seen_subcommand_from pause" -l reason -x -d reason
complete -c ag-session -n "__fish_seen_subcommand_from end" -l reason -x -a 'completed interrupted exit' -d reason
