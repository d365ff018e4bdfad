// SPDX-License-Identifier: GPL-2.0
/*
 * Inodes: one per host file, found by its identity (host dev, ino, file type)
 * with iget5_locked, carrying the host's attributes for attr_timeout. Lookup
 * asks prefetch.c for a name's attributes (a directory snapshot or a LOOKUP);
 * revalidation, getattr, setattr and permission checks keep them fresh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/pagemap.h>
#include "qtfs.h"

static struct timespec64 qtfs_ts(const struct qtfs_time *t)
{
	return (struct timespec64){ .tv_sec = t->sec, .tv_nsec = t->nsec };
}

static void qtfs_set_times(struct inode *inode, const struct qtfs_attr *a)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_atime_to_ts(inode, qtfs_ts(&a->atime));
	inode_set_mtime_to_ts(inode, qtfs_ts(&a->mtime));
#else
	inode->i_atime = qtfs_ts(&a->atime);
	inode->i_mtime = qtfs_ts(&a->mtime);
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	inode_set_ctime_to_ts(inode, qtfs_ts(&a->ctime));
#else
	inode->i_ctime = qtfs_ts(&a->ctime);
#endif
}

/* Copies host attributes into the inode (the file type never changes). */
void qtfs_apply_attr(struct inode *inode, const struct qtfs_attr *a)
{
	struct qtfs_inode *qi = QTFS_I(inode);
	struct qtfs_sb *sbi = QTFS_SB(inode->i_sb);

	inode->i_mode = (inode->i_mode & S_IFMT) | (a->mode & 07777);
	set_nlink(inode, a->nlink);
	inode->i_uid = make_kuid(&init_user_ns, a->uid);
	inode->i_gid = make_kgid(&init_user_ns, a->gid);
	qtfs_set_times(inode, a);
	inode->i_blocks = a->blocks;
	i_size_write(inode, min_t(u64, a->size, MAX_LFS_FILESIZE));
	qi->aflags = a->flags;
	if (qtfs_pseudo(inode))
		qi->attr_expire = jiffies;
	else
		qi->attr_expire = jiffies + msecs_to_jiffies(sbi->opts.attr_timeout_ms);
	qi->perm_expire = qi->attr_expire;
}

struct qtfs_ident {
	u64 dev, ino;
	u32 type;
};

static int qtfs_inode_test(struct inode *inode, void *data)
{
	struct qtfs_ident *id = data;
	struct qtfs_inode *qi = QTFS_I(inode);

	return qi->hdev == id->dev && qi->hino == id->ino && (inode->i_mode & S_IFMT) == id->type;
}

static int qtfs_inode_set(struct inode *inode, void *data)
{
	struct qtfs_ident *id = data;

	QTFS_I(inode)->hdev = id->dev;
	QTFS_I(inode)->hino = id->ino;
	inode->i_mode = id->type;
	inode->i_ino = (unsigned long)id->ino;
	return 0;
}

static void qtfs_init_ops(struct inode *inode, const struct qtfs_attr *a)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &qtfs_dir_iops;
		inode->i_fop = &qtfs_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &qtfs_symlink_iops;
		break;
	case S_IFREG:
	case S_IFIFO:		/* fifos live on the host: opened and read there */
		inode->i_op = &qtfs_file_iops;
		inode->i_fop = &qtfs_file_fops;
		inode->i_mapping->a_ops = &qtfs_aops;
		break;
	default:		/* devices and sockets are local objects, as on FUSE */
		inode->i_op = &qtfs_file_iops;
		init_special_inode(inode, inode->i_mode, new_decode_dev((u32)a->rdev));
		break;
	}
}

/* Finds or makes the inode of host file (dev, ino) and refreshes its attributes. */
struct inode *qtfs_iget(struct super_block *sb, const struct qtfs_attr *a)
{
	struct qtfs_ident id = { .dev = a->dev, .ino = a->ino, .type = a->mode & S_IFMT };
	struct inode *inode;

	switch (id.type) {	/* a type the peer made up would confuse the VFS */
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFIFO:
	case S_IFCHR: case S_IFBLK: case S_IFSOCK:
		break;
	default:
		qtfs_warn("server sent a file of unknown type %o\n", a->mode);
		return ERR_PTR(-EIO);
	}
	inode = iget5_locked(sb, (unsigned long)(a->ino ^ (a->dev << 32) ^ (a->dev >> 32)),
			     qtfs_inode_test, qtfs_inode_set, &id);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (inode->i_state & I_NEW) {
		qtfs_init_ops(inode, a);
		qtfs_apply_attr(inode, a);
		unlock_new_inode(inode);
	} else {
		qtfs_apply_attr(inode, a);
	}
	return inode;
}

