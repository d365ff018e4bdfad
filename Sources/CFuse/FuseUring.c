// FUSE over io_uring under libfuse 3.14 (see include/FuseUring.h).
//
// Each ring entry has its own thread and its own small ring (IORING_SETUP_SQE128, for the
// 80-byte URING_CMD argument): the thread waits for a request in its entry, rebuilds the
// linear /dev/fuse layout in front of the payload (header + first argument, copied; the
// payload stays in place), hands it to fuse_session_process_buf, and once the reply is in
// the entry commits it and fetches the next request in one COMMIT_AND_FETCH. libfuse writes
// every reply through our writev hook, which finds the entry by the reply's unique; replies
// to requests read from /dev/fuse go there as before. A thread per entry, not per queue,
// keeps the blocking operations (a network round trip each) from serialising a CPU's queue.
#define _GNU_SOURCE
#include <liburing.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/fuse.h>
#include "CFuse.h"
#include "FuseUring.h"
#include "fuse_uring_abi.h"

// Room in front of the payload for fuse_in_header and the largest first argument.
#define FRONT (sizeof(struct fuse_in_header) + QTFS_FUSE_URING_OP_IN_OUT_SZ)
// Entries in all queues at most. A queue starts with entries_per_queue and gets one more
// whenever a request takes its last idle entry: a request holds its entry until answered,
// and some wait long (a blocked fifo read is answered when the host writes), so a fixed
// number would let a few hundred blocked readers stall every other caller on that CPU.
#define MAX_ENTRIES 1024

struct entry {
    struct io_uring ring;
    pthread_t thread;
    unsigned qid;
    struct iovec iov[2];                     // header buffer, payload: given at REGISTER
    struct qtfs_fuse_uring_req_header *hdr;
    char *buf;                               // FRONT bytes, then the payload buffer
    _Atomic uint64_t unique;                 // the request being answered; 0: none
    pthread_mutex_t lock;
    pthread_cond_t replied_cond;
    int replied;
    int spare;                               // added by a queue growing, not at the start
};

static struct {
    struct fuse_session *se;
    int fd;
    unsigned per_queue, queues, initial;
    int explicit_request;
    qtfs_fuse_uring_log_fn log;
    uint64_t init_unique;
    int ring_wanted;                         // -o uring (the default)
    int kernel_offers;
    int kernel_killpriv_v2;                  // the kernel offered FUSE_HANDLE_KILLPRIV_V2
    size_t payload_size;
    struct entry *slots[MAX_ENTRIES];
    _Atomic unsigned count;                  // slots in use
    _Atomic int *idle;                       // per queue: entries waiting for a request
    _Atomic int registered, failed, stopping, active, started;
    _Atomic uint64_t served;
} g;

static __thread struct entry *current_entry;

static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g.log) g.log(level, line);
}

/// The kernel makes one queue per possible CPU and routes a request to its caller's CPU.
static unsigned possible_cpus(void) {
    FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
    unsigned lo = 0, hi = 0;
    int n = f ? fscanf(f, "%u-%u", &lo, &hi) : 0;
    if (f) fclose(f);
    if (n == 2) return hi + 1;
    if (n == 1) return lo + 1;
    return (unsigned)get_nprocs_conf();
}

static size_t iov_total(const struct iovec *iov, int count) {
    size_t n = 0;
    for (int i = 0; i < count; i++) n += iov[i].iov_len;
    return n;
}

/// Copies the iovecs, skipping their first `skip` bytes, to `dst` (room for `room`).
static size_t gather(char *dst, size_t room, const struct iovec *iov, int count, size_t skip) {
    size_t n = 0;
    for (int i = 0; i < count; i++) {
        const char *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;
        if (skip >= len) { skip -= len; continue; }
        p += skip; len -= skip; skip = 0;
        if (len > room - n) len = room - n;
        memcpy(dst + n, p, len);
        n += len;
    }
    return n;
}

// ---- the /dev/fuse hooks ----

