# fish completion for ag
complete -c ag -f -n '__fish_is_first_arg' -a '(ag help 2>/dev/null | string replace -rf "^  " "")' -d command
complete -c ag -f -n '__fish_is_first_arg' -a 'help' -d 'list commands'
complete -c ag -f -n '__fish_is_first_arg' -l version -d 'print the version'