/* Whether the host file a answers for is still the one inode stands for. */
bool qtfs_same_file(struct inode *inode, const struct qtfs_attr *a)
{
	return a->ino == QTFS_I(inode)->hino && a->dev == QTFS_I(inode)->hdev &&
	       (a->mode & S_IFMT) == (inode->i_mode & S_IFMT);
}

void qtfs_set_dtime(struct dentry *d, struct inode *inode)
{
	struct qtfs_sb *sbi = QTFS_SB(d->d_sb);

	if (inode && qtfs_pseudo(inode))
		d->d_time = jiffies;
	else
		d->d_time = jiffies + msecs_to_jiffies(sbi->opts.entry_timeout_ms);
}

/* The .lookup of directories: d's inode from its attributes, or a negative dentry. */
struct dentry *qtfs_lookup(struct inode *dir, struct dentry *d, unsigned int flags)
{
	struct qtfs_attr a;
	int err;

	if (d->d_name.len > QTFS_MAX_NAME)
		return ERR_PTR(-ENAMETOOLONG);
	err = qtfs_lookup_attr(dir, d, &a);
	return qtfs_lookup_finish(dir, d, err, &a);
}

/* Ends the lookup of d: inode of *a (err 0), a negative dentry (-ENOENT), or the error. */
struct dentry *qtfs_lookup_finish(struct inode *dir, struct dentry *d, int err,
				  const struct qtfs_attr *a)
{
	struct inode *inode = NULL;

	if (!err)
		inode = qtfs_iget(dir->i_sb, a);
	else if (err != -ENOENT)
		inode = ERR_PTR(err);
	if (!IS_ERR(inode))
		qtfs_set_dtime(d, inode);
	return d_splice_alias(inode, d);
}

/* GETATTR of d (or of an open handle) into inode. */
int qtfs_refresh(struct inode *inode, struct dentry *d, u64 handle)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->handle = handle;
	err = qtfs_call_at(QTFS_SB(inode->i_sb), QTFS_OP_GETATTR, d, m, &req);
	if (!err) {
		if (!qtfs_same_file(inode, &req->out.attr)) {
			/* another file has this name now: make the next walk look it up */
			err = -ESTALE;
			d->d_time = jiffies;
		} else
			qtfs_apply_attr(inode, &req->out.attr);
		qtfs_req_put(req);
	}
	kfree(m);
	return err;
}

/* An old dentry is asked about again (LOOKUP): still the same host file? */
static int qtfs_revalidate_by_lookup(struct dentry *d, struct inode *inode)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err, valid;

	if (!m)
		return -ENOMEM;
	err = qtfs_call_at(QTFS_SB(d->d_sb), QTFS_OP_LOOKUP, d, m, &req);
	kfree(m);
	if (err)
		return (err == -ENOENT || err == -ENOTDIR || err == -ESTALE) ? 0 : err;
	valid = qtfs_same_file(inode, &req->out.attr);
	if (valid) {
		qtfs_apply_attr(inode, &req->out.attr);
		qtfs_set_dtime(d, inode);
	}
	qtfs_req_put(req);
	return valid;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
static int qtfs_d_revalidate(struct inode *dir, const struct qstr *name, struct dentry *d,
			     unsigned int flags)
#else
static int qtfs_d_revalidate(struct dentry *d, unsigned int flags)
#endif
{
	struct inode *inode = d_inode_rcu(d);

	if (!(flags & LOOKUP_REVAL) && time_before(jiffies, d->d_time))
		return 1;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	if (!inode)
		return 0;	/* negative and old: look it up again */
	return qtfs_revalidate_by_lookup(d, inode);
}

const struct dentry_operations qtfs_dops = {
	.d_revalidate = qtfs_d_revalidate,
};

int qtfs_getattr(QTFS_IDMAP *idmap, const struct path *path, struct kstat *stat,
		 u32 mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	int err;

	if (!(flags & AT_STATX_DONT_SYNC) &&
	    ((flags & AT_STATX_FORCE_SYNC) || !time_before(jiffies, QTFS_I(inode)->attr_expire))) {
		err = qtfs_refresh(inode, path->dentry, 0);
		/* an unlinked file that is still open keeps its last attributes */
		if (err == -ENOENT && d_unhashed(path->dentry))
			err = 0;
		if (err)
			return err;
	}
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	generic_fillattr(idmap, mask, inode, stat);
#else
	generic_fillattr(idmap, inode, stat);
#endif
	stat->blksize = PAGE_SIZE;
	return 0;
}

