// FUSE over io_uring for a libfuse 3.14 session (FuseUring.c), and the INIT flags libfuse
// 3.14 does not know (the ring, FUSE_HANDLE_KILLPRIV_V2): libfuse still decodes
// requests and calls the operations; the ring entries carry the requests and replies
// instead of read(2)/writev(2) on /dev/fuse, which stays in use for INIT, forgets,
// interrupts, notifications, and everything when the kernel does not offer the ring.
#ifndef QTFS_FUSE_URING_H
#define QTFS_FUSE_URING_H
// No _GNU_SOURCE and no liburing here (see CFuse.h): only FuseUring.c sees them.
#include <stdint.h>

struct fuse_session;

/// level: 0 info, 1 warning. One line, no newline.
typedef void (*qtfs_fuse_uring_log_fn)(int level, const char *line);

/// Call after fuse_session_mount and before the loop: routes the session's /dev/fuse
/// traffic through hooks that accept FUSE_HANDLE_KILLPRIV_V2 in INIT when the kernel offers
/// it and, with `ring`, the ring (when the kernel offers it), then start one queue per
/// possible CPU, `entries_per_queue` threads each, pinned to it.
/// `explicit_request`: -o uring was given, so a refusal is a warning, not an info line.
/// Returns 0 or -errno (then the session is unchanged).
int qtfs_fuse_uring_attach(struct fuse_session *se, int ring, unsigned entries_per_queue, int explicit_request,
                           qtfs_fuse_uring_log_fn log);

/// Stops the queue threads (each returns within about a second) and waits for them, up to
/// `wait_ms`. Call once the session loop has returned.
void qtfs_fuse_uring_stop(unsigned wait_ms);

/// 1 while every queue is registered with the kernel (requests travel through the ring).
int qtfs_fuse_uring_active(void);
/// Requests answered through the ring since the mount.
uint64_t qtfs_fuse_uring_served(void);
/// Queues and entries per queue registered (0 when not active).
unsigned qtfs_fuse_uring_queues(void);

#endif
