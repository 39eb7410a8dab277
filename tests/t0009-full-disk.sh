# A full disk or an unwritable .project: exit 125, no half-made agent.
. "$(dirname "$0")/lib.sh"

M="$T/small"
mkdir -p "$M"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$M" 2>/dev/null; then
	echo "ok 1 # SKIP needs root to mount a small tmpfs"
	echo "1..1"
	exit 0
fi
trap 'umount "$M" 2>/dev/null; _cleanup' EXIT
cd "$M" || exit 1
ag-spawn -n first -- true >/dev/null
ag-wait first >/dev/null
before=$(agent_count)
# Fill the disk to the last block.
dd if=/dev/zero of=fill bs=4k 2>/dev/null
expect_exit 125 "a full disk is exit 125" ag-spawn -n big -d "$(head -c 3000 /dev/zero | tr '\0' x)" -- true
like "  with a message naming the failure" "$(cat "$T/.err")" "^ag-spawn: cannot .*: No space left on device$"
is "  no new agent" "$(agent_count)" "$before"
check "  no half-made directory" no_temp_dirs
rm -f fill
is "with room again it works" "$(ag-spawn -n after -- true)" after

# Unwritable: the filesystem remounted read-only (once nothing writes:
# the monitor syncs the record after the waiter is woken).
ag-wait after >/dev/null
monitor_gone after
mount -o remount,ro "$M"
expect_exit 125 "a read-only .project is exit 125" ag-spawn -n ro -- true
like "  saying why" "$(cat "$T/.err")" "Read-only file system"
mount -o remount,rw "$M"
cd "$T"
done_testing
