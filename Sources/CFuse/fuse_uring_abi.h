// The FUSE-over-io_uring part of the kernel's FUSE interface, which Debian 12's
// <linux/fuse.h> (protocol 7.38, Linux 6.1) predates. Declared from the kernel uapi
// include/uapi/linux/fuse.h of protocol 7.42 (Linux 6.14, where FUSE_OVER_IO_URING
// appeared); the layouts are checked against fs/fuse/dev_uring.c of Linux 6.18.
// Private to FuseUring.c: the Swift module never sees it.
#ifndef QTFS_FUSE_URING_ABI_H
#define QTFS_FUSE_URING_ABI_H
#include <stdint.h>

/// INIT flag (bit 41 of the 64-bit flags, so bit 9 of flags2): the kernel offers the ring
/// in FUSE_INIT's flags2 when /sys/module/fuse/parameters/enable_uring is Y; the daemon
/// accepts by setting it in its reply.
#define QTFS_FUSE_OVER_IO_URING_FLAGS2 (1u << (41 - 32))

/// Sizes of the two fixed areas at the start of each ring entry's header buffer.
#define QTFS_FUSE_URING_IN_OUT_HEADER_SZ 128
#define QTFS_FUSE_URING_OP_IN_OUT_SZ 128

/// The last part of the header buffer: written by the kernel with a request, by the
/// daemon with its reply.
struct qtfs_fuse_uring_ent_in_out {
    uint64_t flags;
    uint64_t commit_id;   // the request's unique, echoed in the commit command
    uint32_t payload_sz;  // bytes used in the payload buffer, in either direction
    uint32_t padding;
    uint64_t reserved;
};

/// iov[0] of a REGISTER: fuse_in_header (request) or fuse_out_header (reply) in in_out;
/// the request's first argument (its fixed per-opcode struct, or nothing) in op_in. Every
/// further argument, and every reply argument, travels in the payload buffer (iov[1]).
struct qtfs_fuse_uring_req_header {
    char in_out[QTFS_FUSE_URING_IN_OUT_HEADER_SZ];
    char op_in[QTFS_FUSE_URING_OP_IN_OUT_SZ];
    struct qtfs_fuse_uring_ent_in_out ring_ent_in_out;
};

/// sqe->cmd_op of an IORING_OP_URING_CMD on /dev/fuse.
enum {
    QTFS_FUSE_IO_URING_CMD_REGISTER = 1,          // hand an entry's buffers to queue qid
    QTFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,  // answer commit_id, wait for the next request
};

/// The command's argument, in the 80-byte cmd area of a 128-byte SQE.
struct qtfs_fuse_uring_cmd_req {
    uint64_t flags;
    uint64_t commit_id;
    uint16_t qid;
    uint8_t padding[6];
};

_Static_assert(sizeof(struct qtfs_fuse_uring_ent_in_out) == 32, "fuse_uring_ent_in_out is 32 bytes");
_Static_assert(sizeof(struct qtfs_fuse_uring_req_header) == 288, "fuse_uring_req_header is 288 bytes");
_Static_assert(sizeof(struct qtfs_fuse_uring_cmd_req) == 24, "fuse_uring_cmd_req is 24 bytes");

#endif
