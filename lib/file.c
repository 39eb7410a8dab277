#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file.h"
#include "names.h"

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
fsync_fd(int fd)
{
	while (fsync(fd) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static void
temp_name(char *buf, size_t cap, const char *name)
{
	char suf[7];

	random_name(suf, sizeof suf);
	/* Keep the whole name within NAME_MAX: long names are cut. */
	snprintf(buf, cap, ".%.200s.%s", name, suf);
}

/* Close fd on a failure: errno stays the failure's.  Returns -1. */
static int
close_failed(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
	return -1;
}

/*
 * Not O_TRUNC: on ext4 a truncation to zero makes the close start the
 * file's writeback (auto_da_alloc), 30-40 us a file here.  The file we
 * fill is new, or an empty one made ahead; one that is not empty is cut.
 */
static int
empty_regular(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return st.st_size == 0 ? 0 : ftruncate(fd, 0);
}

/* Write buf into a new temp file beside name; its name goes to tmp. */
static int
write_temp(int dirfd, const char *name, const void *buf, size_t len,
    int flags, char *tmp, size_t cap)
{
	int fd, tries, e;

	if (flags & AF_PREPARED) {
		/* Made ahead (a spare directory's): no inode to allocate.
		 * Never through a link, never blocking on a FIFO. */
		snprintf(tmp, cap, ".end-%.200s", name);
		fd = openat(dirfd, tmp, O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd >= 0 && empty_regular(fd) == 0)
			goto opened;
		if (fd >= 0)
			close(fd);
	}
	for (tries = 0;; tries++) {
		temp_name(tmp, cap, name);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    (flags & AF_PRIVATE) ? 0600 : 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 8)
			return -1;
	}
opened:
	if (write_all(fd, buf, len) < 0 ||
	    ((flags & AF_FSYNC) && fsync_fd(fd) < 0)) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		e = errno;
		goto fail;
	}
	return 0;
fail:
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

int
atomic_write_at(int dirfd, const char *name, const void *buf, size_t len,
    int flags)
{
	char tmp[NAME_MAX + 1];
	int e;

	if (write_temp(dirfd, name, buf, len, flags, tmp, sizeof tmp) < 0)
		return -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	if ((flags & AF_FSYNC) && fsync_fd(dirfd) < 0)
		return -1;
	return 0;
}

int
atomic_swap_at(int dirfd, const char *name, const void *buf, size_t len,
    char *old, size_t cap, int flags)
{
	int e;

	if (write_temp(dirfd, name, buf, len, flags, old, cap) < 0) {
		old[0] = '\0';
		return -1;
	}
	if (renameat2(dirfd, old, dirfd, name, RENAME_EXCHANGE) == 0)
		return 0;
	/* Nothing to exchange with, or a filesystem that cannot. */
	if ((errno == ENOENT || errno == EINVAL || errno == ENOSYS) &&
	    renameat(dirfd, old, dirfd, name) == 0) {
		old[0] = '\0';
		return 0;
	}
	e = errno;
	unlinkat(dirfd, old, 0);
	old[0] = '\0';
	errno = e;
	return -1;
}

/* Overwrite a file of ours from the start with buf, cut to length (never
 * to zero: see empty_regular). */
static int
overwrite_at(int dirfd, const char *name, const void *buf, size_t len)
{
	struct stat st;
	int fd;

	/* Ours, but still: never through a link or a FIFO. */
	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (write_all(fd, buf, len) < 0 ||
	    ((off_t)len < st.st_size && ftruncate(fd, (off_t)len) < 0))
		goto fail;
	return close(fd);
fail:
	return close_failed(fd);
}

int
atomic_write_reuse_at(int dirfd, const char *via, const char *name,
    const void *buf, size_t len)
{
	if (overwrite_at(dirfd, via, buf, len) < 0)
		return -1;
	return renameat(dirfd, via, dirfd, name);
}

int
claim_reuse_at(int dirfd, const char *via, const char *name,
    const void *buf, size_t len)
{
	if (renameat2(dirfd, via, dirfd, name, RENAME_NOREPLACE) < 0)
		return -1;
	return overwrite_at(dirfd, name, buf, len);
}

int
atomic_puts_at(int dirfd, const char *name, const char *s, int flags)
{
	size_t n = strlen(s);
	char small[512], *buf = small;
	int r;

	if (n + 2 > sizeof small && !(buf = malloc(n + 2)))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\n';
	r = atomic_write_at(dirfd, name, buf, n + 1, flags);
	if (buf != small)
		free(buf);
	return r;
}

int
create_file_at(int dirfd, const char *name, const void *buf, size_t len,
    int flags)
{
	int fd, e;

	/* Filling: never through a symlink, never blocked by a FIFO put
	 * where a file should be. */
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC |
	    ((flags & AF_FILL) ? O_NOFOLLOW | O_NONBLOCK : O_EXCL),
	    (flags & AF_PRIVATE) ? 0600 : 0644);
	if (fd < 0)
		return -1;
	if ((flags & AF_FILL) && empty_regular(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (write_all(fd, buf, len) < 0) {
		e = errno;
		close(fd);
		unlinkat(dirfd, name, 0);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		e = errno;
		unlinkat(dirfd, name, 0);
		errno = e;
		return -1;
	}
	return 0;
}

static int
puts_with(int dirfd, const char *name, const char *s, int flags)
{
	size_t n = strlen(s);
	char small[512], *buf = small;
	int r;

	if (n + 2 > sizeof small && !(buf = malloc(n + 2)))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\n';
	r = create_file_at(dirfd, name, buf, n + 1, flags);
	if (buf != small)
		free(buf);
	return r;
}

int
create_puts_at(int dirfd, const char *name, const char *s)
{
	return puts_with(dirfd, name, s, 0);
}

int
fill_puts_at(int dirfd, const char *name, const char *s)
{
	return puts_with(dirfd, name, s, AF_FILL);
}

ssize_t
read_small_at(int dirfd, const char *name, char *buf, size_t cap)
{
	size_t n = 0;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/* A short read of a regular file is its end: skip the read
		 * that would return 0 (ag-ps reads tens of thousands). */
		if (n + 1 < cap)
			break;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

int
read_line_at(int dirfd, const char *name, char *buf, size_t cap)
{
	ssize_t n = read_small_at(dirfd, name, buf, cap);
	char *nl;

	if (n < 0)
		return -1;
	if ((nl = memchr(buf, '\n', (size_t)n)))
		*nl = '\0';
	n = (ssize_t)strlen(buf);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
	    buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

char *
read_all_at(int dirfd, const char *name, size_t *lenp)
{
	struct stat st;
	size_t cap, n = 0;
	char *buf, *nb;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if (!(buf = malloc(cap)))
		goto fail;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			if (!(nb = realloc(buf, cap * 2))) {
				free(buf);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (lenp)
		*lenp = n;
	return buf;
fail:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

/*
 * A writer killed in the middle of its write() leaves part of a line at
 * the end: nobody's accepted record, since its append never returned.
 * Cut it off, under the lock, so that the next line starts on a line of
 * its own.  *size is the file's size, and becomes the new one.
 */
int
cut_partial_line(int fd, off_t *size)
{
	char buf[4096];
	off_t end = *size;

	/* Nearly always whole: one byte says so. */
	if (end == 0 || (pread(fd, buf, 1, end - 1) == 1 && buf[0] == '\n'))
		return 0;
	while (end > 0) {
		size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
		ssize_t r = pread(fd, buf, n, end - (off_t)n);

		if (r != (ssize_t)n)
			return r < 0 ? -1 : 0;
		while (n > 0 && buf[n - 1] != '\n') {
			n--;
			end--;
		}
		if (n > 0)
			break;
	}
	if (end == *size)
		return 0;
	if (ftruncate(fd, end) < 0)
		return -1;
	*size = end;
	return 0;
}

int
append_locked_at(int dirfd, const char *name, const char *buf, size_t len,
    int flags)
{
	struct stat st;
	int fd, e;

	if (len == 0 || buf[len - 1] != '\n') {
		errno = EINVAL;
		return -1;
	}
	fd = openat(dirfd, name, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    (flags & AF_PRIVATE) ? 0600 : 0644);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			goto fail;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	if (cut_partial_line(fd, &st.st_size) < 0)
		goto fail;
	if (write_all(fd, buf, len) < 0) {
		e = errno;
		/* Never leave half a line: cut back to where we began. */
		if (ftruncate(fd, st.st_size) < 0) {
			/* the lock still protects readers from nothing more */
		}
		close(fd);
		errno = e;
		return -1;
	}
	if ((flags & AF_FSYNC) && fdatasync(fd) < 0)
		goto fail;
	if (close(fd) < 0)
		return -1;
	return 0;
fail:
	return close_failed(fd);
}

int
lock_at(int dirfd, const char *name, int op)
{
	int fd, e;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0)
		return -1;
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
mkdirs_at(int dirfd, const char *path)
{
	char buf[PATH_MAX], *p;

	size_t n = strlen(path);

	if (n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
rm_rf_at(int dfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), de->d_name) < 0)
			r = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;
	return r;
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void
close_fds_except(const int *keep, int n)
{
	int sorted[16], i, lo = 3;

	if (n > 16)
		n = 16;
	memcpy(sorted, keep, (size_t)n * sizeof *keep);
	qsort(sorted, (size_t)n, sizeof *sorted, cmp_int);
	for (i = 0; i <= n; i++) {
		int hi = i < n ? sorted[i] - 1 : INT_MAX;

		if (i < n && sorted[i] < lo)
			continue;
		if (hi >= lo) {
			if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi,
			    0) < 0) {
				/* Old kernel: close them one by one. */
				long max = sysconf(_SC_OPEN_MAX);
				int fd;

				if (max < 0 || max > 65536)
					max = 65536;
				for (fd = lo; fd <= hi && fd < max; fd++)
					close(fd);
			}
		}
		if (i < n)
			lo = sorted[i] + 1;
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
dir_names(int dfd, size_t *np)
{
	return dir_names_like(dfd, NULL, NULL, np);
}

int
name_ends(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

char **
dir_names_like(int dfd, const char *prefix, const char *suffix, size_t *np)
{
	struct dirent *de;
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof *v);
	int fd = dup(dfd), e;
	DIR *d;

	if (!v || fd < 0 || !(d = fdopendir(fd))) {
		e = errno;
		if (fd >= 0)
			close(fd);
		free(v);
		errno = e;
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (prefix ? strncmp(de->d_name, prefix, strlen(prefix)) :
		    de->d_name[0] == '.')
			continue;
		if (suffix && !name_ends(de->d_name, suffix))
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof *v);

			if (!nv)
				goto fail;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto fail;
		n++;
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof *v, cmp_names);
	if (np)
		*np = n;
	return v;
fail:
	closedir(d);
	v[n] = NULL;
	dir_names_free(v);
	errno = ENOMEM;
	return NULL;
}

void
dir_names_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
