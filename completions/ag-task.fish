# fish completion for ag-task
functions -q __ag_ids; or source (status dirname)/ag-spawn.fish 2>/dev/null
set -l subs add claim done fail release release-stale list
complete -c ag-task -f
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'add' -d 'add a task'
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'claim' -d 'claim the next task'
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'done' -d 'a claimed task is done'
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'fail' -d 'a claimed task failed'
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'release' -d 'give a claim back'
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'release-stale' -d 'release old claims'
complete -c ag-task -n "not __fish_seen_subcommand_from $subs" -a 'list' -d 'one line per task'
complete -c ag-task -n "__fish_seen_subcommand_from add" -l id -x -d 'task id'
complete -c ag-task -n "__fish_seen_subcommand_from add" -s p -x -a "low normal high urgent" -d priority
complete -c ag-task -n "__fish_seen_subcommand_from claim" -s a -x -a '(__ag_ids)' -d agent
complete -c ag-task -n "__fish_seen_subcommand_from claim" -s n -l count -x -d 'how many'
complete -c ag-task -n "__fish_seen_subcommand_from done" -l result -x -d 'result JSON'
complete -c ag-task -n "__fish_seen_subcommand_from fail" -l reason -x -d reason
complete -c ag-task -n "__fish_seen_subcommand_from release-stale" -l older-than -x -d age
complete -c ag-task -n "__fish_seen_subcommand_from list" -l status -x -a 'pending claimed done failed' -d state
complete -c ag-task -n "__fish_seen_subcommand_from list" -l json -d 'JSON output'
