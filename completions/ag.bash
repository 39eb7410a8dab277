# bash completion for ag and its commands.

_ag_project() {
	if [ -n "${AG_PROJECT:-}" ]; then printf '%s\n' "$AG_PROJECT"; return; fi
	local d=$PWD
	while :; do
		[ -d "$d/.project" ] && { printf '%s\n' "$d/.project"; return; }
		[ -z "$d" ] || [ "$d" = / ] && return
		d=${d%/*}
	done
}

_ag_ids() {
	local p
	p=$(_ag_project)
	[ -n "$p" ] && [ -d "$p/agents" ] && command ls "$p/agents" 2>/dev/null
}

_ag_queues() {
	local p
	p=$(_ag_project)
	[ -n "$p" ] && [ -d "$p/queues" ] && command ls "$p/queues" 2>/dev/null
}

_ag_sessions() {
	local p
	p=$(_ag_project)
	[ -n "$p" ] && [ -d "$p/sessions" ] && command ls "$p/sessions" 2>/dev/null
}

_ag_handoff_types="orchestrator_to_supervisor supervisor_to_workagent
	workagent_completion supervisor_to_orchestrator supervisor_continuation
	orchestrator_continuation"

_ag_spawn() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			return
		fi
	done
	case $prev in
	-r|--role) COMPREPLY=($(compgen -W "orchestrator supervisor workagent" -- "$cur")); return ;;
	--parent|--after) COMPREPLY=($(compgen -W "$(_ag_ids)" -- "$cur")); return ;;
	-q|--queue) COMPREPLY=($(compgen -W "$(_ag_queues)" -- "$cur")); return ;;
	-s|--session) COMPREPLY=($(compgen -W "$(_ag_sessions)" -- "$cur")); return ;;
	-n|--name|-t|--timeout|--grace|--slots|-d|--description|-e|--env) return ;;
	esac
	COMPREPLY=($(compgen -W "-n -r -s -t --grace -q --slots --after --parent
	    --no-parent -d -e --help --" -- "$cur"))
}

_ag_wait() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-t|--timeout) return ;;
	-s|--session) COMPREPLY=($(compgen -W "$(_ag_sessions)" -- "$cur")); return ;;
	--children) COMPREPLY=($(compgen -W "$(_ag_ids)" -- "$cur")); return ;;
	esac
	COMPREPLY=($(compgen -W "-t --any --json --quiet -s --children --all
	    --help $(_ag_ids)" -- "$cur"))
}

_ag_ps() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in -s|--session) COMPREPLY=($(compgen -W "$(_ag_sessions)" -- "$cur")); return ;; esac
	COMPREPLY=($(compgen -W "--all --running -s --tree --json --help" -- "$cur"))
}

_ag_session() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" = 1 ]; then
		COMPREPLY=($(compgen -W "start name tag show list pause resume end
		    archive restore" -- "$cur"))
		return
	fi
	case $prev in
	-r|--role) COMPREPLY=($(compgen -W "orchestrator supervisor workagent" -- "$cur")); return ;;
	--status) COMPREPLY=($(compgen -W "active paused completed archived" -- "$cur")); return ;;
	--reason)
		[ "${COMP_WORDS[1]}" = end ] &&
		    COMPREPLY=($(compgen -W "completed interrupted exit" -- "$cur"))
		return ;;
	-p|--project|--tag|--stale) return ;;
	esac
	case ${COMP_WORDS[1]} in
	start) COMPREPLY=($(compgen -W "-r -p --tag" -- "$cur")) ;;
	list) COMPREPLY=($(compgen -W "--status --tag --stale --json" -- "$cur")) ;;
	show) COMPREPLY=($(compgen -W "--json $(_ag_sessions)" -- "$cur")) ;;
	pause) COMPREPLY=($(compgen -W "--reason $(_ag_sessions)" -- "$cur")) ;;
	end) COMPREPLY=($(compgen -W "--reason $(_ag_sessions)" -- "$cur")) ;;
	name) COMPREPLY=($(compgen -W "--tag $(_ag_sessions)" -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "$(_ag_sessions)" -- "$cur")) ;;
	esac
}

_ag_handoff() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" = 1 ]; then
		COMPREPLY=($(compgen -W "write read list" -- "$cur"))
		return
	fi
	case $prev in
	-t|--type) COMPREPLY=($(compgen -W "$_ag_handoff_types" -- "$cur")); return ;;
	--from) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	-f|--field) return ;;
	esac
	case ${COMP_WORDS[1]} in
	write) COMPREPLY=($(compgen -W "-t -f --from $(_ag_sessions)" -- "$cur")) ;;
	read) COMPREPLY=($(compgen -W "-t --json latest $(_ag_sessions)" -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "--json $(_ag_sessions)" -- "$cur")) ;;
	esac
}

_ag_stop() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--grace|--reason) return ;;
	-s|--session) COMPREPLY=($(compgen -W "$(_ag_sessions)" -- "$cur")); return ;;
	esac
	COMPREPLY=($(compgen -W "--grace --reason -s --all --help $(_ag_ids)" -- "$cur"))
}

_ag_tasks() {
	local p
	p=$(_ag_project)
	[ -n "$p" ] && [ -d "$p/tasks/$1" ] && command ls "$p/tasks/$1" 2>/dev/null
}

_ag_task() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" = 1 ]; then
		COMPREPLY=($(compgen -W "add claim done fail release release-stale
		    list" -- "$cur"))
		return
	fi
	case $prev in
	-a|--agent) COMPREPLY=($(compgen -W "$(_ag_ids)" -- "$cur")); return ;;
	--status) COMPREPLY=($(compgen -W "pending claimed done failed" -- "$cur")); return ;;
	-p|--priority) COMPREPLY=($(compgen -W "low normal high urgent" -- "$cur")); return ;;
	--id|--result|--reason|--older-than|-n|--count) return ;;
	esac
	case ${COMP_WORDS[1]} in
	add) COMPREPLY=($(compgen -W "--id -p" -- "$cur")) ;;
	claim) COMPREPLY=($(compgen -W "-a -n" -- "$cur")) ;;
	done) COMPREPLY=($(compgen -W "--result $(_ag_tasks claimed)" -- "$cur")) ;;
	fail) COMPREPLY=($(compgen -W "--reason $(_ag_tasks claimed)" -- "$cur")) ;;
	release) COMPREPLY=($(compgen -W "$(_ag_tasks claimed)" -- "$cur")) ;;
	release-stale) COMPREPLY=($(compgen -W "--older-than" -- "$cur")) ;;
	list) COMPREPLY=($(compgen -W "--status --json" -- "$cur")) ;;
	esac
}

_ag_cost() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" = 1 ]; then
		COMPREPLY=($(compgen -W "record import report total" -- "$cur"))
		return
	fi
	case $prev in
	-a|--agent) COMPREPLY=($(compgen -W "$(_ag_ids)" -- "$cur")); return ;;
	-s|--session) COMPREPLY=($(compgen -W "$(_ag_sessions)" -- "$cur")); return ;;
	-m|--model) COMPREPLY=($(compgen -W "claude-sonnet-4-5 claude-opus-4-1
	    claude-haiku-4-5 gpt-5-codex gpt-5" -- "$cur")); return ;;
	--by) COMPREPLY=($(compgen -W "agent role model day session" -- "$cur")); return ;;
	--in|--out|--cache-read|--cache-write|--usd|--since|--until|--where) return ;;
	esac
	case ${COMP_WORDS[1]} in
	record) COMPREPLY=($(compgen -W "-a -s -m --in --out --cache-read
	    --cache-write --usd" -- "$cur")) ;;
	import)
		if [ "$COMP_CWORD" = 2 ]; then
			COMPREPLY=($(compgen -W "claude codex" -- "$cur"))
		else
			COMPREPLY=($(compgen -d -- "$cur"))
		fi ;;
	report) COMPREPLY=($(compgen -W "--by --tree --since --until --where
	    --json" -- "$cur")) ;;
	total) COMPREPLY=($(compgen -W "--json $(_ag_ids)" -- "$cur")) ;;
	esac
}

_ag_watchdog() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in --stale-claims|--stale-sessions) return ;; esac
	COMPREPLY=($(compgen -W "--dry-run --json --quiet --stale-claims
	    --stale-sessions --help" -- "$cur"))
}

_ag() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmds
	if [ "$COMP_CWORD" = 1 ]; then
		cmds=$(ag help 2>/dev/null | sed -n 's/^  //p')
		COMPREPLY=($(compgen -W "$cmds help --version" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	spawn|wait|ps|session|handoff|stop|task|watchdog|cost)
		local f=_ag_${COMP_WORDS[1]}
		COMP_WORDS=("ag-${COMP_WORDS[1]}" "${COMP_WORDS[@]:2}")
		COMP_CWORD=$((COMP_CWORD - 1))
		$f ;;
	esac
}

complete -F _ag ag
complete -F _ag_spawn ag-spawn
complete -F _ag_wait ag-wait
complete -F _ag_ps ag-ps
complete -F _ag_session ag-session
complete -F _ag_handoff ag-handoff
complete -F _ag_stop ag-stop
complete -F _ag_task ag-task
complete -F _ag_watchdog ag-watchdog
complete -F _ag_cost ag-cost