// While the ring serves requests, /dev/fuse brings only FORGETs and INTERRUPTs. A forget
// comes for every inode the kernel drops (an unlink or rm -r drops one per file), and each
// would wake a reading thread of its own; so one thread reads at a time, at most every
// FORGET_GATHER_US, and the kernel hands over the forgets gathered meanwhile in one
// BATCH_FORGET (unlink through the ring measured 10 % faster). An interrupt waits that
// long at most.
#define FORGET_GATHER_US 10000

static ssize_t read_gathered(int fd, void *buf, size_t len) {
    static pthread_mutex_t one_reader = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&one_reader);
    if (!fuse_session_exited(g.se)) usleep(FORGET_GATHER_US);
    ssize_t n = read(fd, buf, len);
    pthread_mutex_unlock(&one_reader);
    return n;
}

static ssize_t dev_read(int fd, void *buf, size_t len, void *userdata) {
    (void)userdata;
    ssize_t n = atomic_load(&g.active) ? read_gathered(fd, buf, len) : read(fd, buf, len);
    const struct fuse_in_header *in = buf;
    if (n >= (ssize_t)(sizeof *in + offsetof(struct fuse_init_in, unused)) && in->opcode == FUSE_INIT) {
        const struct fuse_init_in *arg = (const void *)(in + 1);
        g.init_unique = in->unique;
        g.kernel_offers = (arg->flags & FUSE_INIT_EXT) && (arg->flags2 & QTFS_FUSE_OVER_IO_URING_FLAGS2);
        g.kernel_killpriv_v2 = (arg->flags & FUSE_HANDLE_KILLPRIV_V2) != 0;
    }
    return n;
}

static void start_queues(void);
static int add_entry(unsigned qid);

/// Accepts in libfuse's INIT reply what libfuse 3.14 does not know: the ring, when wanted
/// and offered (noting the sizes the kernel will require of each entry's payload buffer),
/// and FUSE_HANDLE_KILLPRIV_V2, so the kernel does not read security.capability before
/// every write(2) nor clear setid bits with a chmod as the writer: the host's own write
/// removes a capability, and the server clears setid bits (Backend.dropSetIdAfterWrite).
static ssize_t init_reply(int fd, struct iovec *iov, int count) {
    char msg[sizeof(struct fuse_out_header) + sizeof(struct fuse_init_out)] = {0};
    size_t total = iov_total(iov, count);
    if (total > sizeof msg || total < sizeof msg - sizeof(uint32_t) * 7) return writev(fd, iov, count);
    gather(msg, sizeof msg, iov, count, 0);
    struct fuse_out_header *out = (void *)msg;
    struct fuse_init_out *arg = (void *)(out + 1);
    int accept = out->error == 0 && g.ring_wanted && g.kernel_offers;
    if (out->error == 0 && g.kernel_killpriv_v2) arg->flags |= FUSE_HANDLE_KILLPRIV_V2;
    if (accept) {
        arg->flags |= FUSE_INIT_EXT;
        arg->flags2 |= QTFS_FUSE_OVER_IO_URING_FLAGS2;
        size_t pages = (size_t)(arg->max_pages ? arg->max_pages : 1) * (size_t)sysconf(_SC_PAGESIZE);
        size_t size = arg->max_write > pages ? arg->max_write : pages;
        g.payload_size = size > FUSE_MIN_READ_BUFFER ? size : FUSE_MIN_READ_BUFFER;
    }
    ssize_t n = write(fd, msg, total);
    if (n < 0) return n;
    if (accept) start_queues();
    else if (g.ring_wanted) say(g.explicit_request, "FUSE over io_uring: the kernel did not offer it (enable it with `echo Y > "
             "/sys/module/fuse/parameters/enable_uring` before mounting); requests go through /dev/fuse");
    return n;
}

static struct entry *entry_for(uint64_t unique) {
    struct entry *e = current_entry;
    if (e && atomic_load_explicit(&e->unique, memory_order_acquire) == unique) return e;
    unsigned n = atomic_load(&g.count);
    for (unsigned i = 0; i < n; i++)
        if (atomic_load_explicit(&g.slots[i]->unique, memory_order_acquire) == unique) return g.slots[i];
    return NULL;
}

