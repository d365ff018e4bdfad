/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Generic netlink family "qtfs" (version 1): status, per-op statistics,
 * clearing them, log level. Every command needs CAP_NET_ADMIN
 * (GENL_ADMIN_PERM). Shared by qtfs.ko and userspace (qtinfo, qtfs-nlctl).
 * Documented in kmod/README.md, "Generic netlink family".
 */
#ifndef QTFS_GENL_H
#define QTFS_GENL_H

#define QTFS_GENL_NAME		"qtfs"
#define QTFS_GENL_VERSION	1

enum qtfs_genl_cmd {
	QTFS_CMD_UNSPEC,
	QTFS_CMD_GET_STATUS,	/* reply: LOG_LEVEL, LATE_REPLIES, LIVE_REQUESTS, MOUNT* */
	QTFS_CMD_GET_STATS,	/* reply: OP* (one per opcode that was ever sent) */
	QTFS_CMD_CLEAR_STATS,	/* zero the OP counters and LATE_REPLIES */
	QTFS_CMD_SET_LOG_LEVEL,	/* request: LOG_LEVEL (0..4) */
	__QTFS_CMD_MAX,
};
#define QTFS_CMD_MAX (__QTFS_CMD_MAX - 1)

enum qtfs_genl_attr {
	QTFS_A_UNSPEC,
	QTFS_A_PAD,
	QTFS_A_LOG_LEVEL,	/* u32: 0 none, 1 error, 2 warn, 3 info, 4 debug */
	QTFS_A_LATE_REPLIES,	/* u64: answers that arrived after their waiter left */
	QTFS_A_MOUNT,		/* nested QTFS_A_MOUNT_*, repeated per mount */
	QTFS_A_OP,		/* nested QTFS_A_OP_*, repeated per opcode */
	QTFS_A_LIVE_REQUESTS,	/* u64: request objects allocated now (0 when idle: leak check) */
	__QTFS_A_MAX,
};
#define QTFS_A_MAX (__QTFS_A_MAX - 1)

enum qtfs_genl_mount_attr {
	QTFS_A_MOUNT_UNSPEC,
	QTFS_A_MOUNT_PAD,
	QTFS_A_MOUNT_SOURCE,	/* string: host path given to mount */
	QTFS_A_MOUNT_SERVER,	/* string: "a.b.c.d:port" */
	QTFS_A_MOUNT_STATE,	/* u32: 0 down, 1 up, 2 dead (reconnects on next request) */
	QTFS_A_MOUNT_INFLIGHT,	/* u32: requests waiting for an answer */
	QTFS_A_MOUNT_RECONNECTS,/* u64 */
	QTFS_A_MOUNT_EXPORT,	/* u32: export id from MOUNT */
	QTFS_A_MOUNT_CRYPT,	/* u32: the connection's AEAD suite (QTFS_AEAD_SUITE_*), 0 plaintext */
	__QTFS_A_MOUNT_MAX,
};
#define QTFS_A_MOUNT_MAX (__QTFS_A_MOUNT_MAX - 1)

enum qtfs_genl_op_attr {
	QTFS_A_OP_UNSPEC,
	QTFS_A_OP_PAD,
	QTFS_A_OP_CODE,		/* u32: wire opcode */
	QTFS_A_OP_NAME,		/* string: "lookup", "read"... */
	QTFS_A_OP_SENT,		/* u64: requests sent */
	QTFS_A_OP_ERRORS,	/* u64: answered with an error (ENOENT not counted) or failed */
	QTFS_A_OP_INTERRUPTED,	/* u64: waiter left on a signal or req_timeout */
	QTFS_A_OP_LATENCY_NS,	/* u64: total round-trip time of answered requests */
	QTFS_A_OP_MAX_NS,	/* u64: slowest answered request */
	QTFS_A_OP_FAILED,	/* u64: failed requests, every errno (ENOENT, interrupted too) */
	QTFS_A_OP_HISTOGRAM,	/* binary: u64 (host order) per log2 bucket, see below */
	QTFS_A_OP_ERRNO,	/* nested QTFS_A_ERRNO_*, repeated per errno seen */
	__QTFS_A_OP_MAX,
};
#define QTFS_A_OP_MAX (__QTFS_A_OP_MAX - 1)

/*
 * QTFS_A_OP_HISTOGRAM: element i counts answered requests that took 2^i to
 * 2^(i+1)-1 ns; the last of QTFS_HIST_MAX_BUCKETS also holds anything slower.
 * Trailing empty buckets are left out (absent: nothing answered).
 */
#define QTFS_HIST_MAX_BUCKETS	40

enum qtfs_genl_errno_attr {
	QTFS_A_ERRNO_UNSPEC,
	QTFS_A_ERRNO_PAD,
	QTFS_A_ERRNO_CODE,	/* u32: positive errno; 0 = outside 1..133 */
	QTFS_A_ERRNO_COUNT,	/* u64: failed requests with that errno */
	__QTFS_A_ERRNO_MAX,
};
#define QTFS_A_ERRNO_MAX (__QTFS_A_ERRNO_MAX - 1)

#endif /* QTFS_GENL_H */
