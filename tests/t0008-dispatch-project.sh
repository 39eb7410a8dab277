# ag dispatches to ag-NAME; .project is found where SPEC 2 says.
. "$(dirname "$0")/lib.sh"

is "ag spawn runs ag-spawn" "$(ag spawn -n via -- true)" via
is "ag wait runs ag-wait, with its exit code" "$(ag wait via; echo $?)" "via completed 0
0"
like "ag --version" "$(ag --version)" '^ag [0-9]+\.[0-9]+\.[0-9]+$'
h=$(ag help)
for c in spawn wait ps; do
	like "ag help lists $c" "$h" "^  $c$"
done
expect_exit 2 "an unknown command is exit 2" ag no-such-thing
like "  saying so" "$(cat "$T/.err")" "unknown command 'no-such-thing'"
expect_exit 2 "no command is exit 2" ag

mkdir -p .project/plugins bin2
printf '#!/bin/sh\necho "plugin hello $*"\n' >.project/plugins/ag-hello
chmod +x .project/plugins/ag-hello
is "a plugin in .project/plugins" "$(ag hello a b)" "plugin hello a b"
printf '#!/bin/sh\necho "path hello"\n' >bin2/ag-hello
printf '#!/bin/sh\necho "path only"\n' >bin2/ag-other
chmod +x bin2/ag-hello bin2/ag-other
is "plugins come before PATH" "$(PATH="$T/bin2:$PATH" ag hello)" "plugin hello "
is "PATH is searched last" "$(PATH="$T/bin2:$PATH" ag other)" "path only"
printf '#!/bin/sh\necho "fake spawn"\n' >bin2/ag-spawn
chmod +x bin2/ag-spawn
is "beside the ag binary comes before PATH" "$(PATH="$T/bin2:$PATH" ag spawn -n beside -- true)" beside
like "ag help lists plugins" "$(ag help)" '^  hello$'
is "ag help spawn shows the command's usage" "$(ag help spawn | head -c 15)" "usage: ag-spawn"

# Completion: the installed bash completion offers this project's ids.
bc="$AG_BIN/../share/bash-completion/completions/ag-wait"
check "bash completion is installed for ag-wait" test -f "$bc"
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-wait vi); COMP_CWORD=1; _ag_wait; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes agent ids from .project/agents" "$comp" via
comp=$(bash -c '. "$1"; COMP_WORDS=(ag-spawn -r s); COMP_CWORD=2; _ag_spawn; printf "%s\n" "${COMPREPLY[@]}"' _ "$bc")
is "bash completes roles" "$comp" supervisor
check "zsh completion is installed" test -f "$AG_BIN/../share/zsh/site-functions/_ag"
check "fish completion is installed" test -f "$AG_BIN/../share/fish/vendor_completions.d/ag-spawn.fish"
# Discovery: the nearest .project in a parent.
mkdir -p sub/deeper
is "from a subdirectory, the parent's .project" "$(cd sub/deeper && ag-spawn -n fromsub -- true)" fromsub
check "  is where it went" test -d .project/agents/fromsub
check "  and no new .project was made" test ! -e sub/deeper/.project

# The agent's AG_PROJECT is the absolute path of .project with no link
# in it, however the directory was reached.
P=$(cd "$T" && pwd -P)
(cd sub/deeper && ag-spawn -n envsub -- sh -c 'echo "$AG_PROJECT" >"$0"' "$T/env.sub" >/dev/null)
ag-wait envsub >/dev/null
is "AG_PROJECT, found from a subdirectory, is absolute" "$(cat "$T/env.sub")" "$P/.project"
ln -s sub/deeper viadeep
(cd viadeep && ag-spawn -n envlink -- sh -c 'echo "$AG_PROJECT" >"$0"' "$T/env.link" >/dev/null)
ag-wait envlink >/dev/null
is "  and holds no link when the directory was reached through one" "$(cat "$T/env.link")" "$P/.project"
mkdir -p real/.project linked
ln -s ../real/.project linked/.project
(cd linked && ag-spawn -n envproj -- sh -c 'echo "$AG_PROJECT" >"$0"' "$T/env.proj" >/dev/null)
(cd linked && ag-wait envproj >/dev/null)
is "  nor when .project itself is a link" "$(cat "$T/env.proj")" "$P/real/.project"
check "  which the agent went into" test -d real/.project/agents/envproj

# AG_PROJECT names the directory itself.
mkdir -p elsewhere
AG_PROJECT="$T/elsewhere/.project" ag-spawn -n there -- true >/dev/null
check "AG_PROJECT: the agent went there" test -d elsewhere/.project/agents/there
is "AG_PROJECT: readers use it too" "$(AG_PROJECT="$T/elsewhere/.project" ag-wait there)" "there completed 0"
expect_exit 2 "AG_PROJECT naming nothing: readers exit 2" env AG_PROJECT="$T/nothing/.project" ag-ps
is "  saying where AG_PROJECT pointed, not that none was found" "$(cat "$T/.err")" "ag-ps: no project directory at $T/nothing/.project (from AG_PROJECT)"
expect_exit 125 "AG_PROJECT in a directory that is not there: a writer exits 125" env AG_PROJECT="$T/nothing/.project" ag-spawn -- true
like "  naming the path" "$(cat "$T/.err")" "^ag-spawn: cannot open project $T/nothing/.project: No such file"

# A new .project goes to the top of the git work tree.
G=$(mktemp -d "${TMPDIR:-/tmp}/ag-git.XXXXXX")
mkdir -p "$G/repo/src/deep"
git -C "$G/repo" init -q
(cd "$G/repo/src/deep" && ag-spawn -n ingit -- true >/dev/null)
check "a new .project at the top of the git work tree" test -d "$G/repo/.project/agents/ingit"
check "  not in the current directory" test ! -e "$G/repo/src/deep/.project"
mkdir -p "$G/plain/dir"
(cd "$G/plain/dir" && ag-spawn -n nogit -- true >/dev/null)
check "outside git: in the current directory" test -d "$G/plain/dir/.project/agents/nogit"
(cd "$G/plain/dir" && ag-wait nogit >/dev/null; cd "$G/repo" && ag-wait ingit >/dev/null)
rm -rf "$G"
done_testing
