#define _GNU_SOURCE
#include "qtfs_term.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

int qtfs_signalfd(const int *sigs, int n) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < n; i++) sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int qtfs_signalfd_read(int fd) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n == (ssize_t)sizeof si) return (int)si.ssi_signo;
    return (n < 0 && errno == EAGAIN) ? 0 : -1;
}

int qtfs_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

static struct termios saved;
static int saved_fd = -1;

int qtfs_term_raw(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    saved = t;
    saved_fd = fd;
    cfmakeraw(&t);
    return tcsetattr(fd, TCSADRAIN, &t);
}

void qtfs_term_restore(void) {
    if (saved_fd < 0) return;
    tcsetattr(saved_fd, TCSADRAIN, &saved);
    saved_fd = -1;
}

void qtfs_die_of(int sig) {
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}
