// SPDX-License-Identifier: GPL-2.0
/*
 * Inode and dentry operations. Every request names its file by path: the
 * export id and base from MOUNT, then the dentry's path below the mount root.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>
#include <linux/pagemap.h>
#include <linux/fs_stack.h>
#include "qtfs.h"

/* ---- paths ---- */

int qtfs_path_get(struct qtfs_sb *sbi, struct dentry *d, struct qtfs_path *p)
{
	struct qtfs_conn *c = &sbi->conn;
	char *rel, *out;
	size_t rlen, blen;

	p->buf = __getname();
	if (!p->buf)
		return -ENOMEM;
	/* The dentry's path goes at the end of buf, the base in front of it. */
	rel = dentry_path_raw(d, p->buf, PATH_MAX);
	if (IS_ERR(rel)) {
		__putname(p->buf);
		return PTR_ERR(rel);
	}
	rel++;			/* drop the leading '/' */
	rlen = strlen(rel);
	spin_lock(&c->lock);
	blen = c->base_len;
	if (blen + 1 + rlen > QTFS_MAX_PATH || blen + 1 > (size_t)(rel - p->buf)) {
		spin_unlock(&c->lock);
		__putname(p->buf);
		return -ENAMETOOLONG;
	}
	out = rel;
	if (blen && rlen) {
		out = rel - blen - 1;
		memcpy(out, c->base, blen);
		out[blen] = '/';
	} else if (blen) {
		out = rel - blen;
		memcpy(out, c->base, blen);
	}
	p->t.export = c->export;
	spin_unlock(&c->lock);
	p->t.path.p = (const u8 *)out;
	p->t.path.len = (u32)(blen && rlen ? blen + 1 + rlen : blen + rlen);
	return 0;
}

void qtfs_path_put(struct qtfs_path *p)
{
	if (p->buf)
		__putname(p->buf);
	p->buf = NULL;
}

/* A message with the caller and the target of d filled in. */
struct qtfs_msg *qtfs_msg_for(struct qtfs_sb *sbi, struct dentry *d, struct qtfs_path *p,
				     int *errp)
{
	struct qtfs_msg *m = qtfs_msg_alloc();

	*errp = -ENOMEM;
	if (!m)
		return NULL;
	*errp = qtfs_path_get(sbi, d, p);
	if (*errp) {
		kfree(m);
		return NULL;
	}
	qtfs_fill_caller(&m->caller);
	m->t1 = p->t;
	return m;
}

void qtfs_msg_done(struct qtfs_msg *m, struct qtfs_path *p)
{
	qtfs_path_put(p);
	kfree(m);
}

void qtfs_set_dtime(struct dentry *d, struct inode *inode)
{
	struct qtfs_sb *sbi = QTFS_SB(d->d_sb);

	if (inode && qtfs_pseudo(inode))
		d->d_time = jiffies;
	else
		d->d_time = jiffies + msecs_to_jiffies(sbi->opts.entry_timeout_ms);
}

