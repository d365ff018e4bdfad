// run-calls N LOCAL_DIR QTFS_SOCKET: times system calls a daemon under qtfs-run makes, N of
// each, and prints one line per kind: "NAME p50_us p90_us". Run it directly and under
// qtfs-run (scripts/bench-qtfs-run.sh) to see what the seccomp filter and the supervisor add:
//   untouched     getppid(): not in the filter's list
//   inet-connect  connect() of a TCP socket to a closed loopback port: stopped, let through
//   local-unix    connect() to a unix socket path in LOCAL_DIR (nothing listens): stopped,
//                 its path resolved, found local, let through
//   local-mount   mount() of a tmpfs on LOCAL_DIR/m and umount2(): both stopped, resolved,
//                 run on this side
//   host-unix     connect() to QTFS_SOCKET, a host socket under a qtfs mount, then close():
//                 connected through the host (a new server connection each time); skipped
//                 when QTFS_SOCKET is "-" (without qtfs-run the kernel refuses such a connect)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

static int n;
static const char *local_dir, *host_socket;

static int unix_connect(const char *path) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc;
}

static int untouched(void) { return getppid() > 0 ? 0 : -1; }

static int inet_connect(void) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc == 0 ? -1 : 0;   // port 1 is closed: refused is the expected outcome
}

static int local_unix(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/nobody-listens", local_dir);
    return unix_connect(path) == 0 ? -1 : 0;
}

static int local_mount(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/m", local_dir);
    if (mount("bench", path, "tmpfs", 0, "size=64k") != 0) return -1;
    return umount2(path, 0);
}

static int host_unix(void) { return unix_connect(host_socket); }

static void run(const char *name, int (*call)(void)) {
    double *t = calloc(n, sizeof *t);
    for (int i = 0; i < n; i++) {
        double start = now_us();
        if (call() != 0) { fprintf(stderr, "run-calls: %s failed: %m\n", name); exit(1); }
        t[i] = now_us() - start;
    }
    qsort(t, n, sizeof *t, by_value);
    printf("%s %.1f %.1f\n", name, t[n / 2], t[(n * 9) / 10]);
    free(t);
}

int main(int argc, char **argv) {
    if (argc != 4 || (n = atoi(argv[1])) < 1) {
        fprintf(stderr, "usage: run-calls N LOCAL_DIR QTFS_SOCKET\n");
        return 2;
    }
    local_dir = argv[2], host_socket = argv[3];
    char m[4096];
    snprintf(m, sizeof m, "%s/m", local_dir);
    mkdir(m, 0755);
    run("untouched", untouched);
    run("inet-connect", inet_connect);
    run("local-unix", local_unix);
    run("local-mount", local_mount);
    if (strcmp(host_socket, "-") != 0) run("host-unix", host_unix);
    return 0;
}
