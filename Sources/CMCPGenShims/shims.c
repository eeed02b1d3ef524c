#define _GNU_SOURCE
#include "mcpgen_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const int mcpgen_fs_immutable_fl = FS_IMMUTABLE_FL;

int mcpgen_get_inode_flags(int fd, int *flags) {
  long value = 0;
  int rc = ioctl(fd, FS_IOC_GETFLAGS, &value);
  if (rc == 0) *flags = (int)value;
  return rc;
}

int mcpgen_set_inode_flags(int fd, int flags) {
  long value = flags;
  return ioctl(fd, FS_IOC_SETFLAGS, &value);
}

int mcpgen_is_immutable_at(int dirfd, const char *path) {
  struct statx stx;
  if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) != 0) return -1;
  if (!(stx.stx_attributes_mask & STATX_ATTR_IMMUTABLE)) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return (stx.stx_attributes & STATX_ATTR_IMMUTABLE) ? 1 : 0;
}

int mcpgen_openat2_beneath(int dirfd, const char *path, int flags, mode_t mode) {
  struct open_how how = {
    .flags = (unsigned long long)flags,
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? (unsigned long long)mode : 0,
    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int mcpgen_openat2_within(int dirfd, const char *path, int flags) {
  struct open_how how = {
    .flags = (unsigned long long)flags,
    .mode = 0,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int mcpgen_renameat_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
  return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}

int mcpgen_renameat_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
  return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

const int mcpgen_o_path = O_PATH;
const int mcpgen_o_tmpfile = O_TMPFILE;
const int mcpgen_at_empty_path = AT_EMPTY_PATH;

int mcpgen_flock(int fd, int operation) { return flock(fd, operation); }

int mcpgen_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int mcpgen_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
  return posix_spawn_file_actions_addchdir_np(actions, path);
}

int mcpgen_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int mcpgen_syncfs(int fd) { return syncfs(fd); }

int mcpgen_start_writeback(int fd, int64_t offset, int64_t length) {
  return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int mcpgen_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

static __thread sigjmp_buf *guard_jump;
static __thread const char *guard_low, *guard_high;
static struct sigaction previous_sigbus;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int signal, siginfo_t *info, void *context) {
  (void)signal;
  (void)context;
  const char *at = info->si_addr;
  if (guard_jump != NULL && at >= guard_low && at < guard_high) siglongjmp(*guard_jump, 1);
  // Not a guarded read: the faulting instruction runs again, under the handler from before.
  sigaction(SIGBUS, &previous_sigbus, NULL);
}

static void install_sigbus(void) {
  struct sigaction action = {0};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &previous_sigbus);
}

int mcpgen_digest_update_guarded(EVP_MD_CTX *ctx, const void *data, size_t count) {
  pthread_once(&sigbus_once, install_sigbus);
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) {
    guard_jump = NULL;
    return -1;
  }
  guard_low = data;
  guard_high = (const char *)data + count;
  guard_jump = &jump;
  int ok = EVP_DigestUpdate(ctx, data, count);
  guard_jump = NULL;
  return ok == 1 ? 0 : -2;
}
