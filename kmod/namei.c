// SPDX-License-Identifier: GPL-2.0
/*
 * Namespace changes (create, mknod, mkdir, symlink, unlink, rmdir, rename, link),
 * symlink contents, and the inode operation tables. Each is one path request
 * (msg.c); a creating request's answer carries the new file's attributes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/namei.h>
#include <linux/slab.h>
#include "qtfs.h"

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
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->mode = mode;		/* the VFS already applied the umask */
	m->rdev = new_encode_dev(rdev);
	if (link)
		m->str = (struct qtfs_bytes){ (const u8 *)link, strlen(link) };
	err = qtfs_call_at(QTFS_SB(dir->i_sb), op, d, m, &req);
	if (!err) {
		err = qtfs_instantiate(d, &req->out.attr);
		qtfs_req_put(req);
		qtfs_dir_changed(dir);
	}
	kfree(m);
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
	struct inode *inode = d_inode(d);
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	err = qtfs_call_at(QTFS_SB(dir->i_sb), op, d, m, NULL);
	kfree(m);
	if (err)
		return err;
	if (op == QTFS_OP_RMDIR)
		clear_nlink(inode);
	else
		drop_nlink(inode);
	QTFS_I(inode)->attr_expire = jiffies;
	qtfs_dir_changed(dir);
	return 0;
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
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->flags = flags;
	err = qtfs_call_at2(QTFS_SB(from->d_sb), op, from, to, m, reqp);
	kfree(m);
	return err;
}

static int qtfs_rename(QTFS_IDMAP *idmap, struct inode *odir, struct dentry *od,
		       struct inode *ndir, struct dentry *nd, unsigned int flags)
{
	struct qtfs_req *req;
	u32 wflags = 0;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if (flags & RENAME_NOREPLACE)
		wflags |= QTFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		wflags |= QTFS_RENAME_EXCHANGE;
	if (flags & RENAME_WHITEOUT)	/* overlayfs with its upper layer on qtfs */
		wflags |= QTFS_RENAME_WHITEOUT;
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

/* READLINK: the link's contents as the host has them. */
static char *qtfs_readlink(struct qtfs_sb *sbi, struct dentry *d)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	char *link;
	int err;

	if (!m)
		return ERR_PTR(-ENOMEM);
	err = qtfs_call_at(sbi, QTFS_OP_READLINK, d, m, &req);
	kfree(m);
	if (err)
		return ERR_PTR(err);
	link = kmemdup_nul((const char *)req->out.str.p, req->out.str.len, GFP_KERNEL);
	qtfs_req_put(req);
	return link ? link : ERR_PTR(-ENOMEM);
}

static const char *qtfs_get_link(struct dentry *d, struct inode *inode,
				 struct delayed_call *done)
{
	struct qtfs_sb *sbi = QTFS_SB(inode->i_sb);
	char *link;

	if (!d)
		return ERR_PTR(-ECHILD);
	link = qtfs_local_proc_link(sbi, d);
	if (!link)
		link = qtfs_readlink(sbi, d);
	if (!IS_ERR(link))
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
