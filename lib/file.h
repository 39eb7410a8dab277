/*
 * file.h - atomic files, small reads, locked appends and flock(2) locks.
 *
 * All functions work relative to a directory fd and return -1 with errno
 * set on failure; none prints.  Every fd they open is O_CLOEXEC.
 */
#ifndef AG_FILE_H
#define AG_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* musl (1.2.3, Debian 12) has no renameat2 wrapper: the system call. */
#ifndef RENAME_NOREPLACE
#include <sys/syscall.h>
#include <unistd.h>
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
static inline int
renameat2(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath, unsigned int flags)
{
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd,
	    newpath, flags);
}
#endif

#define AF_FSYNC 1              /* fsync the file (and the directory) */
#define AF_PRIVATE 2            /* mode 0600 instead of 0644 */
#define AF_FILL 4               /* create_file_at: it may exist, empty */
#define AF_PREPARED 8           /* atomic_write_at, atomic_swap_at: write
				 * through ".end-NAME" when it is there (made
				 * ahead, empty), not a new temp file */

/*
 * Replace dirfd/name atomically: write a temp file ".name.XXXXXX" in the
 * same directory, close it (checked), rename it over name.  A reader sees
 * the old or the new content, never a mix.  On failure the temp file is
 * removed and name is untouched.
 */
int atomic_write_at(int dirfd, const char *name, const void *buf, size_t len,
    int flags);
/* Convenience for text: writes s followed by a newline. */
int atomic_puts_at(int dirfd, const char *name, const char *s, int flags);
/*
 * Replace dirfd/name as atomic_write_at does, but by exchanging the new
 * file with the old (renameat2 RENAME_EXCHANGE): ext4 makes a rename over
 * an existing file flush the new one's data first (auto_da_alloc), which
 * an exchange does not.  old (cap >= NAME_MAX + 1) gets the temp name that
 * now holds the previous content, for the caller to unlink when it likes
 * ("" when there was nothing to exchange with).
 */
int atomic_swap_at(int dirfd, const char *name, const void *buf, size_t len,
    char *old, size_t cap, int flags);

/*
 * atomic_write_at through via, a hidden file of ours that is no longer
 * needed (the old content an atomic_swap_at set aside): it is overwritten
 * from the start, cut to length and renamed onto name, so that its inode
 * is used again instead of one freed and another allocated.  (Where ext4
 * runs without a journal, as here, each inode freed makes every later
 * allocation in its group slower for a minute or more.)  Never cut to
 * zero (see empty_regular).  On failure via is left for the caller.
 */
int atomic_write_reuse_at(int dirfd, const char *via, const char *name,
    const void *buf, size_t len);
/*
 * Claim name, which must not be there yet (EEXIST), with the inode of via,
 * a file of ours no longer needed (ENOENT: none; the caller creates name
 * instead): via is renamed onto name, then overwritten with buf.  Not
 * atomic: a crash in between leaves name with via's old content.  For a
 * marker whose being there is what counts, its content only a hint.
 */
int claim_reuse_at(int dirfd, const char *via, const char *name,
    const void *buf, size_t len);

/*
 * Create a new file (O_EXCL) and write buf.  Only for directories that
 * nobody else can see yet (an agent under its temporary name).  With
 * AF_FILL the file may already be there, empty (a spare agent directory
 * made ahead of time): it is filled instead.
 */
int create_file_at(int dirfd, const char *name, const void *buf, size_t len,
    int flags);
int create_puts_at(int dirfd, const char *name, const char *s);
/* create_puts_at with AF_FILL. */
int fill_puts_at(int dirfd, const char *name, const char *s);

/*
 * Read a whole small file into buf (at most cap-1 bytes, NUL-terminated).
 * Returns the length read, or -1.  A longer file is truncated.
 */
ssize_t read_small_at(int dirfd, const char *name, char *buf, size_t cap);
/* The first line of a file, without its newline or trailing spaces. */
int read_line_at(int dirfd, const char *name, char *buf, size_t cap);
/* Whole file, malloc'd and NUL-terminated; *len gets its length. */
char *read_all_at(int dirfd, const char *name, size_t *len);

/*
 * Append whole lines (buf must end in '\n') to dirfd/name, creating it:
 * the write happens under an exclusive flock of the file, in one write(2),
 * and a short write (disk full) is rolled back by truncating to the old
 * size, so a log never holds half a line.  Half a line left at the end by
 * a writer killed mid-write is cut off first.  AF_FSYNC makes it durable.
 */
/* Cut half a line off the end of fd (held locked); *size is its size,
 * and becomes the new one. */
int cut_partial_line(int fd, off_t *size);
int append_locked_at(int dirfd, const char *name, const char *buf, size_t len,
    int flags);

/* Open (creating) a lock file and flock(2) it with op (LOCK_EX|LOCK_NB ...).
 * Returns the fd holding the lock; close it to release. */
int lock_at(int dirfd, const char *name, int op);

/* Make a directory (and its parents below dirfd), mode 0755; EEXIST is ok. */
int mkdirs_at(int dirfd, const char *path);
/* Remove dirfd/name recursively. */
int rm_rf_at(int dirfd, const char *name);
/* fsync a directory by fd. */
int fsync_fd(int fd);
/* Write all of buf to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/*
 * The names in a directory, dot-files left out, sorted: a NULL-terminated
 * malloc'd array (its length in *np), freed with dir_names_free.  NULL
 * with errno on failure.
 */
char **dir_names(int dfd, size_t *np);
/* The same, of the names starting with prefix (dot-files too, then) and
 * ending with suffix; either may be NULL. */
/* Whether s ends with suf. */
int name_ends(const char *s, const char *suf);
char **dir_names_like(int dfd, const char *prefix, const char *suffix,
    size_t *np);
void dir_names_free(char **v);
/* Close every fd >= 3 that is not in keep[0..n-1]. */
void close_fds_except(const int *keep, int n);

#endif