/* GETATTR of d (or of an open handle) into inode. */
int qtfs_refresh(struct inode *inode, struct dentry *d, u64 handle)
{
	struct qtfs_sb *sbi = QTFS_SB(inode->i_sb);
	struct qtfs_path p;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err;

	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return err;
	m->handle = handle;
	err = qtfs_call(sbi, QTFS_OP_GETATTR, m, &req);
	if (!err) {
		if (req->out.attr.ino != QTFS_I(inode)->hino ||
		    req->out.attr.dev != QTFS_I(inode)->hdev ||
		    (req->out.attr.mode & S_IFMT) != (inode->i_mode & S_IFMT)) {
			/* another file has this name now: make the next walk look it up */
			err = -ESTALE;
			d->d_time = jiffies;
		} else
			qtfs_apply_attr(inode, &req->out.attr);
		qtfs_req_put(req);
	}
	qtfs_msg_done(m, &p);
	return err;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
static int qtfs_d_revalidate(struct inode *dir, const struct qstr *name, struct dentry *d,
			     unsigned int flags)
#else
static int qtfs_d_revalidate(struct dentry *d, unsigned int flags)
#endif
{
	struct inode *inode = d_inode_rcu(d);
	struct qtfs_sb *sbi = QTFS_SB(d->d_sb);
	struct qtfs_path p;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err, valid;

	if (!(flags & LOOKUP_REVAL) && time_before(jiffies, d->d_time))
		return 1;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	if (!inode)
		return 0;	/* negative and old: look it up again */
	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return err;
	err = qtfs_call(sbi, QTFS_OP_LOOKUP, m, &req);
	if (err) {
		valid = (err == -ENOENT || err == -ENOTDIR || err == -ESTALE) ? 0 : err;
		goto out;
	}
	valid = req->out.attr.dev == QTFS_I(inode)->hdev &&
		req->out.attr.ino == QTFS_I(inode)->hino &&
		(req->out.attr.mode & S_IFMT) == (inode->i_mode & S_IFMT);
	if (valid) {
		qtfs_apply_attr(inode, &req->out.attr);
		qtfs_set_dtime(d, inode);
	}
	qtfs_req_put(req);
out:
	qtfs_msg_done(m, &p);
	return valid;
}

const struct dentry_operations qtfs_dops = {
	.d_revalidate = qtfs_d_revalidate,
};

/* ---- namespace operations ---- */

struct dentry *qtfs_lookup(struct inode *dir, struct dentry *d, unsigned int flags)
{
	struct qtfs_sb *sbi = QTFS_SB(dir->i_sb);
	struct qtfs_attr snap_attr;
	struct inode *inode = NULL;
	struct qtfs_path p;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err;

	if (d->d_name.len > QTFS_MAX_NAME)
		return ERR_PTR(-ENAMETOOLONG);
	err = qtfs_prefetch_lookup(dir, d, &snap_attr);
	if (err <= 0) {
		inode = err ? NULL : qtfs_iget(dir->i_sb, &snap_attr);
		goto out;
	}
	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return ERR_PTR(err);
	err = qtfs_call(sbi, QTFS_OP_LOOKUP, m, &req);
	if (!err) {
		inode = qtfs_iget(dir->i_sb, &req->out.attr);
		qtfs_req_put(req);
	} else if (err != -ENOENT) {
		inode = ERR_PTR(err);
	}
	qtfs_msg_done(m, &p);
out:
	if (!IS_ERR(inode))
		qtfs_set_dtime(d, inode);
	return d_splice_alias(inode, d);
}

/* Instantiates d with the inode of attributes a (answer of a creating op). */
static int qtfs_instantiate(struct dentry *d, const struct qtfs_attr *a)
{
	struct inode *inode = qtfs_iget(d->d_sb, a);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	d_instantiate(d, inode);
	qtfs_set_dtime(d, inode);
	return 0;
}

static void qtfs_dir_changed(struct inode *dir)
{
	/* mtime and nlink moved on the host; mode and owners did not (perm_expire) */
	QTFS_I(dir)->attr_expire = jiffies;
}

/* Sends a creating op for d whose answer is an attr, and instantiates d. */
static int qtfs_make(struct inode *dir, struct dentry *d, u16 op, umode_t mode, dev_t rdev,
		     const char *link)
{
	struct qtfs_sb *sbi = QTFS_SB(dir->i_sb);
	struct qtfs_path p;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err;

	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return err;
	m->mode = mode;		/* the VFS already applied the umask */
	m->rdev = new_encode_dev(rdev);
	if (link)
		m->str = (struct qtfs_bytes){ (const u8 *)link, strlen(link) };
	err = qtfs_call(sbi, op, m, &req);
	if (!err) {
		err = qtfs_instantiate(d, &req->out.attr);
		qtfs_req_put(req);
		qtfs_dir_changed(dir);
	}
	qtfs_msg_done(m, &p);
	return err;
}

static int qtfs_mknod(QTFS_IDMAP *idmap, struct inode *dir, struct dentry *d,
		      umode_t mode, dev_t rdev)
{
	return qtfs_make(dir, d, QTFS_OP_MKNOD, mode, rdev, NULL);
}

static int qtfs_create(QTFS_IDMAP *idmap, struct inode *dir, struct dentry *d,
		       umode_t mode, bool excl)
{
	return qtfs_make(dir, d, QTFS_OP_MKNOD, (mode & 07777) | S_IFREG, 0, NULL);
}

static int qtfs_mkdir(QTFS_IDMAP *idmap, struct inode *dir, struct dentry *d, umode_t mode)
{
	return qtfs_make(dir, d, QTFS_OP_MKDIR, mode, 0, NULL);
}

static int qtfs_symlink(QTFS_IDMAP *idmap, struct inode *dir, struct dentry *d,
			const char *target)
{
	if (strlen(target) > QTFS_MAX_PATH)
		return -ENAMETOOLONG;
	return qtfs_make(dir, d, QTFS_OP_SYMLINK, S_IFLNK | 0777, 0, target);
}

static int qtfs_remove(struct inode *dir, struct dentry *d, u16 op)
{
	struct qtfs_sb *sbi = QTFS_SB(dir->i_sb);
	struct inode *inode = d_inode(d);
	struct qtfs_path p;
	struct qtfs_msg *m;
	int err;

	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return err;
	err = qtfs_call_simple(sbi, op, m);
	if (!err) {
		if (op == QTFS_OP_RMDIR)
			clear_nlink(inode);
		else
			drop_nlink(inode);
		QTFS_I(inode)->attr_expire = jiffies;
		qtfs_dir_changed(dir);
	}
	qtfs_msg_done(m, &p);
	return err;
}

static int qtfs_unlink(struct inode *dir, struct dentry *d)
{
	return qtfs_remove(dir, d, QTFS_OP_UNLINK);
}

static int qtfs_rmdir(struct inode *dir, struct dentry *d)
{
	return qtfs_remove(dir, d, QTFS_OP_RMDIR);
}

/* RENAME and LINK: two targets. */
static int qtfs_two_paths(struct dentry *from, struct dentry *to, u16 op, u32 flags,
			  struct qtfs_req **reqp)
{
	struct qtfs_sb *sbi = QTFS_SB(from->d_sb);
	struct qtfs_path p1, p2;
	struct qtfs_msg *m;
	int err;

	m = qtfs_msg_for(sbi, from, &p1, &err);
	if (!m)
		return err;
	err = qtfs_path_get(sbi, to, &p2);
	if (err)
		goto out_msg;
	m->t2 = p2.t;
	m->flags = flags;
	err = qtfs_call(sbi, op, m, reqp);
	qtfs_path_put(&p2);
out_msg:
	qtfs_msg_done(m, &p1);
	return err;
}

static int qtfs_rename(QTFS_IDMAP *idmap, struct inode *odir, struct dentry *od,
		       struct inode *ndir, struct dentry *nd, unsigned int flags)
{
	struct qtfs_req *req;
	u32 wflags = 0;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (flags & RENAME_NOREPLACE)
		wflags |= 1;
	if (flags & RENAME_EXCHANGE)
		wflags |= 2;
	err = qtfs_two_paths(od, nd, QTFS_OP_RENAME, wflags, &req);
	if (err)
		return err;
	qtfs_req_put(req);
	qtfs_dir_changed(odir);
	qtfs_dir_changed(ndir);
	QTFS_I(d_inode(od))->attr_expire = jiffies;
	if (d_really_is_positive(nd)) {
		QTFS_I(d_inode(nd))->attr_expire = jiffies;
		if (!(flags & RENAME_EXCHANGE))
			drop_nlink(d_inode(nd));
	}
	return 0;
}

static int qtfs_link(struct dentry *old, struct inode *dir, struct dentry *d)
{
	struct qtfs_req *req;
	int err;

	err = qtfs_two_paths(old, d, QTFS_OP_LINK, 0, &req);
	if (err)
		return err;
	err = qtfs_instantiate(d, &req->out.attr);
	qtfs_req_put(req);
	qtfs_dir_changed(dir);
	return err;
}

/* ---- attributes ---- */

static int qtfs_getattr(QTFS_IDMAP *idmap, const struct path *path, struct kstat *stat,
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

static u32 qtfs_setattr_valid(const struct iattr *ia, struct qtfs_msg *m)
{
	u32 v = 0;

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

static int qtfs_setattr(QTFS_IDMAP *idmap, struct dentry *d, struct iattr *ia)
{
	struct inode *inode = d_inode(d);
	struct qtfs_sb *sbi = QTFS_SB(inode->i_sb);
	struct qtfs_path p;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err;

	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return err;
	m->valid = qtfs_setattr_valid(ia, m);
	if (!m->valid)
		goto out;	/* only ctime or kill-suid bits: the host does those itself */
	if (ia->ia_valid & ATTR_FILE) {
		struct qtfs_file *qf = ia->ia_file->private_data;

		/* open(O_TRUNC): OPEN already truncated on the host */
		if ((ia->ia_valid & ATTR_OPEN) && ia->ia_size == 0 &&
		    (ia->ia_file->f_flags & O_TRUNC) && qf) {
			i_size_write(inode, 0);
			truncate_pagecache(inode, 0);
			QTFS_I(inode)->attr_expire = jiffies;
			goto out;
		}
		if (qf && qf->gen == READ_ONCE(sbi->conn.gen))
			m->handle = qf->handle;
	}
	err = qtfs_call(sbi, QTFS_OP_SETATTR, m, &req);
	if (err)
		goto out;
	qtfs_apply_attr(inode, &req->out.attr);
	qtfs_req_put(req);
	if (ia->ia_valid & ATTR_SIZE)
		truncate_pagecache(inode, ia->ia_size);
out:
	qtfs_msg_done(m, &p);
	return err;
}

/*
 * Local check with the host's mode and owners (the server checks again as
 * the caller). Old attributes are refreshed first, outside RCU walk.
 */
static int qtfs_permission(QTFS_IDMAP *idmap, struct inode *inode, int mask)
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

/* ---- symlinks ---- */

static void qtfs_put_link(void *buf)
{
	kfree(buf);
}

/*
 * proc mounts (as qtfs-fuse): at the root, self and thread-self point at the
 * caller's own entry in its local procfs (local_proc, default /local_proc),
 * and mounts at the host init's table.
 */
static char *qtfs_local_proc_link(struct qtfs_sb *sbi, struct dentry *d)
{
	const char *lp = sbi->opts.local_proc ? sbi->opts.local_proc : QTFS_DEF_LOCAL_PROC;

	if (!sbi->opts.proc || !IS_ROOT(d->d_parent))
		return NULL;
	if (!strcmp(d->d_name.name, "self"))
		return kasprintf(GFP_KERNEL, "%s/%d", lp, task_tgid_vnr(current));
	if (!strcmp(d->d_name.name, "thread-self"))
		return kasprintf(GFP_KERNEL, "%s/%d/task/%d", lp, task_tgid_vnr(current),
				 task_pid_vnr(current));
	if (!strcmp(d->d_name.name, "mounts"))
		return kstrdup("1/mounts", GFP_KERNEL);
	return NULL;
}

static const char *qtfs_get_link(struct dentry *d, struct inode *inode,
				 struct delayed_call *done)
{
	struct qtfs_sb *sbi = QTFS_SB(inode->i_sb);
	struct qtfs_path p;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	char *link;
	int err;

	if (!d)
		return ERR_PTR(-ECHILD);
	link = qtfs_local_proc_link(sbi, d);
	if (link)
		goto out_link;
	m = qtfs_msg_for(sbi, d, &p, &err);
	if (!m)
		return ERR_PTR(err);
	err = qtfs_call(sbi, QTFS_OP_READLINK, m, &req);
	qtfs_msg_done(m, &p);
	if (err)
		return ERR_PTR(err);
	link = kmemdup_nul((const char *)req->out.str.p, req->out.str.len, GFP_KERNEL);
	qtfs_req_put(req);
	if (!link)
		return ERR_PTR(-ENOMEM);
out_link:
	set_delayed_call(done, qtfs_put_link, link);
	return link;
}

const struct inode_operations qtfs_dir_iops = {
	.lookup = qtfs_lookup,
	.create = qtfs_create,
	.atomic_open = qtfs_atomic_open,
	.mknod = qtfs_mknod,
	.mkdir = qtfs_mkdir,
	.symlink = qtfs_symlink,
	.unlink = qtfs_unlink,
	.rmdir = qtfs_rmdir,
	.rename = qtfs_rename,
	.link = qtfs_link,
	.getattr = qtfs_getattr,
	.setattr = qtfs_setattr,
	.permission = qtfs_permission,
	.listxattr = qtfs_listxattr,
};

const struct inode_operations qtfs_file_iops = {
	.getattr = qtfs_getattr,
	.setattr = qtfs_setattr,
	.permission = qtfs_permission,
	.listxattr = qtfs_listxattr,
};

const struct inode_operations qtfs_symlink_iops = {
	.get_link = qtfs_get_link,
	.getattr = qtfs_getattr,
	.setattr = qtfs_setattr,
	.listxattr = qtfs_listxattr,
};