/// A reply to a ring request: header to the entry's header buffer, the rest to its payload.
static ssize_t ring_reply(struct entry *e, struct iovec *iov, int count) {
    size_t total = iov_total(iov, count);
    size_t oh = sizeof(struct fuse_out_header);
    if (total < oh || total - oh > g.payload_size) { errno = EINVAL; return -1; }
    gather(e->hdr->in_out, oh, iov, count, 0);
    gather(e->buf + FRONT, g.payload_size, iov, count, oh);
    e->hdr->ring_ent_in_out.payload_sz = (uint32_t)(total - oh);
    pthread_mutex_lock(&e->lock);
    e->replied = 1;
    pthread_cond_signal(&e->replied_cond);
    pthread_mutex_unlock(&e->lock);
    return (ssize_t)total;
}

static ssize_t dev_writev(int fd, struct iovec *iov, int count, void *userdata) {
    (void)userdata;
    const struct fuse_out_header *out = iov[0].iov_base;
    if (iov[0].iov_len >= sizeof *out && out->unique != 0) {
        struct entry *e = entry_for(out->unique);
        if (e) return ring_reply(e, iov, count);
        if (out->unique == g.init_unique) return init_reply(fd, iov, count);
    }
    return writev(fd, iov, count);
}

// ---- one ring entry ----

static void prep_cmd(struct entry *e, uint32_t op, uint64_t commit_id) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);   // never NULL: one in flight
    memset(sqe, 0, 2 * sizeof *sqe);                          // SQE128: the cmd area too
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = g.fd;
    sqe->cmd_op = op;
    if (op == QTFS_FUSE_IO_URING_CMD_REGISTER) {
        sqe->addr = (uint64_t)(uintptr_t)e->iov;
        sqe->len = 2;
    }
    struct qtfs_fuse_uring_cmd_req *req = (void *)sqe->cmd;
    req->qid = (uint16_t)e->qid;
    req->commit_id = commit_id;
}

/// Submits what is queued and waits for the entry's completion; a second's timeout lets
/// the thread see a stop request. Returns the completion's result, or -ETIME.
static int submit_wait(struct entry *e, int submit) {
    struct __kernel_timespec ts = {.tv_sec = 1};
    struct io_uring_cqe *cqe = NULL;
    int r = submit ? io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1, &ts, NULL)
                   : io_uring_wait_cqe_timeout(&e->ring, &cqe, &ts);
    if (r < 0 && r != -ETIME && r != -EINTR) return r;
    if (!cqe) return -ETIME;
    int res = cqe->res;
    io_uring_cqe_seen(&e->ring, cqe);
    return res;
}

/// Rebuilds the request as read(2) on /dev/fuse would have returned it and lets libfuse
/// run it; returns once the reply is in the entry (the operation may answer later, from
/// another thread).
static void serve_request(struct entry *e) {
    struct fuse_in_header *in = (void *)e->hdr->in_out;
    uint32_t payload = e->hdr->ring_ent_in_out.payload_sz;
    size_t first = in->len >= sizeof *in + payload ? in->len - sizeof *in - payload : SIZE_MAX;
    if (first > QTFS_FUSE_URING_OP_IN_OUT_SZ || payload > g.payload_size) {
        struct fuse_out_header *out = (void *)e->hdr->in_out;
        uint64_t unique = in->unique;
        say(1, "FUSE over io_uring: malformed ring request (opcode %u, len %u, payload %u): answered EIO",
            in->opcode, in->len, payload);
        *out = (struct fuse_out_header){.len = sizeof *out, .error = -EIO, .unique = unique};
        e->hdr->ring_ent_in_out.payload_sz = 0;
        return;
    }
    char *start = e->buf + FRONT - first - sizeof *in;
    memcpy(start, in, sizeof *in);
    memcpy(start + sizeof *in, e->hdr->op_in, first);
    struct fuse_buf fb = {.size = sizeof *in + first + payload, .mem = start};
    e->replied = 0;
    atomic_store_explicit(&e->unique, in->unique, memory_order_release);
    fuse_session_process_buf(g.se, &fb);
    pthread_mutex_lock(&e->lock);
    while (!e->replied) pthread_cond_wait(&e->replied_cond, &e->lock);
    pthread_mutex_unlock(&e->lock);
    atomic_store_explicit(&e->unique, 0, memory_order_release);
}

static void pin(unsigned cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);   // an offline CPU: stays unpinned
}

