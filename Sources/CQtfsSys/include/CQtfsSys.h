// System calls Swift cannot reach directly or that need per-thread semantics.
#ifndef CQTFS_SYS_H
#define CQTFS_SYS_H
// No _GNU_SOURCE here: Swift's Glibc module is built without it, and a shim header that
// includes system headers in GNU mode gets a different fd_set, which breaks every Swift
// file that sees both (a fresh build fails). The .c file defines it for itself; the few
// GNU-only constants Swift needs are supplied below.
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <errno.h>
#include <linux/openat2.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef O_DIRECT
#define O_DIRECT 040000
#endif
#ifndef O_NOATIME
#define O_NOATIME 01000000
#endif
#ifndef O_TMPFILE
#define O_TMPFILE 020200000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

/// fallocate(2) (declared by glibc only in GNU mode).
int qtfs_fallocate(int fd, int mode, long long offset, long long length);

/// pread that fails with EAGAIN instead of waiting for the disk (preadv2 with RWF_NOWAIT):
/// lets the event loop read a file only when its pages are already in memory.
long qtfs_pread_nowait(int fd, void *buf, unsigned long count, long long offset);

/// Switches the calling thread (only) to act with these file-system credentials:
/// raw setgroups/setfsgid/setfsuid syscalls, because glibc's wrappers change every
/// thread of the process. Returns 0, or -1 with errno set.
int qtfs_become(uid_t uid, gid_t gid, const gid_t *groups, int ngroups);

/// openat2(2): resolution confined by `resolve` (RESOLVE_BENEATH, RESOLVE_IN_ROOT, ...).
int qtfs_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve);

/// getdents64(2) into `buf`; returns bytes filled, 0 at end, -1 with errno.
ssize_t qtfs_getdents64(int fd, void *buf, size_t len);

/// chmod of the file an O_PATH fd refers to, never following a symlink:
/// fchmodat2(fd, "", mode, AT_EMPTY_PATH) (Linux 6.6+), else chmod via /proc/self/fd.
int qtfs_fchmod_opath(int fd, mode_t mode);

/// As qtfs_become, but a no-op when the calling thread already has exactly these
/// credentials (remembered per thread). Each switch costs several commit_creds (~30 us
/// for a switch and back on a 2-vCPU VM), so worker threads keep the last caller's
/// identity and every operation sets the one it needs first.
int qtfs_become_cached(uid_t uid, gid_t gid, const gid_t *groups, int ngroups);

/// qtfs_become_cached(0, 0, no groups).
int qtfs_become_root_cached(void);

/// renameat2(2) (flags 1 RENAME_NOREPLACE, 2 RENAME_EXCHANGE, 4 RENAME_WHITEOUT) as a raw syscall.
int qtfs_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned flags);

/// Whether a fifo read end has a peer, without consuming data (tee into `scratch`, the
/// write end of a private pipe the caller drains): 1 data waiting, 2 a writer is there
/// (no data), 0 no writer, or -errno.
int qtfs_fifo_peek(int fifo, int scratch);
/// inotify_init1(IN_NONBLOCK | IN_CLOEXEC).
int qtfs_inotify_init(void);
/// Watches `path` for IN_OPEN; returns the watch descriptor or -1.
int qtfs_inotify_watch_open(int ino_fd, const char *path);

/// SO_PEERCRED of a unix socket (struct ucred is GNU-only for Swift's Glibc).
int qtfs_peer_cred(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid);

/// A close-on-exec pipe whose capacity is raised to `size` bytes when the system allows
/// (F_SETPIPE_SZ): 0 with fds[0] (read end) and fds[1] (write end), or -1 with errno.
/// *capacity receives the capacity it got.
int qtfs_pipe_sized(int fds[2], int size, int *capacity);
/// splice(2) from `fd_in` at *off_in (advanced) into the pipe `pipe_out`, without
/// waiting for room in the pipe (SPLICE_F_NONBLOCK). Bytes moved, or -1 with errno.
ssize_t qtfs_splice_to_pipe(int fd_in, int64_t *off_in, int pipe_out, size_t len);
#include "qtfs_seccomp.h"
#include "qtfs_spawn.h"
#include "qtfs_term.h"
#include "qtfs_cpu.h"
#endif
