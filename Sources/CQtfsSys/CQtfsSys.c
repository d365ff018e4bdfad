#define _GNU_SOURCE
#include "CQtfsSys.h"
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

int qtfs_become(uid_t uid, gid_t gid, const gid_t *groups, int ngroups) {
    if (syscall(SYS_setgroups, (size_t)ngroups, groups) != 0) return -1;
    syscall(SYS_setfsgid, gid);
    syscall(SYS_setfsuid, uid);
    // setfsuid/setfsgid report the previous id, never an error: read back to verify.
    if ((uid_t)syscall(SYS_setfsuid, -1) != uid || (gid_t)syscall(SYS_setfsgid, -1) != gid) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

int qtfs_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve) {
    struct open_how how = { .flags = (unsigned long long)flags, .mode = mode, .resolve = resolve };
    // O_CREAT-less opens must pass mode 0 or openat2 rejects them.
    if (!(flags & (O_CREAT | O_TMPFILE))) how.mode = 0;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

ssize_t qtfs_getdents64(int fd, void *buf, size_t len) {
    return syscall(SYS_getdents64, fd, buf, len);
}

int qtfs_fchmod_opath(int fd, mode_t mode) {
    if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0) return 0;
    if (errno != ENOSYS && errno != EINVAL) return -1;
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return chmod(path, mode);
}

int qtfs_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned flags) {
    return (int)syscall(SYS_renameat2, olddir, oldpath, newdir, newpath, flags);
}

// The identity this thread last switched to; valid = 0 until the first switch.
static __thread struct {
    int valid;
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t groups[64];
} current_creds;

int qtfs_become_cached(uid_t uid, gid_t gid, const gid_t *groups, int ngroups) {
    if (ngroups < 0 || ngroups > 64) { errno = EINVAL; return -1; }
    if (current_creds.valid && current_creds.uid == uid && current_creds.gid == gid &&
        current_creds.ngroups == ngroups &&
        (ngroups == 0 || memcmp(current_creds.groups, groups, sizeof(gid_t) * (size_t)ngroups) == 0))
        return 0;
    current_creds.valid = 0;
    if (qtfs_become(uid, gid, groups, ngroups) != 0) return -1;
    current_creds.uid = uid;
    current_creds.gid = gid;
    current_creds.ngroups = ngroups;
    if (ngroups > 0) memcpy(current_creds.groups, groups, sizeof(gid_t) * (size_t)ngroups);
    current_creds.valid = 1;
    return 0;
}

int qtfs_become_root_cached(void) { return qtfs_become_cached(0, 0, NULL, 0); }

int qtfs_fallocate(int fd, int mode, long long offset, long long length) {
    return fallocate(fd, mode, (off_t)offset, (off_t)length);
}

long qtfs_pread_nowait(int fd, void *buf, unsigned long count, long long offset) {
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif
    struct iovec iov = { .iov_base = buf, .iov_len = count };
    return preadv2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
}

#include <fcntl.h>
#include <sys/inotify.h>

int qtfs_fifo_peek(int fifo, int scratch) {
    // tee duplicates pipe data without consuming it: >0 data waits, -EAGAIN (empty, with
    // SPLICE_F_NONBLOCK) means a writer holds the fifo, 0 means no writer.
    ssize_t n = tee(fifo, scratch, 1, SPLICE_F_NONBLOCK);
    if (n > 0) return 1;
    if (n == 0) return 0;
    return errno == EAGAIN ? 2 : -errno;
}

int qtfs_inotify_init(void) { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }
int qtfs_inotify_watch_open(int ino_fd, const char *path) {
    return inotify_add_watch(ino_fd, path, IN_OPEN);
}

#include <sys/socket.h>

int qtfs_peer_cred(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid) {
    struct ucred c;
    socklen_t len = sizeof(c);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return -1;
    *uid = c.uid; *gid = c.gid; *pid = c.pid;
    return 0;
}

int qtfs_pipe_sized(int fds[2], int size, int *capacity) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    int got = fcntl(fds[1], F_SETPIPE_SZ, size);
    *capacity = got > 0 ? got : fcntl(fds[1], F_GETPIPE_SZ);
    return 0;
}

ssize_t qtfs_splice_to_pipe(int fd_in, int64_t *off_in, int pipe_out, size_t len) {
    loff_t off = *off_in;
    ssize_t n = splice(fd_in, &off, pipe_out, NULL, len, SPLICE_F_NONBLOCK);
    if (n > 0) *off_in = off;
    return n;
}
