#define _GNU_SOURCE
#include "qtfs_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#define CLOSE_RANGE_CLOEXEC_FLAG 4

static void report(int fd, int step) {
    int msg[2] = { step, errno };
    ssize_t ignored = write(fd, msg, sizeof msg);
    (void)ignored;
    _exit(127);
}

static void reset_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);   // EINVAL for KILL/STOP: fine
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/// Raw syscalls: they change only this (the child's only) thread, with no glibc
/// cross-thread signalling after fork.
static int become(const struct qtfs_spawn *s) {
    if (syscall(SYS_setgroups, (size_t)s->ngroups, s->groups) != 0) return -1;
    if (syscall(SYS_setresgid, s->gid, s->gid, s->gid) != 0) return -1;
    if (syscall(SYS_setresuid, s->uid, s->uid, s->uid) != 0) return -1;
    return 0;
}

static int place_stdio(const struct qtfs_spawn *s) {
    // Move the sources above 2 first so that dup2 onto 0-2 never clobbers one still needed.
    int tmp[3];
    for (int i = 0; i < 3; i++)
        if ((tmp[i] = fcntl(s->stdio[i], F_DUPFD_CLOEXEC, 3)) < 0) return -1;
    for (int i = 0; i < 3; i++)
        if (dup2(tmp[i], i) < 0) return -1;
    return 0;
}

static int reopen_files(const struct qtfs_spawn *s) {
    for (int i = 0; i < s->nfiles; i++) {
        const struct qtfs_spawn_file *f = &s->files[i];
        int fd = open(f->path, (f->flags & ~O_CREAT) | O_CLOEXEC);
        if (fd < 0) return -1;
        if (lseek(fd, f->offset, SEEK_SET) < 0 && errno != ESPIPE) return -1;
        if (dup2(fd, f->fd) < 0) return -1;   // dup2 clears close-on-exec on the copy
        if (fd != f->fd) close(fd);
    }
    return 0;
}

static void child(const struct qtfs_spawn *s, int report_fd) {
    pid_t parent = getppid();
    reset_signals();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) report(report_fd, QTFS_SPAWN_SETUP);
    if (setsid() < 0) report(report_fd, QTFS_SPAWN_SETUP);
    if (s->pty && ioctl(s->stdio[0], TIOCSCTTY, 0) != 0) report(report_fd, QTFS_SPAWN_SETUP);
    if (place_stdio(s) != 0) report(report_fd, QTFS_SPAWN_SETUP);
    // Everything else the server has open is closed by exec.
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC_FLAG) != 0) report(report_fd, QTFS_SPAWN_SETUP);
    if (become(s) != 0) report(report_fd, QTFS_SPAWN_CREDENTIALS);
    if (chdir(s->cwd) != 0) report(report_fd, QTFS_SPAWN_CWD);
    umask(s->umask);
    if (reopen_files(s) != 0) report(report_fd, QTFS_SPAWN_FILE);
    execve(s->path, s->argv, s->envp);
    report(report_fd, QTFS_SPAWN_EXEC);
}

struct child_start { const struct qtfs_spawn *spawn; int report_fd; };

static int child_entry(void *arg) {
    const struct child_start *start = arg;
    child(start->spawn, start->report_fd);
    return 127;   // not reached: child() execs or exits
}

/// The child shares the server's memory until it execs (CLONE_VM|CLONE_VFORK, as
/// posix_spawn does): copying the page tables of a large server for fork cost about
/// 0.4 ms of every remote exec. The calling thread waits meanwhile, with every signal
/// blocked so that no handler of the server runs on the child's stack.
pid_t qtfs_spawn(const struct qtfs_spawn *s, int *report_fd) {
    enum { stack_size = 64 * 1024 };
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    char *stack = malloc(stack_size);
    if (!stack) { close(p[0]); close(p[1]); errno = ENOMEM; return -1; }
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    struct child_start start = { s, p[1] };
    pid_t pid = clone(child_entry, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    free(stack);
    close(p[1]);
    if (pid < 0) { close(p[0]); errno = e; return -1; }
    *report_fd = p[0];
    return pid;
}

int qtfs_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int qtfs_openpty(int *master, int *slave, unsigned short rows, unsigned short cols) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (m < 0) return -1;
    char name[64];
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) goto fail;
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) goto fail;
    *master = m;
    *slave = s;
    if (rows && cols) qtfs_set_winsize(m, rows, cols);
    return 0;
fail:;
    int e = errno;
    close(m);
    errno = e;
    return -1;
}

int qtfs_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    return ioctl(fd, TIOCSWINSZ, &ws);
}
