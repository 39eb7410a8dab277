# fish completion for ag-ps
complete -c ag-ps -f
complete -c ag-ps -l all -d 'every agent'
complete -c ag-ps -l running -d 'queued and running agents'
complete -c ag-ps -s s -x -d session
complete -c ag-ps -l tree -d 'children under parents'
complete -c ag-ps -l json -d 'one JSON object per line'
