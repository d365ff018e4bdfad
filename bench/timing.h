// Shared by the small timing programs in bench/: a monotonic clock in µs and a qsort
// comparison for the percentiles they print.
#ifndef QTFS_BENCH_TIMING_H
#define QTFS_BENCH_TIMING_H
#include <time.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
#endif
