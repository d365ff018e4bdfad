/* SPDX-License-Identifier: GPL-2.0 */
/* qtfs.ko internal declarations. */
#ifndef QTFS_H
#define QTFS_H

#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/version.h>
#include <linux/atomic.h>
#include <linux/fs_parser.h>
#include <linux/uio.h>
#include <linux/in.h>
#include <qtfs/qtfs_wire.h>
#include <qtfs/qtfs_genl.h>

#define QTFS_SUPER_MAGIC	0x51544653	/* "QTFS" */
#define QTFS_IO_CHUNK		(256u * 1024u)	/* bytes per READ/WRITE request */
#define QTFS_READDIR_BYTES	(32u * 1024u)
#define QTFS_OPEN_READ_MAX	(64u * 1024u)	/* content asked for with OPEN_READ */

/* Kernel API points that moved; see README.md "Supported kernels". */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define QTFS_IDMAP		struct mnt_idmap
#define QTFS_NO_IDMAP		(&nop_mnt_idmap)
#else
#define QTFS_IDMAP		struct user_namespace
#define QTFS_NO_IDMAP		(&init_user_ns)
#endif

/* ---- logging (level set by module parameter or netlink) ---- */
enum { QTFS_LOG_NONE, QTFS_LOG_ERROR, QTFS_LOG_WARN, QTFS_LOG_INFO, QTFS_LOG_DEBUG };
extern int qtfs_log_level;
#define qtfs_err(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_ERROR) pr_err(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_warn(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_WARN) pr_warn(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_info(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_INFO) pr_info(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_err_rl(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_ERROR) pr_err_ratelimited(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_warn_rl(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_WARN) pr_warn_ratelimited(fmt, ##__VA_ARGS__); } while (0)
#define qtfs_dbg(fmt, ...) do { if (qtfs_log_level >= QTFS_LOG_DEBUG) pr_info(fmt, ##__VA_ARGS__); } while (0)

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

/* ---- mount options (params.c) ---- */
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
};
#define QTFS_DEF_ATTR_MS	1000
#define QTFS_DEF_ENTRY_MS	1000
#define QTFS_DEF_CONN_TIMEOUT	10
#define QTFS_DEF_REQ_TIMEOUT	0
#define QTFS_DEF_SERVER		htonl(INADDR_LOOPBACK)	/* as qtfs-fuse */
#define QTFS_DEF_LOCAL_PROC	"/local_proc"

/* ---- directory prefetch (prefetch.c) ---- */
struct qtfs_sb;
#define QTFS_SNAP_SLOTS		4	/* directories with a listing or a miss count, per mount */

struct qtfs_snap_ent {
	u32 hash;
	u16 name_len;
	bool usable;			/* has attributes, not a pseudo file */
	const char *name;		/* into the snapshot's names */
	struct qtfs_attr attr;
};

struct qtfs_snap {
	u64 hdev, hino;			/* the directory; hino 0: free slot */
	unsigned long first_miss, fetched;	/* jiffies; fetched 0: no listing */
	u32 misses;
	bool fetching;
	s64 gen;			/* sbi change generation the listing belongs to */
	kuid_t uid;
	kgid_t gid;
	struct group_info *groups;
	u32 count;
	struct qtfs_snap_ent *ents;	/* sorted by (hash, name) */
	char *names;
};

void qtfs_prefetch_changed(struct qtfs_sb *sbi, u16 op, const struct qtfs_msg *m);
int qtfs_prefetch_lookup(struct inode *dir, struct dentry *d, struct qtfs_attr *a);
void qtfs_prefetch_destroy(struct qtfs_sb *sbi);

/* ---- authentication (auth.c) ---- */
struct socket;
typedef int (*qtfs_handshake_fn)(struct socket *sock, u16 op, u64 id, struct qtfs_msg *m,
				 u8 **rsp, struct qtfs_msg *out);
