/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qtfs.ko's file system layer: super block, inodes, names, files, directories,
 * xattrs, fifo poll and directory prefetch, over the transport of transport.h.
 * A request leaves this layer through msg.c (path operations: caller and target
 * filled in) or straight through qtfs_call (operations on an open handle).
 */
#ifndef QTFS_H
#define QTFS_H

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/version.h>
#include <linux/atomic.h>
#include <linux/fs_parser.h>
#include <linux/uio.h>
#include "transport.h"

#define QTFS_SUPER_MAGIC	0x51544653	/* "QTFS" */
#define QTFS_READDIR_BYTES	(32u * 1024u)

/* Kernel API points that moved; see README.md "Supported kernels". */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define QTFS_IDMAP		struct mnt_idmap
#define QTFS_NO_IDMAP		(&nop_mnt_idmap)
#else
#define QTFS_IDMAP		struct user_namespace
#define QTFS_NO_IDMAP		(&init_user_ns)
#endif

/* ---- mount options (params.c) ---- */
#define QTFS_DEF_ATTR_MS	1000
#define QTFS_DEF_ENTRY_MS	1000
#define QTFS_DEF_CONN_TIMEOUT	10
#define QTFS_DEF_REQ_TIMEOUT	0
#define QTFS_DEF_SERVER		htonl(INADDR_LOOPBACK)	/* as qtfs-fuse */
#define QTFS_DEF_LOCAL_PROC	"/local_proc"

extern const struct fs_parameter_spec qtfs_param_specs[];
int qtfs_parse_param(struct fs_context *fc, struct fs_parameter *param);
int qtfs_show_options(struct seq_file *m, struct dentry *root);
int qtfs_check_opts(struct fs_context *fc, const struct qtfs_opts *o, const char *source);
void qtfs_opts_free(struct qtfs_opts *o);

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
	unsigned long too_big_at;	/* jiffies (0: never) it was read and found too big */
	unsigned long cut_at;		/* jiffies (0: never) a change made its listing stale */
	s64 gen;			/* sbi change generation the listing belongs to */
	kuid_t uid;
	kgid_t gid;
	struct group_info *groups;
	u32 count;
	struct qtfs_snap_ent *ents;	/* sorted by (hash, name) */
	char *names;
};

void qtfs_prefetch_init(void);
int qtfs_lookup_attr(struct inode *dir, struct dentry *d, struct qtfs_attr *a);
int qtfs_lookup_cached(struct inode *dir, struct dentry *d, struct qtfs_attr *a);
int qtfs_lookup_call(struct inode *dir, struct dentry *d, struct qtfs_attr *a);
void qtfs_prefetch_destroy(struct qtfs_sb *sbi);

/* ---- the super block (super.c) ---- */
struct qtfs_sb {
	struct qtfs_opts opts;
	char *source;			/* host path given to mount */
	struct qtfs_conn conn;
	struct super_block *sb;
	struct list_head node;		/* qtfs_mounts */
	struct mutex snap_lock;		/* protects snaps */
	struct qtfs_snap snaps[QTFS_SNAP_SLOTS];
	atomic64_t change_gen;		/* bumped around every modifying request */
	bool no_open_read;		/* the server answered OPEN_READ with ENOSYS */
	bool no_lookup_open;		/* the server answered LOOKUP_OPEN with ENOSYS */
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
static inline struct qtfs_sb *qtfs_conn_sb(struct qtfs_conn *c) { return container_of(c, struct qtfs_sb, conn); }
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

/* ---- who asks and where (msg.c) ---- */
void qtfs_fill_caller_cred(struct qtfs_caller *c, const struct cred *cred);
/* Path operations: m gets the caller and d's target, then goes to qtfs_call. */
int qtfs_call_at(struct qtfs_sb *sbi, u16 op, struct dentry *d, struct qtfs_msg *m,
		 struct qtfs_req **reqp);
int qtfs_call_as(struct qtfs_sb *sbi, u16 op, struct dentry *d, const struct cred *cred,
		 struct qtfs_msg *m, struct qtfs_req **reqp);
int qtfs_call_at2(struct qtfs_sb *sbi, u16 op, struct dentry *from, struct dentry *to,
		  struct qtfs_msg *m, struct qtfs_req **reqp);

/* ---- inodes: identity, attributes, lookup (inode.c) ---- */
struct inode *qtfs_iget(struct super_block *sb, const struct qtfs_attr *a);
void qtfs_apply_attr(struct inode *inode, const struct qtfs_attr *a);
bool qtfs_same_file(struct inode *inode, const struct qtfs_attr *a);
struct dentry *qtfs_lookup(struct inode *dir, struct dentry *d, unsigned int flags);
struct dentry *qtfs_lookup_finish(struct inode *dir, struct dentry *d, int err,
				  const struct qtfs_attr *a);
int qtfs_refresh(struct inode *inode, struct dentry *d, u64 handle);
void qtfs_set_dtime(struct dentry *d, struct inode *inode);
int qtfs_getattr(QTFS_IDMAP *idmap, const struct path *path, struct kstat *stat,
		 u32 mask, unsigned int flags);
int qtfs_setattr(QTFS_IDMAP *idmap, struct dentry *d, struct iattr *ia);
int qtfs_permission(QTFS_IDMAP *idmap, struct inode *inode, int mask);

extern const struct dentry_operations qtfs_dops;

/* ---- names: create, remove, rename, link, symlinks (namei.c) ---- */
extern const struct inode_operations qtfs_dir_iops, qtfs_file_iops, qtfs_symlink_iops;

/* ---- files, directories, xattrs, poll ---- */
extern const struct file_operations qtfs_dir_fops, qtfs_file_fops;
extern const struct address_space_operations qtfs_aops;
extern const struct xattr_handler *qtfs_xattr_handlers[];
ssize_t qtfs_listxattr(struct dentry *d, char *list, size_t size);
/* file_open.c: opening, creating and releasing; a handle's call after a reconnect */
int qtfs_atomic_open(struct inode *dir, struct dentry *d, struct file *file,
		     unsigned int open_flag, umode_t mode);
int qtfs_file_open(struct inode *inode, struct file *file);
int qtfs_file_release(struct inode *inode, struct file *file);
/* Sends op on the file's handle (m->handle is filled in), reopened after a reconnect. */
int qtfs_handle_call(struct file *file, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp);
void qtfs_poll_init(void);
__poll_t qtfs_poll_remote(struct file *file, struct poll_table_struct *wait);
void qtfs_poll_release(struct qtfs_sb *sbi, struct qtfs_file *qf);

/* ---- netlink (netlink.c) ---- */
int qtfs_genl_init(void);
void qtfs_genl_exit(void);

#endif /* QTFS_H */