static u32 qtfs_setattr_times(const struct iattr *ia, struct qtfs_msg *m)
{
	u32 v = 0;

	if (ia->ia_valid & ATTR_ATIME) {
		v |= (ia->ia_valid & ATTR_ATIME_SET) ? QTFS_SET_ATIME : QTFS_SET_ATIME_NOW;
		m->atime = (struct qtfs_time){ ia->ia_atime.tv_sec, ia->ia_atime.tv_nsec };
	}
	if (ia->ia_valid & ATTR_MTIME) {
		v |= (ia->ia_valid & ATTR_MTIME_SET) ? QTFS_SET_MTIME : QTFS_SET_MTIME_NOW;
		m->mtime = (struct qtfs_time){ ia->ia_mtime.tv_sec, ia->ia_mtime.tv_nsec };
	}
	return v;
}

static u32 qtfs_setattr_valid(const struct iattr *ia, struct qtfs_msg *m)
{
	u32 v = qtfs_setattr_times(ia, m);

	if (ia->ia_valid & ATTR_MODE) {
		v |= QTFS_SET_MODE;
		m->mode = ia->ia_mode & 07777;
	}
	if (ia->ia_valid & ATTR_UID) {
		v |= QTFS_SET_UID;
		m->uid = from_kuid(&init_user_ns, ia->ia_uid);
	}
	if (ia->ia_valid & ATTR_GID) {
		v |= QTFS_SET_GID;
		m->gid = from_kgid(&init_user_ns, ia->ia_gid);
	}
	if (ia->ia_valid & ATTR_SIZE) {
		v |= QTFS_SET_SIZE;
		m->size64 = ia->ia_size;
	}
	return v;
}

/*
 * A setattr through an open file: 1 if open(O_TRUNC) already truncated it on the
 * host (nothing to send), else 0 with the file's handle in m when it is current.
 */
static int qtfs_setattr_file(struct inode *inode, const struct iattr *ia, struct qtfs_msg *m)
{
	struct qtfs_file *qf = ia->ia_file->private_data;

	if ((ia->ia_valid & ATTR_OPEN) && ia->ia_size == 0 &&
	    (ia->ia_file->f_flags & O_TRUNC) && qf) {
		i_size_write(inode, 0);
		truncate_pagecache(inode, 0);
		QTFS_I(inode)->attr_expire = jiffies;
		return 1;
	}
	if (qf && qf->gen == READ_ONCE(QTFS_SB(inode->i_sb)->conn.gen))
		m->handle = qf->handle;
	return 0;
}

int qtfs_setattr(QTFS_IDMAP *idmap, struct dentry *d, struct iattr *ia)
{
	struct inode *inode = d_inode(d);
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err = 0;

	if (!m)
		return -ENOMEM;
	m->valid = qtfs_setattr_valid(ia, m);
	/* nothing but ctime or kill-suid bits: the host does those itself */
	if (!m->valid || ((ia->ia_valid & ATTR_FILE) && qtfs_setattr_file(inode, ia, m)))
		goto out;
	err = qtfs_call_at(QTFS_SB(inode->i_sb), QTFS_OP_SETATTR, d, m, &req);
	if (err)
		goto out;
	qtfs_apply_attr(inode, &req->out.attr);
	qtfs_req_put(req);
	if (ia->ia_valid & ATTR_SIZE)
		truncate_pagecache(inode, ia->ia_size);
out:
	kfree(m);
	return err;
}

/*
 * Local check with the host's mode and owners (the server checks again as
 * the caller). Old attributes are refreshed first, outside RCU walk.
 */
int qtfs_permission(QTFS_IDMAP *idmap, struct inode *inode, int mask)
{
	if (!qtfs_pseudo(inode) && !time_before(jiffies, QTFS_I(inode)->perm_expire)) {
		struct dentry *d;
		int err;

		if (mask & MAY_NOT_BLOCK)
			return -ECHILD;
		d = d_find_alias(inode);
		if (d) {
			err = qtfs_refresh(inode, d, 0);
			dput(d);
			if (err && err != -ESTALE && err != -ENOENT)
				return err;
		}
	}
	return generic_permission(idmap, inode, mask);
}
