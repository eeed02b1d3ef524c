#ifndef MCPGEN_SHIMS_H
#define MCPGEN_SHIMS_H

#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>

// Inode flags (chattr): FS_IOC_GETFLAGS/SETFLAGS are function-like macros Swift cannot import.
int mcpgen_get_inode_flags(int fd, int *flags);
int mcpgen_set_inode_flags(int fd, int flags);
extern const int mcpgen_fs_immutable_fl;

// Whether the inode at path in dirfd (a final symlink not followed) carries the immutable flag,
// from statx(2)'s attributes: 1 or 0; -1 with errno set when statx fails, EOPNOTSUPP when the
// file system does not report the attribute. One call instead of open, ioctl and close.
int mcpgen_is_immutable_at(int dirfd, const char *path);

// openat2(2) with RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH: no component of path may be a symlink
// and resolution may not leave dirfd. glibc 2.36 has no wrapper; this is the raw syscall.
int mcpgen_openat2_beneath(int dirfd, const char *path, int flags, mode_t mode);

// openat2(2) with RESOLVE_BENEATH only (and RESOLVE_NO_MAGICLINKS): symlinks are followed as long
// as every step stays beneath dirfd; a link that leaves it (absolute, or up through "..") fails
// with EXDEV. Not RESOLVE_IN_ROOT, which would re-root such a link instead of refusing it, while
// a program run through the path follows the link where it really points.
int mcpgen_openat2_within(int dirfd, const char *path, int flags);

// renameat2(2) with RENAME_NOREPLACE, through the raw syscall for older glibc.
int mcpgen_renameat_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

// renameat2(2) with RENAME_EXCHANGE: swaps two names atomically, both staying present throughout.
int mcpgen_renameat_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

// O_PATH needs _GNU_SOURCE, which Swift's Glibc import does not define.
extern const int mcpgen_o_path;

// O_TMPFILE (an unnamed file in a directory, linked in later) and linkat's AT_EMPTY_PATH: both
// need _GNU_SOURCE too.
extern const int mcpgen_o_tmpfile;
extern const int mcpgen_at_empty_path;

// flock(2): Swift resolves the name to `struct flock` from <fcntl.h>.
int mcpgen_flock(int fd, int operation);

// memfd_create(2): an anonymous in-memory file that collects a health check's output.
int mcpgen_memfd(const char *name);

// syncfs(2): one call makes a whole freshly written tree durable.
int mcpgen_syncfs(int fd);

// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writeback of a range without waiting,
// so the disk works while the copy goes on and the final syncfs has less left to wait for.
int mcpgen_start_writeback(int fd, int64_t offset, int64_t length);

// pipe2(2) with O_CLOEXEC (pipe2 needs _GNU_SOURCE): both ends close on exec, so only the child
// given an end as stdin or stdout holds it.
int mcpgen_pipe_cloexec(int fds[2]);

// posix_spawn_file_actions_addchdir_np (glibc >= 2.29): the child starts in `path`. Declared only
// with _GNU_SOURCE, which Swift's Glibc import does not define.
int mcpgen_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

// pidfd_open(2) with O_CLOEXEC implied: a descriptor that polls readable once the process has
// ended, so one thread can wait for several children with a timeout. Raw syscall (glibc 2.36's
// wrapper needs <sys/pidfd.h>, which older glibc lacks).
int mcpgen_pidfd_open(pid_t pid);

// SHA-256 update over mapped file bytes, guarded against SIGBUS: a file truncated while it is
// mapped faults on the pages past its new end, which would kill the process. The fault inside
// `data` returns here as -1 instead (the digest context is then unusable until re-initialised);
// 0 when all `count` bytes were hashed, -2 when the update itself failed. Any other SIGBUS
// goes to the handler that was installed before.
typedef struct evp_md_ctx_st EVP_MD_CTX;
int mcpgen_digest_update_guarded(EVP_MD_CTX *ctx, const void *data, size_t count);

#endif
