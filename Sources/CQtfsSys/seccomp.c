// qtfs-run's seccomp filter and the supervisor's notification calls (qtfs_seccomp.h).
#define _GNU_SOURCE
#include "qtfs_seccomp.h"
#include <errno.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000u

static const unsigned trapped[] = {
    QTFS_NR_CONNECT, QTFS_NR_BIND, QTFS_NR_MOUNT, QTFS_NR_UMOUNT2, QTFS_NR_OPEN_TREE,
    QTFS_NR_MOVE_MOUNT, QTFS_NR_FSOPEN, QTFS_NR_FSCONFIG, QTFS_NR_FSMOUNT, QTFS_NR_FSPICK,
    QTFS_NR_MOUNT_SETATTR,
};
#define NTRAPPED (sizeof trapped / sizeof trapped[0])

// x86_64 (and x32, whose numbers carry a flag bit) calls in `trapped` notify; everything
// else, including 32-bit x86 calls, is allowed (docs/offload.md says so).
static int install_filter(void)
{
    struct sock_filter prog[4 + NTRAPPED + 2];
    size_t n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, NTRAPPED + 2);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~X32_SYSCALL_BIT);
    for (size_t i = 0; i < NTRAPPED; i++) {
        // equal: jump over the remaining checks and the ALLOW to the NOTIFY
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, trapped[i], (unsigned char)(NTRAPPED - i), 0);
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
    int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
    if (fd < 0 && errno == EACCES) {
        // without CAP_SYS_ADMIN a filter needs no_new_privs
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
        fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
    }
    return fd;
}

static int send_fd(int sock, int fd)
{
    char data = 'L';
    struct iovec iov = { .iov_base = &data, .iov_len = 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char data;
    struct iovec iov = { .iov_base = &data, .iov_len = 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    if (n != 1) { if (n == 0) errno = EPROTO; return -1; }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) { errno = EPROTO; return -1; }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

// The child: only async-signal-safe calls between fork and exec.
static void child(int sock, char *const *argv, pid_t parent)
{
    int err = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    int listener = install_filter();
    if (listener < 0 || send_fd(sock, listener) != 0) err = errno ? errno : EIO;
    if (listener >= 0) close(listener);
    if (!err) { execvp(argv[0], argv); err = errno; }
    ssize_t w = write(sock, &err, sizeof err);
    (void)w;
    _exit(127);
}

pid_t qtfs_run_spawn(char *const *argv, int *listener, int *exec_errno)
{
    int sv[2];
    *exec_errno = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(sv[0]); close(sv[1]); errno = e; return -1; }
    if (pid == 0) { close(sv[0]); child(sv[1], argv, parent); }
    close(sv[1]);
    *listener = recv_fd(sv[0]);
    int err = 0;
    ssize_t n;
    do n = read(sv[0], &err, sizeof err); while (n < 0 && errno == EINTR);
    close(sv[0]);
    if (n == (ssize_t)sizeof err) *exec_errno = err;   // EOF: exec succeeded
    if (*listener < 0 && !*exec_errno) *exec_errno = EPROTO;
    return pid;
}

int qtfs_notif_recv(int listener, struct qtfs_notif *out)
{
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return -1;
    // The kernel's struct may be larger than this header's; it must start zeroed.
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    if (!req) return -1;
    int rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req);
    if (rc == 0) {
        out->id = req->id;
        out->pid = (pid_t)req->pid;
        out->nr = req->data.nr & (int)~X32_SYSCALL_BIT;
        for (int i = 0; i < 6; i++) out->args[i] = req->data.args[i];
    }
    int e = errno;
    free(req);
    errno = e;
    return rc;
}

int qtfs_notif_valid(int listener, unsigned long long id)
{
    __u64 v = id;
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &v);
}

static int respond(int listener, unsigned long long id, long long value, int error, unsigned flags)
{
    struct seccomp_notif_resp resp = { .id = id, .val = value, .error = error ? -error : 0, .flags = flags };
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

int qtfs_notif_answer(int listener, unsigned long long id, long long value, int error)
{
    return respond(listener, id, error ? 0 : value, error, 0);
}

int qtfs_notif_continue(int listener, unsigned long long id)
{
    return respond(listener, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

ssize_t qtfs_read_caller(pid_t pid, unsigned long long addr, void *buf, size_t len)
{
    struct iovec local = { .iov_base = buf, .iov_len = len };
    struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
    return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

int qtfs_pidfd_getfd(int pidfd, int fd)
{
    return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

long long qtfs_mount_id(int fd)
{
    struct statx st;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &st) != 0) return -1;
    if (!(st.stx_mask & STATX_MNT_ID)) { errno = ENOSYS; return -1; }
    return (long long)st.stx_mnt_id;
}
