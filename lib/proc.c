#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file.h"
#include "proc.h"

static char boot_cache[40];

const char *
proc_boot_id(void)
{
	char buf[64];

	if (boot_cache[0])
		return boot_cache;
	if (read_line_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", buf,
	    sizeof buf) < 0 || !buf[0])
		snprintf(buf, sizeof buf, "unknown");
	snprintf(boot_cache, sizeof boot_cache, "%s", buf);
	return boot_cache;
}

/* Start time (field 22) of pid, or -1; *zombie set when state is Z/X. */
static int
stat_start(pid_t pid, unsigned long long *start, int *zombie)
{
	char path[64], buf[1024], *p;
	int field;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_small_at(AT_FDCWD, path, buf, sizeof buf) < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	/* comm may hold spaces and ')': fields start after the last ')'. */
	if (!(p = strrchr(buf, ')'))) {
		errno = EINVAL;
		return -1;
	}
	p++;
	if (zombie) {
		while (*p == ' ')
			p++;
		*zombie = (*p == 'Z' || *p == 'X');
	}
	for (field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p) {
			errno = EINVAL;
			return -1;
		}
	}
	*start = strtoull(p + 1, NULL, 10);
	return 0;
}

int
proc_identify(pid_t pid, struct proc_id *id)
{
	memset(id, 0, sizeof *id);
	id->pid = pid;
	if (stat_start(pid, &id->start, NULL) < 0)
		return -1;
	snprintf(id->boot, sizeof id->boot, "%s", proc_boot_id());
	return 0;
}

void
proc_id_format(const struct proc_id *id, char *buf, size_t cap)
{
	/* The pid too: a pid file changed after the fact names a process
	 * this record was not made for. */
	snprintf(buf, cap, "%llu %s %ld", id->start, id->boot, (long)id->pid);
}

int
proc_id_parse(pid_t pid, const char *text, struct proc_id *id)
{
	char *end;

	memset(id, 0, sizeof *id);
	id->pid = pid;
	errno = 0;
	id->start = strtoull(text, &end, 10);
	if (errno || end == text || *end != ' ') {
		errno = EINVAL;
		return -1;
	}
	snprintf(id->boot, sizeof id->boot, "%.36s", end + 1);
	id->boot[strcspn(id->boot, " ")] = '\0';
	end = strchr(end + 1, ' ');
	if (end && strtol(end + 1, NULL, 10) != (long)pid) {
		errno = ESRCH;
		return -1;
	}
	return pid > 0 ? 0 : -1;
}

static int
matches(const struct proc_id *id, int *zombie)
{
	unsigned long long start;

	if (id->pid <= 0)
		return 0;
	if (strcmp(id->boot, proc_boot_id()) != 0)
		return 0;               /* recorded before a reboot */
	if (stat_start(id->pid, &start, zombie) < 0)
		return errno == ESRCH ? 0 : -1;
	return start == id->start;
}

int
proc_alive(const struct proc_id *id)
{
	int zombie = 0, r = matches(id, &zombie);

	return r == 1 && zombie ? 0 : r;
}

int
proc_kill_group(const struct proc_id *id, int sig)
{
	int pfd, r;

	/* Pin the process first: from here its pid cannot name another. */
	pfd = (int)syscall(SYS_pidfd_open, id->pid, 0);
	if (pfd < 0) {
		if (errno == ESRCH)
			return 1;
		if (errno != ENOSYS)
			return -1;
	}
	r = matches(id, NULL);
	if (r != 1) {
		if (pfd >= 0)
			close(pfd);
		return r == 0 ? 1 : -1;
	}
	/* The pinned leader is ours and its group cannot be reused while the
	 * leader (even as a zombie) exists. */
	if (kill(-id->pid, sig) < 0) {
		int e = errno;

		if (e == ESRCH && pfd >= 0)
			r = (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		else
			r = -1;
		if (pfd >= 0)
			close(pfd);
		if (r < 0) {
			errno = e;
			return errno == ESRCH ? 1 : -1;
		}
		return 0;
	}
	if (pfd >= 0)
		close(pfd);
	return 0;
}

int
proc_cpu_room(void)
{
	char buf[128], *p;
	long running, cpus;

	/* "0.52 0.58 0.59 3/412 12345": the fourth field is running/all. */
	if (read_small_at(AT_FDCWD, "/proc/loadavg", buf, sizeof buf) < 0 ||
	    !(p = strchr(buf, '/')))
		return 1;
	while (p > buf && p[-1] != ' ')
		p--;
	running = strtol(p, NULL, 10);
	if ((cpus = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		cpus = 1;
	return (running - 1) * 2 < cpus;
}

/* Only system calls and the stack, and errno only when one fails: a
 * monitor calls it in the memory, and with the thread pointer, of the
 * spawner that cloned it.  (Not sched_getcpu: it reads the CPU from the
 * spawner's rseq area, which the kernel keeps for the spawner.) */
int
proc_pin_here(cpu_set_t *saved)
{
	cpu_set_t one;
	unsigned cpu;

	if (sched_getaffinity(0, sizeof *saved, saved) < 0 ||
	    CPU_COUNT(saved) < 2 || syscall(SYS_getcpu, &cpu, NULL, NULL) < 0 ||
	    cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, saved))
		return 0;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof one, &one) == 0;
}

/* The same: an agent calls it between clone and exec, in its monitor's
 * memory. */
void
proc_unpin(const cpu_set_t *saved)
{
	cpu_set_t all;

	if (sched_setaffinity(0, sizeof *saved, saved) == 0)
		return;
	memset(&all, 0xff, sizeof all);
	if (sched_setaffinity(0, sizeof all, &all) < 0) {
		/* no CPU at all: the one we have is what is left */
	}
}
