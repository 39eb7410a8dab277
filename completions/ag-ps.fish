# fish completion for ag-ps
functions -q __ag_sessions; or source (status dirname)/ag-spawn.fish 2>/dev/null
complete -c ag-ps -f
complete -c ag-ps -l all -d 'every agent'
complete -c ag-ps -l running -d 'queued and running agents'
complete -c ag-ps -s s -x -a '(__ag_sessions)' -d session
complete -c ag-ps -l tree -d 'children under parents'
complete -c ag-ps -l json -d 'one JSON object per line'
