# tests/lib.sh - sourced by every tests/tNNNN-*.sh.
#
# Each test file is a story of one feature, printed as TAP.  It runs in a
# scratch directory of its own, with the *installed* commands first on
# PATH (make check installs them into a scratch DESTDIR and sets AG_BIN),
# and no AG_* variable inherited from whoever runs the suite.

set -u
: "${AG_BIN:?AG_BIN must name the installed bin directory}"
PATH="$AG_BIN:$PATH"
export PATH
unset AG_PROJECT AG_AGENT_ID AG_PARENT_ID AG_SESSION AG_ROLE

T=$(mktemp -d "${TMPDIR:-/tmp}/ag-test.XXXXXX") || exit 1
cd "$T" || exit 1
_n=0
_failed=0

# Stop what a test left running: only agents of this scratch project.
_cleanup() {
	for d in "$T"/.project/agents/*/ "$T"/*/.project/agents/*/; do
		[ -f "$d/pid" ] || continue
		s=$(cat "$d/status" 2>/dev/null)
		[ "$s" = running ] || continue
		kill -KILL "-$(cat "$d/pid")" 2>/dev/null
	done
	[ -n "${_keep:-}" ] || rm -rf "$T"
}
trap _cleanup EXIT

ok() {
	_n=$((_n + 1))
	echo "ok $_n - $1"
}

not_ok() {
	_n=$((_n + 1))
	_failed=$((_failed + 1))
	echo "not ok $_n - $1"
	shift
	for l in "$@"; do echo "#   $l"; done
}

# check DESC CMD... : passes when CMD exits 0.
check() {
	_d=$1
	shift
	if "$@" >"$T/.out" 2>&1; then ok "$_d"
	else not_ok "$_d" "command: $*" "$(head -c 600 "$T/.out")"; fi
}

# expect_exit CODE DESC CMD... : passes when CMD exits with CODE.
expect_exit() {
	_want=$1 _d=$2
	shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	_got=$?
	if [ "$_got" = "$_want" ]; then ok "$_d"
	else not_ok "$_d" "command: $*" "want exit $_want, got $_got" \
	    "$(head -c 400 "$T/.err")"; fi
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"
	else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

# like DESC GOT REGEX (grep -E)
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"
	else not_ok "$1" "got:  '$2'" "want match: '$3'"; fi
}

# Is process PID gone?  A zombie is dead, only not yet reaped by init.
gone() {
	[ ! -e "/proc/$1/stat" ] && return 0
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}

# poll N CMD... : run CMD every 0.05 s until it succeeds, N times at most.
poll() {
	_pn=$1 _pi=0
	shift
	until "$@" || [ $_pi -ge "$_pn" ]; do sleep 0.05; _pi=$((_pi + 1)); done
}

# Wait (5 s at most) for the monitor of agent ID to be gone: it syncs the
# record after the waiter is woken.
monitor_gone() {
	poll 100 gone "$(cat ".project/agents/$1/heartbeat")"
}

# The agent's state file, one word.
st() { cat ".project/agents/$1/status" 2>/dev/null; }

# No half-made agent directories, and N agents in all.
agent_count() { ls .project/agents 2>/dev/null | wc -l | tr -d ' '; }
no_temp_dirs() { [ -z "$(ls -A .project/agents 2>/dev/null | grep '^\.')" ]; }

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
}
