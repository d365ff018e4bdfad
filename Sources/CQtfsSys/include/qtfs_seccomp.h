// qtfs-run's seccomp user notification (Sources/QtfsRunCommand, docs/offload.md): the
// filter that traps mount, umount2, connect, bind and the new mount API for a command's
// whole process tree, and the ioctls the supervisor answers them with.
#ifndef QTFS_SECCOMP_H
#define QTFS_SECCOMP_H
#include <stddef.h>
#include <sys/types.h>

/// The x86_64 numbers of the trapped calls (the filter lets every other call through).
enum qtfs_trapped_call {
    QTFS_NR_CONNECT = 42, QTFS_NR_BIND = 49, QTFS_NR_MOUNT = 165, QTFS_NR_UMOUNT2 = 166,
    QTFS_NR_OPEN_TREE = 428, QTFS_NR_MOVE_MOUNT = 429, QTFS_NR_FSOPEN = 430,
    QTFS_NR_FSCONFIG = 431, QTFS_NR_FSMOUNT = 432, QTFS_NR_FSPICK = 433,
    QTFS_NR_MOUNT_SETATTR = 442,
};

/// One trapped call: which process, which call, its raw arguments.
struct qtfs_notif {
    unsigned long long id;
    pid_t pid;
    int nr;
    unsigned long long args[6];
};

/// Forks `argv` (searched in PATH) under the filter. The child dies with the calling
/// thread (PR_SET_PDEATHSIG SIGKILL), installs the filter (with no_new_privs unless it
/// has CAP_SYS_ADMIN) and execs. Returns the pid and the notification fd in *listener,
/// or -1 with errno; *exec_errno is the child's exec error (0 when exec succeeded).
pid_t qtfs_run_spawn(char *const *argv, int *listener, int *exec_errno);

/// Waits for the next trapped call. 0, or -1 with errno (ENOENT: its caller died meanwhile).
int qtfs_notif_recv(int listener, struct qtfs_notif *out);

/// 0 while the caller still waits in call `id` (re-check after reading its memory).
int qtfs_notif_valid(int listener, unsigned long long id);

/// Answers call `id`: `error` > 0 fails it with that errno; else it returns `value`.
int qtfs_notif_answer(int listener, unsigned long long id, long long value, int error);

/// Lets call `id` run in the kernel as if it had not been trapped.
int qtfs_notif_continue(int listener, unsigned long long id);

/// Up to `len` bytes of the caller's memory at `addr`; the count read, or -1 with errno.
ssize_t qtfs_read_caller(pid_t pid, unsigned long long addr, void *buf, size_t len);

/// pidfd_getfd(2): a duplicate of the process's descriptor `fd` (same open file).
int qtfs_pidfd_getfd(int pidfd, int fd);

/// The id of the mount `fd` is on (statx STATX_MNT_ID; the first field of mountinfo),
/// or -1 with errno.
long long qtfs_mount_id(int fd);
#endif