int qtfs_auth_hmac(const u8 *key, unsigned int key_len, const u8 *data, size_t len, u8 *out);
int qtfs_auth_policy(const struct qtfs_opts *o, u64 server_caps);
int qtfs_authenticate(struct socket *sock, const struct qtfs_opts *o, u16 version,
		      struct qtfs_msg *m, struct qtfs_msg *out, qtfs_handshake_fn call);

extern const struct fs_parameter_spec qtfs_param_specs[];
int qtfs_parse_param(struct fs_context *fc, struct fs_parameter *param);
int qtfs_show_options(struct seq_file *m, struct dentry *root);
void qtfs_opts_free(struct qtfs_opts *o);

/* ---- connection (conn.c) and requests (req.c) ---- */
enum qtfs_conn_state { QTFS_CONN_DOWN, QTFS_CONN_UP, QTFS_CONN_DEAD };

struct qtfs_conn {
	struct qtfs_sb *sbi;
	struct mutex setup_lock;	/* serializes connect / teardown */
	struct mutex send_lock;		/* one frame at a time on sock */
	spinlock_t lock;		/* protects reqs, state, gen, export, base */
	struct socket *sock;
	struct task_struct *rx;
	struct idr reqs;		/* id -> struct qtfs_req in flight */
	enum qtfs_conn_state state;
	u32 gen;			/* bumped on each (re)connect: handles are per gen */
	u32 export;			/* from MOUNT */
	char *base;			/* mounted dir relative to the export root */
	u32 base_len;
	struct qtfs_attr root_attr;	/* from the last MOUNT */
	u64 reconnects;
	atomic_t inflight;
	u32 io_chunk;			/* bytes per READ/WRITE: min(QTFS_IO_CHUNK, server limit) */
};

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
	int err;			/* transport error or -status */
	u8 *rsp;			/* response payload (kvmalloc) */
	u32 rsp_len;
	struct qtfs_msg out;		/* decoded response */
	ktime_t start;
};

int qtfs_conn_init(struct qtfs_conn *c, struct qtfs_sb *sbi);
int qtfs_conn_ensure(struct qtfs_conn *c);
void qtfs_conn_destroy(struct qtfs_conn *c);
void qtfs_conn_fail(struct qtfs_conn *c, int err);
int qtfs_sock_send(struct socket *sock, struct kvec *vec, size_t nvec, size_t total);
int qtfs_sock_recv(struct socket *sock, void *buf, size_t len);
int qtfs_rx_thread(void *arg);
int qtfs_status_errno(u32 status);

/* Sends (op, m) and waits killably; on success *reqp holds the answer (put it). */
int qtfs_call(struct qtfs_sb *sbi, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp);
/* As qtfs_call, for callers that need nothing but the status. */
int qtfs_call_simple(struct qtfs_sb *sbi, u16 op, struct qtfs_msg *m);
/* Fire and forget (RELEASE on close, cleanup of abandoned opens). */
void qtfs_call_async(struct qtfs_conn *c, u16 op, u64 handle, u32 gen);
void qtfs_req_put(struct qtfs_req *req);
void qtfs_req_finish(struct qtfs_conn *c, struct qtfs_req *req, int err, u8 *rsp, u32 len);
struct qtfs_msg *qtfs_msg_alloc(void);

/* poll.c */
struct qtfs_file;
__poll_t qtfs_poll_remote(struct file *file, struct poll_table_struct *wait);
void qtfs_poll_ready(struct qtfs_sb *sbi, const u8 *payload, u32 len);
void qtfs_poll_release(struct qtfs_sb *sbi, struct qtfs_file *qf);
void qtfs_fill_caller(struct qtfs_caller *c);
void qtfs_fill_caller_cred(struct qtfs_caller *c, const struct cred *cred);

/* ---- super block (super.c) ---- */
struct qtfs_sb {
	struct qtfs_opts opts;
	char *source;			/* host path given to mount */
	const struct cred *mounter;	/* MOUNT is sent with these, also on reconnect */
	struct qtfs_conn conn;
	struct super_block *sb;
	struct list_head node;		/* qtfs_mounts */
	struct mutex snap_lock;		/* protects snaps */
	struct qtfs_snap snaps[QTFS_SNAP_SLOTS];
	atomic64_t change_gen;		/* bumped around every modifying request */
	bool no_open_read;		/* the server answered OPEN_READ with ENOSYS */
	spinlock_t poll_lock;		/* protects pollers */
	struct list_head pollers;	/* files with an armed host poll watch (poll.c) */
};

