// SPDX-License-Identifier: GPL-2.0
/* Directories: OPENDIR handle, READDIR by cookie (ctx->pos is the cookie). */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/namei.h>
#include <linux/stringhash.h>
#include "qtfs.h"

static int qtfs_dir_open(struct inode *inode, struct file *file)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	struct qtfs_file *qf = kzalloc(sizeof(*qf), GFP_KERNEL);
	int err = -ENOMEM;

	if (!qf || !m)
		goto out_free;
	mutex_init(&qf->reopen_lock);	/* unused: directories are not reopened */
	err = qtfs_call_at(QTFS_SB(inode->i_sb), QTFS_OP_OPENDIR, file->f_path.dentry, m, &req);
	if (err)
		goto out_free;
	qf->handle = req->out.handle;
	qf->gen = req->gen;
	qtfs_req_put(req);
	file->private_data = qf;
	kfree(m);
	return 0;
out_free:
	kfree(m);
	kfree(qf);
	return err;
}

static int qtfs_dir_release(struct inode *inode, struct file *file)
{
	struct qtfs_file *qf = file->private_data;

	qtfs_call_async(&QTFS_SB(inode->i_sb)->conn, QTFS_OP_RELEASEDIR, qf->handle, qf->gen);
	kfree(qf);
	return 0;
}

/* Entries worth a dentry: with attributes, not pseudo, a name the dcache may hold. */
static bool qtfs_primable(const struct qtfs_dirent *e)
{
	const u8 *n = e->name.p;

	return e->hasattr && !(e->attr.flags & QTFS_ATTR_PSEUDO) && e->name.len &&
	       !memchr(n, '/', e->name.len) &&
	       !(n[0] == '.' && (e->name.len == 1 || (e->name.len == 2 && n[1] == '.')));
}

/* A name not in the dcache: a new dentry with the entry's inode. */
static void qtfs_prime_new(struct dentry *parent, const struct qstr *name,
			   const struct qtfs_dirent *e)
{
	DECLARE_WAIT_QUEUE_HEAD_ONSTACK(wq);
	struct dentry *d, *alias;
	struct inode *inode;

	d = d_alloc_parallel(parent, name, &wq);
	if (IS_ERR(d))
		return;
	if (!d_in_lookup(d))
		goto out_dput;	/* someone else is looking it up */
	inode = qtfs_iget(parent->d_sb, &e->attr);
	if (IS_ERR(inode)) {
		d_lookup_done(d);
		goto out_dput;
	}
	alias = d_splice_alias(inode, d);
	d_lookup_done(d);
	if (IS_ERR(alias))
		goto out_dput;
	qtfs_set_dtime(alias ? alias : d, inode);
	dput(alias);
out_dput:
	dput(d);
}

/*
 * READDIR "plus": an entry's attributes come with it, so make (or refresh) its
 * dentry and inode now, and the lookups and stats after a listing (ls -l)
 * cost no round trip. Skipped where nothing may be cached.
 */
static void qtfs_prime(struct file *file, const struct qtfs_dirent *e)
{
	struct dentry *parent = file->f_path.dentry;
	struct qstr name = QSTR_INIT((const char *)e->name.p, e->name.len);
	struct inode *inode;
	struct dentry *d;

	if (!qtfs_primable(e))
		return;
	name.hash = full_name_hash(parent, name.name, name.len);
	d = d_lookup(parent, &name);
	if (!d) {
		qtfs_prime_new(parent, &name, e);
		return;
	}
	inode = d_inode(d);
	if (inode && qtfs_same_file(inode, &e->attr)) {	/* else: the next lookup sees */
		qtfs_apply_attr(inode, &e->attr);
		qtfs_set_dtime(d, inode);
	}
	dput(d);
}

/* Emits the entries of one READDIR answer; returns 1 when the listing is done. */
static int qtfs_emit(struct file *file, struct dir_context *ctx, struct qtfs_file *qf,
		     const struct qtfs_msg *out)
{
	struct qtfs_rbuf r = { .p = out->data.p, .len = out->data.len };
	struct qtfs_dirent e;
	u32 i;

	for (i = 0; i < out->count; i++) {
		if (qtfs_dirent_next(&r, &e))
			return r.err;
		if (!dir_emit(ctx, (const char *)e.name.p, e.name.len, e.ino, e.type))
			return 1;	/* the caller's buffer is full */
		qtfs_prime(file, &e);
		ctx->pos = (loff_t)e.cookie;
	}
	if (out->eof) {
		qf->eof = true;
		qf->eof_cookie = ctx->pos;
		return 1;
	}
	return out->count ? 0 : 1;
}

static int qtfs_iterate(struct file *file, struct dir_context *ctx)
{
	struct qtfs_sb *sbi = QTFS_SB(file_inode(file)->i_sb);
	struct qtfs_file *qf = file->private_data;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err = 0;

	if (qf->eof && qf->eof_cookie == ctx->pos)
		return 0;
	if (qf->gen != READ_ONCE(sbi->conn.gen))
		return -EIO;
	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	while (!err) {
		m->handle = qf->handle;
		m->cookie = (u64)ctx->pos;
		m->max_bytes = QTFS_READDIR_BYTES;
		m->plus = !sbi->opts.proc;
		err = qtfs_call(&sbi->conn, QTFS_OP_READDIR, m, &req);
		if (err)
			break;
		err = qtfs_emit(file, ctx, qf, &req->out);
		qtfs_req_put(req);
	}
	kfree(m);
	return err < 0 ? err : 0;
}

static loff_t qtfs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct qtfs_file *qf = file->private_data;

	qf->eof = false;
	return generic_file_llseek(file, offset, whence);
}

const struct file_operations qtfs_dir_fops = {
	.open = qtfs_dir_open,
	.release = qtfs_dir_release,
	.iterate_shared = qtfs_iterate,
	.llseek = qtfs_dir_llseek,
	.read = generic_read_dir,
};
