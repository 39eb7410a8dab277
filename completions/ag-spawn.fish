# fish completion for ag-spawn
function __ag_ids
    set -l p $AG_PROJECT
    if test -z "$p"
        set -l d $PWD
        while test -n "$d"
            if test -d "$d/.project"
                set p "$d/.project"
                break
            end
            test "$d" = / && break
            set d (string replace -r '/[^/]*$' '' -- $d)
            test -z "$d" && set d /
        end
    end
    test -n "$p" -a -d "$p/agents" && command ls "$p/agents" 2>/dev/null
end
complete -c ag-spawn -s n -r -d 'agent name'
complete -c ag-spawn -s r -x -a 'orchestrator supervisor workagent' -d role
complete -c ag-spawn -s s -x -d session
complete -c ag-spawn -s t -x -d 'timeout duration'
complete -c ag-spawn -l grace -x -d 'grace period before SIGKILL'
complete -c ag-spawn -s q -x -d queue
complete -c ag-spawn -l slots -x -d 'slots of the queue'
complete -c ag-spawn -l after -x -a '(__ag_ids)' -d 'start after these agents'
complete -c ag-spawn -l parent -x -a '(__ag_ids)' -d 'parent agent'
complete -c ag-spawn -l no-parent -d 'top-level agent'
complete -c ag-spawn -s d -x -d description
complete -c ag-spawn -s e -x -d 'KEY=VALUE'