struct qtfs_inode {
	struct inode vfs_inode;
	u64 hdev, hino;			/* host identity */
	u32 aflags;			/* attr.flags: QTFS_ATTR_PSEUDO */
	unsigned long attr_expire;	/* jiffies: all attributes */
	unsigned long perm_expire;	/* jiffies: mode and owners (children do not change them) */
};

struct qtfs_file {
	struct mutex reopen_lock;	/* one reopen after a reconnect at a time */
	u64 handle;
	u32 gen;
	u32 open_flags;
	u64 eof_cookie;			/* directories: listing complete at this pos */
	bool eof;
	/* OPEN_READ: the whole file as it was at open, served once, in order (file.c) */
	struct mutex content_lock;
	bool has_content;
	u8 *content;
	u32 content_len, content_next;
	s64 content_gen;		/* sbi->change_gen at open: a change here drops it */
	/* fifos: readiness pushed by the server (poll.c) */
	wait_queue_head_t poll_wq;
	struct list_head poll_node;	/* in sbi->pollers while a watch is armed */
};

static inline struct qtfs_sb *QTFS_SB(struct super_block *sb) { return sb->s_fs_info; }
static inline struct qtfs_inode *QTFS_I(struct inode *i) { return container_of(i, struct qtfs_inode, vfs_inode); }
static inline bool qtfs_pseudo(struct inode *i)
{
	return (QTFS_I(i)->aflags & QTFS_ATTR_PSEUDO) || QTFS_SB(i->i_sb)->opts.proc;
}

extern struct list_head qtfs_mounts;
extern struct mutex qtfs_mounts_lock;
extern struct file_system_type qtfs_fs_type;
int qtfs_inode_cache_init(void);
void qtfs_inode_cache_exit(void);
struct inode *qtfs_iget(struct super_block *sb, const struct qtfs_attr *a);
void qtfs_apply_attr(struct inode *inode, const struct qtfs_attr *a);

/* ---- paths (inode.c): target = export + base + path of dentry (+ name) ---- */
struct qtfs_path {
	char *buf;			/* __getname() buffer */
	struct qtfs_target t;
};
int qtfs_path_get(struct qtfs_sb *sbi, struct dentry *d, struct qtfs_path *p);
void qtfs_path_put(struct qtfs_path *p);
int qtfs_refresh(struct inode *inode, struct dentry *d, u64 handle);

extern const struct inode_operations qtfs_dir_iops, qtfs_file_iops, qtfs_symlink_iops;
extern const struct file_operations qtfs_dir_fops, qtfs_file_fops;
extern const struct address_space_operations qtfs_aops;
extern const struct dentry_operations qtfs_dops;
extern const struct xattr_handler *qtfs_xattr_handlers[];
ssize_t qtfs_listxattr(struct dentry *d, char *list, size_t size);
int qtfs_file_open(struct inode *inode, struct file *file);
int qtfs_atomic_open(struct inode *dir, struct dentry *d, struct file *file,
		     unsigned int open_flag, umode_t mode);
struct dentry *qtfs_lookup(struct inode *dir, struct dentry *d, unsigned int flags);
struct qtfs_msg *qtfs_msg_for(struct qtfs_sb *sbi, struct dentry *d, struct qtfs_path *p, int *errp);
void qtfs_msg_done(struct qtfs_msg *m, struct qtfs_path *p);
void qtfs_set_dtime(struct dentry *d, struct inode *inode);
u32 qtfs_wire_oflags(unsigned int f_flags);

/* ---- netlink (netlink.c) ---- */
int qtfs_genl_init(void);
void qtfs_genl_exit(void);

#endif /* QTFS_H */
