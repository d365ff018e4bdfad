// SPDX-License-Identifier: GPL-2.0
/*
 * Per-opcode request statistics, read over generic netlink (netlink.c).
 * Recording is a few atomic64 additions: no lock, no allocation on the request
 * path. Latencies go into log2 buckets laid out as qtinfo's OpCounters
 * (Sources/QtfsControl/OpStats.swift): bucket i counts [2^i, 2^(i+1)) ns, the
 * last one anything slower, so qtinfo computes p50/p99 the same way for all.
 */
#include <linux/bitops.h>
#include "transport.h"

struct qtfs_opstat qtfs_stats[QTFS_OP_MAX];

static unsigned int qtfs_hist_bucket(u64 ns)
{
	return ns ? min_t(unsigned int, QTFS_HIST_MAX_BUCKETS - 1, fls64(ns) - 1) : 0;
}

/* A request of op got its answer (success or the server's error) after ns. */
void qtfs_stat_answered(u16 op, u64 ns)
{
	struct qtfs_opstat *s = &qtfs_stats[op];
	s64 seen = atomic64_read(&s->max_ns);

	atomic64_add(ns, &s->lat_ns);
	atomic64_inc(&s->hist[qtfs_hist_bucket(ns)]);
	/* Only a new maximum pays for the compare-exchange loop. */
	while ((u64)seen < ns && !atomic64_try_cmpxchg(&s->max_ns, &seen, ns))
		;
}

/* A request of op failed with err (negative errno: the server's or our own). */
void qtfs_stat_failed(u16 op, int err)
{
	int e = -err;

	atomic64_inc(&qtfs_stats[op].errnos[e > 0 && e < QTFS_ERRNO_SLOTS ? e : 0]);
}

/* A request completing meanwhile may be counted in some fields and not others. */
void qtfs_stats_clear(void)
{
	struct qtfs_opstat *s;
	int i;

	for (s = qtfs_stats; s < qtfs_stats + QTFS_OP_MAX; s++) {
		atomic64_set(&s->sent, 0);
		atomic64_set(&s->errors, 0);
		atomic64_set(&s->interrupted, 0);
		atomic64_set(&s->lat_ns, 0);
		atomic64_set(&s->max_ns, 0);
		for (i = 0; i < QTFS_HIST_MAX_BUCKETS; i++)
			atomic64_set(&s->hist[i], 0);
		for (i = 0; i < QTFS_ERRNO_SLOTS; i++)
			atomic64_set(&s->errnos[i], 0);
	}
}
