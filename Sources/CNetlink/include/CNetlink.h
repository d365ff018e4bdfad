// Client of the qtfs.ko generic netlink family "qtfs" (include/qtfs/qtfs_genl.h), for qtinfo
// and kmod/tools/qtfs-nlctl. libnl stays inside qtfs_nl.c: this header is plain C.
#ifndef CNETLINK_H
#define CNETLINK_H

#include <stdint.h>

enum qtfs_nl_result {
    QTFS_NL_OK = 0,
    QTFS_NL_NO_SOCKET = 1,   // cannot open a generic netlink socket
    QTFS_NL_NO_FAMILY = 2,   // family "qtfs" unknown: qtfs.ko is not loaded
    QTFS_NL_DENIED = 3,      // the kernel refused: CAP_NET_ADMIN is needed
    QTFS_NL_FAILED = 4,      // anything else; see error
};

struct qtfs_nl_mount {
    char source[4096];
    char server[64];
    uint32_t state;          // 0 down, 1 up, 2 dead
    uint32_t inflight;
    uint32_t export_id;
    uint64_t reconnects;
    uint32_t crypt;          // the connection's AEAD suite: 0 plaintext, 1 AES-256-GCM, 2 ChaCha20-Poly1305
};

#define QTFS_NL_HIST_BUCKETS 40    // QTFS_HIST_MAX_BUCKETS of include/qtfs/qtfs_genl.h
#define QTFS_NL_ERRNO_SLOTS 134    // errno 1..133; slot 0: any other value

struct qtfs_nl_op {
    uint32_t code;
    char name[32];
    uint64_t sent;
    uint64_t errors;         // failed other than ENOENT (interrupted included)
    uint64_t interrupted;
    uint64_t latency_ns;
    // From modules that send them (has_detail): slowest answer, all failures,
    // log2 latency histogram of answered requests, failures by errno.
    int has_detail;
    uint64_t max_ns;
    uint64_t failed;
    uint64_t histogram[QTFS_NL_HIST_BUCKETS];
    uint64_t errnos[QTFS_NL_ERRNO_SLOTS];
};

struct qtfs_nl_reply {
    int has_status;          // log_level, late_replies, live_requests are set
    uint32_t log_level;
    uint64_t late_replies;
    uint64_t live_requests;
    uint32_t mount_count;
    struct qtfs_nl_mount *mounts;
    uint32_t op_count;
    struct qtfs_nl_op *ops;
    char error[160];
};

// Each call fills *out (free it with qtfs_nl_reply_free, whatever the result).
enum qtfs_nl_result qtfs_nl_get_status(struct qtfs_nl_reply *out);
enum qtfs_nl_result qtfs_nl_get_stats(struct qtfs_nl_reply *out);
enum qtfs_nl_result qtfs_nl_clear_stats(struct qtfs_nl_reply *out);
enum qtfs_nl_result qtfs_nl_set_log_level(uint32_t level, struct qtfs_nl_reply *out);
void qtfs_nl_reply_free(struct qtfs_nl_reply *out);

#endif
