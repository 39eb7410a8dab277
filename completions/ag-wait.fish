# fish completion for ag-wait
functions -q __ag_ids; or source (status dirname)/ag-spawn.fish 2>/dev/null
complete -c ag-wait -f -a '(__ag_ids)'
complete -c ag-wait -s t -x -d 'timeout duration'
complete -c ag-wait -l any -d 'return when the first one ends'
complete -c ag-wait -l json -d 'print result.json lines'
complete -c ag-wait -l quiet -d 'print nothing'
complete -c ag-wait -s s -x -a '(__ag_sessions)' -d session
complete -c ag-wait -l children -x -a '(__ag_ids)' -d 'all descendants of'
complete -c ag-wait -l all -d 'every agent'
