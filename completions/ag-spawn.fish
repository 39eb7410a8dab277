# fish completion for ag-spawn
function __ag_project
    if test -n "$AG_PROJECT"
        echo $AG_PROJECT
        return
    end
    set -l d $PWD
    while test -n "$d"
        if test -d "$d/.project"
            echo "$d/.project"
            return
        end
        test "$d" = / && return
        set d (string replace -r '/[^/]*$' '' -- $d)
        test -z "$d" && set d /
    end
end
function __ag_ids
    set -l p (__ag_project)
    test -n "$p" -a -d "$p/agents" && command ls "$p/agents" 2>/dev/null
end
function __ag_sessions
    set -l p (__ag_project)
    test -n "$p" -a -d "$p/sessions" && command ls "$p/sessions" 2>/dev/null
end
complete -c ag-spawn -s n -r -d 'agent name'
complete -c ag-spawn -s r -x -a 'orchestrator supervisor workagent' -d role
complete -c ag-spawn -s s -x -a '(__ag_sessions)' -d session
complete -c ag-spawn -s t -x -d 'timeout duration'
complete -c ag-spawn -l grace -x -d 'grace period before SIGKILL'
complete -c ag-spawn -s q -x -d queue
complete -c ag-spawn -l slots -x -d 'slots of the queue'
complete -c ag-spawn -l after -x -a '(__ag_ids)' -d 'start after these agents'
complete -c ag-spawn -l parent -x -a '(__ag_ids)' -d 'parent agent'
complete -c ag-spawn -l no-parent -d 'top-level agent'
complete -c ag-spawn -s d -x -d description
complete -c ag-spawn -s e -x -d 'KEY=VALUE'
