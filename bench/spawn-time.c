// spawn-time N PROGRAM [ARGS...]: starts PROGRAM N times, one after another, and prints
// the start-to-exit time of each run's posix_spawn + waitpid as "p50_us p90_us max_us".
// Used by scripts/bench-rexec.sh for local fork+exec, qtfs-rexec and ssh side by side.
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "timing.h"

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: spawn-time N PROGRAM [ARGS...]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    if (n < 1) return 2;
    double *t = calloc(n, sizeof *t);
    for (int i = 0; i < n; i++) {
        pid_t pid;
        int status;
        double start = now_us();
        if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) { perror(argv[2]); return 1; }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn-time: run %d of %s failed (status %#x)\n", i, argv[2], status);
            return 1;
        }
        t[i] = now_us() - start;
    }
    qsort(t, n, sizeof *t, by_value);
    printf("%.0f %.0f %.0f\n", t[n / 2], t[(n * 9) / 10], t[n - 1]);
    return 0;
}
