# fish completion for ag-watchdog
complete -c ag-watchdog -f
complete -c ag-watchdog -l dry-run -d 'report, change nothing'
complete -c ag-watchdog -l json -d 'JSON lines'
complete -c ag-watchdog -s q -l quiet -d 'actions only, no score'
complete -c ag-watchdog -l stale-claims -x -d 'claim age'
complete -c ag-watchdog -l stale-sessions -x -d 'session idle time'
