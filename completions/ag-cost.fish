# fish completion for ag-cost
functions -q __ag_ids; or source (status dirname)/ag-spawn.fish 2>/dev/null
set -l subs record import report total
complete -c ag-cost -f
complete -c ag-cost -n "not __fish_seen_subcommand_from $subs" -a 'record' -d 'record a usage event'
complete -c ag-cost -n "not __fish_seen_subcommand_from $subs" -a 'import' -d 'import Claude Code or Codex usage'
complete -c ag-cost -n "not __fish_seen_subcommand_from $subs" -a 'report' -d 'tokens, cost and hours per group'
complete -c ag-cost -n "not __fish_seen_subcommand_from $subs" -a 'total' -d 'an agent with its descendants'
complete -c ag-cost -n "__fish_seen_subcommand_from record" -s a -x -a '(__ag_ids)' -d agent
complete -c ag-cost -n "__fish_seen_subcommand_from record" -s s -x -a '(__ag_sessions)' -d session
complete -c ag-cost -n "__fish_seen_subcommand_from record" -s m -x -d model
complete -c ag-cost -n "__fish_seen_subcommand_from record" -l in -x -d 'input tokens'
complete -c ag-cost -n "__fish_seen_subcommand_from record" -l out -x -d 'output tokens'
complete -c ag-cost -n "__fish_seen_subcommand_from record" -l cache-read -x -d 'cache-read tokens'
complete -c ag-cost -n "__fish_seen_subcommand_from record" -l cache-write -x -d 'cache-write tokens'
complete -c ag-cost -n "__fish_seen_subcommand_from record" -l usd -x -d 'cost in dollars'
complete -c ag-cost -n "__fish_seen_subcommand_from import; and not __fish_seen_subcommand_from claude codex" -a 'claude codex'
complete -c ag-cost -n "__fish_seen_subcommand_from claude codex" -F -d directory
complete -c ag-cost -n "__fish_seen_subcommand_from report" -l by -x -a 'agent role model day session' -d grouping
complete -c ag-cost -n "__fish_seen_subcommand_from report" -l tree -d 'sum descendants'
complete -c ag-cost -n "__fish_seen_subcommand_from report" -l since -x -d 'from DATE'
complete -c ag-cost -n "__fish_seen_subcommand_from report" -l until -x -d 'to DATE'
complete -c ag-cost -n "__fish_seen_subcommand_from report" -l where -x -d 'jq filter'
complete -c ag-cost -n "__fish_seen_subcommand_from report total" -l json -d 'JSON output'
complete -c ag-cost -n "__fish_seen_subcommand_from total" -x -a '(__ag_ids)' -d agent