static void note_active(void) {
    if (atomic_fetch_add(&g.registered, 1) + 1 == (int)g.initial && !atomic_load(&g.failed)) {
        atomic_store(&g.active, 1);
        say(0, "FUSE over io_uring: %u queues of %u entries registered; requests go through the ring",
            g.queues, g.per_queue);
    }
}

/// The kernel holds every request back until each CPU's queue has an entry; when ours cannot
/// all register, a REGISTER for a queue that does not exist makes it give up the ring for
/// this connection and send everything through /dev/fuse.
static void give_up_ring(void) {
    struct entry probe = {.qid = UINT16_MAX};
    if (io_uring_queue_init(2, &probe.ring, IORING_SETUP_SQE128) < 0) return;
    prep_cmd(&probe, QTFS_FUSE_IO_URING_CMD_REGISTER, 0);
    struct io_uring_cqe *cqe = NULL;
    if (io_uring_submit_and_wait(&probe.ring, 1) >= 0 && io_uring_peek_cqe(&probe.ring, &cqe) == 0)
        io_uring_cqe_seen(&probe.ring, cqe);
    io_uring_queue_exit(&probe.ring);
}

static void note_failure(const char *what, int err) {
    if (atomic_load(&g.active)) {   // a queue growing: it keeps the entries it has
        say(1, "FUSE over io_uring: %s failed (%s) while adding an entry", what, strerror(-err));
        return;
    }
    if (atomic_exchange(&g.failed, 1) == 0) {
        give_up_ring();
        say(1, "FUSE over io_uring: %s failed (%s); requests go through /dev/fuse", what, strerror(-err));
    }
    atomic_store(&g.active, 0);
}

/// REGISTER; a refusal comes back at once, an accepted entry completes only with its
/// first request. Returns that completion's result, or -ETIME while waiting.
static int register_entry(struct entry *e) {
    prep_cmd(e, QTFS_FUSE_IO_URING_CMD_REGISTER, 0);
    int r = io_uring_submit(&e->ring);
    if (r < 0) return r;
    struct io_uring_cqe *cqe = NULL;
    if (io_uring_peek_cqe(&e->ring, &cqe) == 0 && cqe) {
        int res = cqe->res;
        io_uring_cqe_seen(&e->ring, cqe);
        if (res < 0) return res;
        note_active();
        return res;
    }
    note_active();
    return -ETIME;
}

/// Made on the thread that uses it: SINGLE_ISSUER binds the ring to its creator, and with
/// DEFER_TASKRUN the kernel hands a request to the entry when the thread waits for it,
/// instead of interrupting the thread wherever it is (and the kernel may lack both).
static int make_ring(struct entry *e) {
    unsigned fast = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int r = io_uring_queue_init(4, &e->ring, fast);
    return r == -EINVAL ? io_uring_queue_init(4, &e->ring, IORING_SETUP_SQE128) : r;
}

/// A failed REGISTER of one of the first entries (at once or, when the kernel finished it
/// later, as the first completion) leaves the connection on /dev/fuse.
static void registration_failed(struct entry *e, int err) {
    atomic_fetch_sub(&g.idle[e->qid], 1);
    if (!e->spare) atomic_store(&g.active, 0);
    note_failure("registering the ring entries", err);
}

/// Waits for requests in the entry and answers them until the connection or the ring ends.
static int serve_entry(struct entry *e, int res) {
    int served_any = 0;
    while (!atomic_load(&g.stopping)) {
        if (res == -ETIME) { res = submit_wait(e, 0); continue; }
        if (res < 0) break;   // -ENOTCONN: unmounted; -ECANCELED: ring closing
        if (atomic_fetch_sub(&g.idle[e->qid], 1) == 1 && !atomic_load(&g.stopping)) add_entry(e->qid);
        serve_request(e);
        served_any = 1;
        atomic_fetch_add_explicit(&g.served, 1, memory_order_relaxed);
        prep_cmd(e, QTFS_FUSE_IO_URING_CMD_COMMIT_AND_FETCH, e->hdr->ring_ent_in_out.commit_id);
        atomic_fetch_add(&g.idle[e->qid], 1);
        res = submit_wait(e, 1);
    }
    if (res >= 0 || res == -ETIME || res == -ENOTCONN || res == -ECANCELED || atomic_load(&g.stopping)) return 0;
    if (served_any) note_failure("a ring commit", res);
    else registration_failed(e, res);
    return res;
}

