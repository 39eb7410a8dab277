# fish completion for ag-stop
functions -q __ag_sessions; or source (status dirname)/ag-spawn.fish 2>/dev/null
complete -c ag-stop -f -a '(__ag_ids)'
complete -c ag-stop -l grace -x -d 'time before SIGKILL'
complete -c ag-stop -l reason -x -d 'recorded reason'
complete -c ag-stop -s s -x -a '(__ag_sessions)' -d session
complete -c ag-stop -l all -d 'every agent'
