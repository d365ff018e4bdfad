/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qtfs.ko's transport (req.c, conn.c, sock.c, seal.c, auth.c, stats.c over qtfs_wire.c): a
 * request goes out as a frame on the mount's TCP connection and its answer comes back
 * decoded. Nothing here knows dentries, inodes or files; the file system layer
 * (qtfs.h) sits on top, as fs/9p on net/9p. The two upcalls the transport makes, a
 * change being sent and an event frame arriving, go through handlers their owners
 * register at module init (qtfs_req_on_change, qtfs_conn_on_event).
 */
#ifndef QTFS_TRANSPORT_H
#define QTFS_TRANSPORT_H

#include <linux/completion.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/wait.h>
#include <linux/in.h>
#include <qtfs/qtfs_wire.h>
#include <qtfs/qtfs_genl.h>

/* ---- logging (level set by module parameter or netlink) ---- */
enum { QTFS_LOG_NONE, QTFS_LOG_ERROR, QTFS_LOG_WARN, QTFS_LOG_INFO, QTFS_LOG_DEBUG };
extern int qtfs_log_level;
#define qtfs_err(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_ERROR) pr_err(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_warn(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_WARN) pr_warn(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_info(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_INFO) pr_info(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_err_rl(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_ERROR) pr_err_ratelimited(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_warn_rl(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_WARN) pr_warn_ratelimited(fmt, ##__VA_ARGS__); } while (0)

/* ---- mount options (params.c): the transport reads server, port, timeouts, key ---- */
struct qtfs_opts {
	__be32 server;			/* IPv4, network order */
	u16 port;
	bool server_set, port_set;	/* given explicitly (remount compares only these) */
	bool proc;
	char *local_proc;
	u32 attr_timeout_ms;
	u32 entry_timeout_ms;
	u32 conn_timeout;		/* seconds: connect and handshake */
	u32 req_timeout;		/* seconds, 0 = wait (killably) forever */
	u8 key[QTFS_AUTH_KEY_MAX];	/* key_hex=: authenticate (auth.c); never shown */
	u8 key_len;			/* 0: no key */
	bool noprefetch;		/* no directory prefetch (prefetch.c) */
	bool crypt_none;		/* crypt=none: plaintext frames even with a key */
	bool crypt_set;			/* crypt= given explicitly */
};

/* ---- statistics (stats.c; read over netlink.c) ---- */
#define QTFS_ERRNO_SLOTS	134	/* errno 1..133; slot 0 counts any other value */
struct qtfs_opstat {
	atomic64_t sent, errors, interrupted, lat_ns;
	atomic64_t max_ns;				/* slowest answered request */
	atomic64_t hist[QTFS_HIST_MAX_BUCKETS];	/* answered requests by latency */
	atomic64_t errnos[QTFS_ERRNO_SLOTS];		/* failed requests by errno */
};
extern struct qtfs_opstat qtfs_stats[QTFS_OP_MAX];
void qtfs_stat_answered(u16 op, u64 ns);
void qtfs_stat_failed(u16 op, int err);
void qtfs_stats_clear(void);
extern atomic64_t qtfs_late_replies;
extern atomic64_t qtfs_live_reqs;
extern struct workqueue_struct *qtfs_wq;	/* late releases (req.c) */

/* ---- one connection per mount (conn.c) ---- */
enum qtfs_conn_state { QTFS_CONN_DOWN, QTFS_CONN_UP, QTFS_CONN_DEAD };

/* What MOUNT answered (sock.c), kept by the connection. */
struct qtfs_mount_info {
	u32 export;
	char *base;			/* mounted dir relative to the export root */
	u32 base_len;
	struct qtfs_attr root_attr;
	u32 io_chunk;			/* bytes per READ/WRITE: min(QTFS_IO_CHUNK, server limit) */
	bool quiet_release;		/* the server does not answer RELEASE, RELEASEDIR */
};

