// liburing, plus helpers for what Swift cannot import (macros, CQE iteration).
// Each prep helper fetches an SQE (submitting once to make room when the queue is
// full), fills it and sets user_data. They return 0, or -EBUSY when no SQE is free.
#ifndef CQTFS_URING_H
#define CQTFS_URING_H
// liburing.h defines _GNU_SOURCE, which would give this module a different fd_set than
// Swift's Glibc: it is included only by the .c file, and Swift sees an opaque ring.
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct io_uring;

/// Creates a ring with `entries` SQEs: NULL with *err = -errno on failure.
struct io_uring *qtfs_uring_new(unsigned entries, int *err);
/// Tears the ring down and frees it.
void qtfs_uring_exit(struct io_uring *ring);

int qtfs_uring_accept(struct io_uring *ring, int fd, uint64_t ud);
int qtfs_uring_recv(struct io_uring *ring, int fd, void *buf, size_t len, uint64_t ud);
int qtfs_uring_sendmsg(struct io_uring *ring, int fd, const struct msghdr *msg, uint64_t ud);
/// offset (uint64_t)-1 means "current file position" (non-seekable files).
int qtfs_uring_read(struct io_uring *ring, int fd, void *buf, unsigned len, uint64_t off, uint64_t ud);
int qtfs_uring_write(struct io_uring *ring, int fd, const void *buf, unsigned len, uint64_t off, uint64_t ud);
/// One-shot poll: completes with the ready mask (POLLIN, POLLOUT, POLLHUP...) once any of
/// `events` (or an error/hang-up) holds.
int qtfs_uring_poll_add(struct io_uring *ring, int fd, unsigned events, uint64_t ud);
/// Moves up to `nbytes` from `fd_in` (at `off_in`, or -1 for a pipe) into `fd_out` (a pipe
/// or a socket) without copying through user space. A short result is normal.
int qtfs_uring_splice(struct io_uring *ring, int fd_in, int64_t off_in, int fd_out, unsigned nbytes, uint64_t ud);
/// Cancels the request whose user_data is `target` (it completes with -ECANCELED).
int qtfs_uring_cancel(struct io_uring *ring, uint64_t target, uint64_t ud);
/// Completes after `ms` milliseconds (used to retry accept after EMFILE without spinning).
int qtfs_uring_timeout(struct io_uring *ring, unsigned ms, uint64_t ud);
/// Cancels every request in flight (IORING_ASYNC_CANCEL_ANY).
int qtfs_uring_cancel_all(struct io_uring *ring, uint64_t ud);

/// Submits and waits for at least one completion, or until `timeout_ms` (< 0: no timeout).
/// EINTR and ETIME count as success. Returns 0 or -errno.
int qtfs_uring_submit_wait(struct io_uring *ring, int timeout_ms);

/// Copies up to `max` ready completions out (user_data and res) and marks them seen.
/// Replaces io_uring_for_each_cqe, a macro Swift cannot import.
unsigned qtfs_uring_reap(struct io_uring *ring, uint64_t *uds, int32_t *res, unsigned max);

#endif