static void *entry_thread(void *arg) {
    struct entry *e = arg;
    current_entry = e;
    pin(e->qid);
    int res = make_ring(e);
    if (res < 0) {
        note_failure("creating a ring", res);
        return NULL;
    }
    atomic_fetch_add(&g.idle[e->qid], 1);
    res = register_entry(e);
    if (res < 0 && res != -ETIME) registration_failed(e, res);
    else serve_entry(e, res);
    io_uring_queue_exit(&e->ring);
    return NULL;
}

// ---- setup and teardown ----

static int setup_entry(struct entry *e, unsigned qid) {
    e->qid = qid;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->replied_cond, NULL);
    if (posix_memalign((void **)&e->hdr, 64, sizeof *e->hdr) || posix_memalign((void **)&e->buf, 4096, FRONT + g.payload_size))
        return -ENOMEM;
    memset(e->hdr, 0, sizeof *e->hdr);
    e->iov[0] = (struct iovec){.iov_base = e->hdr, .iov_len = sizeof *e->hdr};
    e->iov[1] = (struct iovec){.iov_base = e->buf + FRONT, .iov_len = g.payload_size};
    return 0;
}

/// One more entry (and its thread) for queue qid; 0 or -errno.
static int add_entry(unsigned qid) {
    static pthread_mutex_t adding = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&adding);
    unsigned i = atomic_load(&g.count);
    struct entry *e = i < MAX_ENTRIES ? calloc(1, sizeof *e) : NULL;
    int r = e ? setup_entry(e, qid) : -ENOSPC;
    if (e) e->spare = i >= g.initial;
    if (r == 0) {
        g.slots[i] = e;
        r = -pthread_create(&e->thread, NULL, entry_thread, e);
        if (r == 0) atomic_store(&g.count, i + 1);
    }
    pthread_mutex_unlock(&adding);
    return r;
}

/// Runs on the thread that wrote the INIT reply: the kernel has the connection's sizes now
/// (a REGISTER before that is refused with EAGAIN).
static void start_queues(void) {
    if (atomic_exchange(&g.started, 1)) return;
    g.queues = possible_cpus();
    if (g.queues * g.per_queue > MAX_ENTRIES / 2) g.per_queue = MAX_ENTRIES / 2 / g.queues;
    g.initial = g.queues * g.per_queue;
    g.idle = calloc(g.queues, sizeof *g.idle);
    if (!g.idle || g.per_queue == 0) { note_failure("allocating the ring queues", -ENOMEM); return; }
    for (unsigned i = 0; i < g.initial && !atomic_load(&g.failed); i++) {
        int r = add_entry(i / g.per_queue);
        if (r < 0) note_failure("starting the ring entries", r);
    }
}

int qtfs_fuse_uring_attach(struct fuse_session *se, int ring, unsigned entries_per_queue, int explicit_request,
                           qtfs_fuse_uring_log_fn log) {
    static const struct fuse_custom_io io = {.writev = dev_writev, .read = dev_read};
    g.se = se;
    g.ring_wanted = ring;
    g.fd = fuse_session_fd(se);
    g.per_queue = entries_per_queue ? entries_per_queue : 1;
    g.explicit_request = explicit_request;
    g.log = log;
    return fuse_session_custom_io(se, &io, g.fd);
}

void qtfs_fuse_uring_stop(unsigned wait_ms) {
    atomic_store(&g.stopping, 1);
    atomic_store(&g.active, 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    unsigned n = atomic_load(&g.count);
    for (unsigned i = 0; i < n; i++) pthread_timedjoin_np(g.slots[i]->thread, NULL, &deadline);
}

int qtfs_fuse_uring_active(void) { return atomic_load(&g.active); }
uint64_t qtfs_fuse_uring_served(void) { return atomic_load_explicit(&g.served, memory_order_relaxed); }
unsigned qtfs_fuse_uring_queues(void) { return atomic_load(&g.active) ? g.queues : 0; }