struct qtfs_conn {
	const struct qtfs_opts *opts;	/* the mount's (timeouts change on remount) */
	const char *source;		/* host path MOUNT asks for */
	struct qtfs_caller mounter;	/* MOUNT is sent as the mounter, also on reconnect */
	struct mutex setup_lock;	/* serializes connect / teardown */
	struct mutex send_lock;		/* one frame at a time on sock */
	spinlock_t lock;		/* protects reqs, state, gen, mount */
	struct socket *sock;
	struct task_struct *rx;
	struct idr reqs;		/* id -> struct qtfs_req in flight */
	enum qtfs_conn_state state;
	u32 gen;			/* bumped on each (re)connect: handles are per gen */
	struct qtfs_mount_info mount;	/* from the last MOUNT (io_chunk: READ_ONCE) */
	u64 reconnects;
	atomic_t inflight;
	struct qtfs_seal *seal;		/* this connection's keys (seal.c); NULL: plaintext */
	u8 suite;			/* its suite for netlink: 0 plaintext */
	/* who reads answers (rx.c): the rx kthread, or a caller that leads */
	struct mutex rx_lock;		/* held by whoever reads frames from sock */
	struct task_struct *leader;	/* the caller reading now, or NULL */
	wait_queue_head_t rx_wq;	/* the kthread waits here */
	wait_queue_head_t lead_wq;	/* the leader waits here */
	void (*sk_data_ready)(struct sock *sk);	/* the socket's own callbacks, chained */
	void (*sk_state_change)(struct sock *sk);
};

#define QTFS_IO_CHUNK		(256u * 1024u)	/* bytes per READ/WRITE request */

struct qtfs_req {
	struct kref ref;
	struct completion done;
	struct qtfs_conn *conn;
	u64 id;
	u16 op;
	u32 gen;
	bool completed;			/* answered or failed; under conn->lock */
	bool abandoned;			/* waiter gone (signal); under conn->lock */
	bool async;			/* fire and forget: nobody waits */
	int err;			/* transport error, -status, or the answer's decode error */
	u8 *rsp;			/* response payload (kvmalloc) */
	u32 rsp_len;
	struct qtfs_msg out;		/* decoded response (points into rsp) */
	ktime_t start;			/* when it went in flight (conn.c); 0: it never did */
};

/* Whether req went in flight (registered on a connection and counted as sent). */
static inline bool qtfs_req_sent(const struct qtfs_req *req)
{
	return req->start != 0;
}

void qtfs_conn_init(struct qtfs_conn *c, const struct qtfs_opts *opts);
int qtfs_conn_ensure(struct qtfs_conn *c);
void qtfs_conn_destroy(struct qtfs_conn *c);
/*
 * Registers req under a fresh id, counts it sent and sends its frame. gen 0: on the current
 * connection, made first if there is none (qtfs_conn_ensure); else only on generation gen.
 */
int qtfs_conn_submit(struct qtfs_conn *c, struct qtfs_req *req, const struct qtfs_msg *m, u32 gen);
bool qtfs_conn_unregister(struct qtfs_conn *c, struct qtfs_req *req);
/* Reads and handles one frame from c's socket; the reader holds c->rx_lock. */
int qtfs_rx_one(struct qtfs_conn *c, const struct qtfs_hdr *peeked);

/* ---- who reads (rx.c) ---- */
struct sock;
void qtfs_rx_hook(struct qtfs_conn *c, struct socket *sock);
void qtfs_rx_unhook(struct qtfs_conn *c, struct socket *sock);
bool qtfs_rx_readable(struct qtfs_conn *c);
bool qtfs_rx_wanted(struct qtfs_conn *c);
/* Before waiting for req: read answers in this thread while nobody else does. */
void qtfs_conn_lead(struct qtfs_conn *c, struct qtfs_req *req);

/* An event frame of opcode op (server push), handled by the reader: must not block. */
typedef void (*qtfs_event_fn)(struct qtfs_conn *c, const u8 *payload, u32 len);
void qtfs_conn_on_event(u16 op, qtfs_event_fn fn);

/* ---- TCP and the handshake (sock.c) ---- */
struct socket;
struct qtfs_seal;
/* Connects and runs the handshake; *sealp: the connection's keys (NULL: plaintext). */
int qtfs_sock_connect(const struct qtfs_conn *c, struct socket **sockp, struct qtfs_mount_info *mi,
		      struct qtfs_seal **sealp);
/*
 * Sends request req's frame (its message m) on c: built outside c's send lock, sealed and
 * sent under it, and only while c is up in the generation req was registered in.
 */
