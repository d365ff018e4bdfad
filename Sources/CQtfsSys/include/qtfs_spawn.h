// Starting a remote-exec program on the host (Sources/QtfsServerCore/RexecSpawn.swift).
// Everything between clone and exec is here, in C, because only async-signal-safe calls
// may run in the child of a multithreaded process.
#ifndef QTFS_SPAWN_H
#define QTFS_SPAWN_H
#include <sys/types.h>

/// A file reopened in the child at a fixed descriptor number (upstream rexec does this).
struct qtfs_spawn_file {
    int fd;
    int flags;
    long long offset;
    const char *path;
};

struct qtfs_spawn {
    const char *path;            // resolved program to execute
    char *const *argv;           // NULL-terminated
    char *const *envp;           // NULL-terminated
    const char *cwd;
    mode_t umask;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int ngroups;
    int stdio[3];                // become 0, 1, 2 (a pty slave three times with `pty`)
    int pty;                     // 1: stdio[0] is a pty slave, made the controlling terminal
    const struct qtfs_spawn_file *files;
    int nfiles;
};

/// What failed in the child before or at exec, written to the report pipe.
enum qtfs_spawn_step { QTFS_SPAWN_SETUP = 1, QTFS_SPAWN_CREDENTIALS = 2, QTFS_SPAWN_CWD = 3,
                       QTFS_SPAWN_FILE = 4, QTFS_SPAWN_EXEC = 5 };

/// Forks and execs. The child leads a new session (so its whole process group can be
/// killed), dies with the calling thread (PR_SET_PDEATHSIG), has default signal handling
/// and an empty signal mask, the caller's ids, groups, cwd and umask, and only fds 0-2
/// plus `files`. Returns the pid, or -1 with errno. *report_fd receives the read end of
/// a close-on-exec pipe: EOF means exec succeeded, else two ints (step, errno) follow.
pid_t qtfs_spawn(const struct qtfs_spawn *s, int *report_fd);

/// pidfd_open(2): a descriptor that polls readable when the process exits.
int qtfs_pidfd_open(pid_t pid);

/// A new pseudo-terminal pair (master non-blocking, both close-on-exec) of that size.
int qtfs_openpty(int *master, int *slave, unsigned short rows, unsigned short cols);

/// TIOCSWINSZ on a pty master.
int qtfs_set_winsize(int fd, unsigned short rows, unsigned short cols);
#endif