int qtfs_frame_send_req(struct qtfs_conn *c, const struct qtfs_req *req, const struct qtfs_msg *m);
/* The next frame's header (kept in hdrbuf for unsealing); length checked against seal. */
int qtfs_frame_recv_hdr(struct socket *sock, const struct qtfs_seal *seal, u8 *hdrbuf,
			struct qtfs_hdr *h);
bool qtfs_frame_length_ok(const struct qtfs_seal *seal, const struct qtfs_hdr *h);
/*
 * Its payload (kvmalloc'd, or NULL when empty), opened when sealed: h->length is then the
 * plain length. with_hdr: the header, only peeked so far, is read with it (into hdrbuf).
 */
int qtfs_frame_recv_payload(struct socket *sock, const struct qtfs_conn *c, struct qtfs_seal *seal,
			    u8 *hdrbuf, struct qtfs_hdr *h, u8 **payloadp, bool with_hdr);
int qtfs_sock_send(struct socket *sock, const void *buf, size_t len);
int qtfs_sock_recv(struct socket *sock, void *buf, size_t len);
int qtfs_status_errno(u32 status);

/* ---- sealed frames (seal.c): HKDF session keys and the AEAD of every frame ---- */
u64 qtfs_seal_offer(const struct qtfs_opts *o);
int qtfs_seal_choice(const struct qtfs_opts *o, u64 offered, u64 server_caps);
int qtfs_seal_derive(const u8 *key, unsigned int key_len, u8 suite, const u8 *nc, const u8 *ns,
		     const u8 *ps, const u8 *pc, u8 keys[2][QTFS_AEAD_KEY]);
struct qtfs_seal *qtfs_seal_create(u8 suite, u8 keys[2][QTFS_AEAD_KEY]);
struct qtfs_seal *qtfs_seal_session(const struct qtfs_opts *o, u8 suite, const u8 *nc,
				    const u8 *ns, const u8 *ps, const u8 *pc);
void qtfs_seal_free(struct qtfs_seal *s);
u8 qtfs_seal_suite(const struct qtfs_seal *s);
const char *qtfs_suite_name(u8 suite);
int qtfs_seal_frame(struct qtfs_seal *s, u8 *buf, u32 payload_len);
int qtfs_unseal_frame(struct qtfs_seal *s, const u8 *hdr, u8 *payload, u32 len);
u64 qtfs_seal_rx_counter(const struct qtfs_seal *s);

/* ---- authentication (auth.c): the proofs; sock.c does the exchange ---- */
int qtfs_hmac_sha256(const u8 *key, unsigned int key_len, const u8 *data, size_t len, u8 *out);
int qtfs_auth_policy(const struct qtfs_opts *o, u64 server_caps);
void qtfs_auth_challenge(struct qtfs_msg *m);
int qtfs_auth_prove(const struct qtfs_opts *o, u16 version, const u8 *client_nonce,
		    const struct qtfs_msg *challenge_answer, u8 *our_proof);

/* ---- requests (req.c) ---- */
static inline struct qtfs_msg *qtfs_msg_alloc(void)
{
	return kzalloc(sizeof(struct qtfs_msg), GFP_KERNEL);
}

/* Sends (op, m) and waits killably; on success *reqp holds the answer (put it). */
int qtfs_call(struct qtfs_conn *c, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp);
/* As qtfs_call, for callers that need only the status and the answer's attributes (m->attr). */
int qtfs_call_simple(struct qtfs_conn *c, u16 op, struct qtfs_msg *m);
/* Fire and forget (RELEASE on close, cleanup of abandoned opens). */
void qtfs_call_async(struct qtfs_conn *c, u16 op, u64 handle, u32 gen);
struct qtfs_req *qtfs_req_alloc(struct qtfs_conn *c, u16 op);
void qtfs_req_put(struct qtfs_req *req);
void qtfs_req_finish(struct qtfs_conn *c, struct qtfs_req *req, int err, u8 *rsp, u32 len);
/* Called when a request that changes the host starts and when it ends. */
typedef void (*qtfs_change_fn)(struct qtfs_conn *c);
void qtfs_req_on_change(qtfs_change_fn fn);

#endif /* QTFS_TRANSPORT_H */
