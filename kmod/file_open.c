// SPDX-License-Identifier: GPL-2.0
/*
 * Opening regular files and fifos: OPEN (OPEN_READ, with the content, for a small
 * read-only file), CREATE for O_CREAT and LOOKUP_OPEN for a read-only open of a name not
 * looked up yet (both from atomic_open), RELEASE at the last close, and a
 * handle's life across reconnects: a handle is good only on the connection that made
 * it, so after a reconnect a regular file is opened again by path before its next
 * request (qtfs_handle_call, which file.c's reads and writes go through).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/namei.h>
#include <linux/sched/signal.h>
#include "qtfs.h"

/* open(2) flags as the wire carries them (Linux values; the server applies them). */
static u32 qtfs_wire_oflags(unsigned int f)
{
	return f & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | __O_SYNC | O_NOATIME |
		    O_TRUNC | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_PATH);
}

static struct qtfs_file *qtfs_file_new(u64 handle, u32 open_flags, u32 gen)
{
	struct qtfs_file *qf = kzalloc(sizeof(*qf), GFP_KERNEL);

	if (qf) {
		mutex_init(&qf->reopen_lock);
		mutex_init(&qf->content_lock);
		init_waitqueue_head(&qf->poll_wq);
		INIT_LIST_HEAD(&qf->poll_node);
		qf->handle = handle;
		qf->open_flags = open_flags;
		qf->gen = gen;
	}
	return qf;
}

/* After the handle is attached: seekability and cache state. */
static void qtfs_file_setup(struct inode *inode, struct file *file, struct qtfs_file *qf)
{
	file->private_data = qf;
	if ((qf->open_flags & QTFS_OPEN_NONSEEKABLE) || S_ISFIFO(inode->i_mode))
		stream_open(inode, file);
	if (!(qf->open_flags & QTFS_OPEN_KEEP_CACHE) && S_ISREG(inode->i_mode))
		invalidate_inode_pages2(inode->i_mapping);
}

/*
 * OPEN, or OPEN_READ for a regular file opened read-only: the server then sends a
 * small file's whole content with the answer, and open+read+close is one round trip.
 */
static int qtfs_open_call(struct qtfs_sb *sbi, struct inode *inode, struct dentry *d,
			  struct qtfs_msg *m, struct qtfs_req **reqp)
{
	int err;

	if (S_ISREG(inode->i_mode) && (m->flags & (O_ACCMODE | O_TRUNC)) == O_RDONLY &&
	    !READ_ONCE(sbi->no_open_read)) {
		m->max_bytes = QTFS_MAX_OPEN_CONTENT;
		err = qtfs_call_at(sbi, QTFS_OP_OPEN_READ, d, m, reqp);
		if (err != -ENOSYS)
			return err;
		WRITE_ONCE(sbi->no_open_read, true);	/* a server older than OPEN_READ */
	}
	return qtfs_call_at(sbi, QTFS_OP_OPEN, d, m, reqp);
}

/* Keeps the content of an OPEN_READ answer for the first reads. */
static int qtfs_keep_content(struct qtfs_sb *sbi, struct qtfs_file *qf, const struct qtfs_msg *out)
{
	if (!(out->open_flags & QTFS_OPEN_HAS_CONTENT) || (out->open_flags & QTFS_OPEN_NONSEEKABLE))
		return 0;
	qf->content = kvmalloc(out->value.len + 1, GFP_KERNEL);
	if (!qf->content)
		return -ENOMEM;
	memcpy(qf->content, out->value.p, out->value.len);
	qf->content_len = out->value.len;
	qf->content_gen = atomic64_read(&sbi->change_gen);
	qf->has_content = true;
	return 0;
}

int qtfs_file_open(struct inode *inode, struct file *file)
{
	struct qtfs_sb *sbi = QTFS_SB(inode->i_sb);
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	struct qtfs_file *qf;
	int err;

	if (!m)
		return -ENOMEM;
	m->flags = qtfs_wire_oflags(file->f_flags);
	err = qtfs_open_call(sbi, inode, file->f_path.dentry, m, &req);
	kfree(m);
	if (err)
		return err;
	qf = qtfs_file_new(req->out.handle, req->out.open_flags, req->gen);
	if (qf && qtfs_keep_content(sbi, qf, &req->out)) {
		kfree(qf);
		qf = NULL;
	}
	if (!qf)
		qtfs_call_async(&sbi->conn, QTFS_OP_RELEASE, req->out.handle, req->gen);
	qtfs_req_put(req);
	if (!qf)
		return -ENOMEM;
	qtfs_file_setup(inode, file, qf);
	return 0;
}

static int qtfs_send_create(struct qtfs_sb *sbi, struct dentry *d, unsigned int open_flag,
			    umode_t mode, struct qtfs_req **reqp)
{
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->flags = qtfs_wire_oflags(open_flag) | (open_flag & O_EXCL);
	m->mode = (mode & 07777) | S_IFREG;
	err = qtfs_call_at(sbi, QTFS_OP_CREATE, d, m, reqp);
	kfree(m);
	return err;
}

/*
 * Opens file on d (instantiated) with the handle of req's answer (CREATE, LOOKUP_OPEN),
 * keeping OPEN_READ content; on failure the handle is released.
 */
static int qtfs_open_answered(struct dentry *d, struct file *file, struct qtfs_req *req)
{
	struct qtfs_sb *sbi = QTFS_SB(d->d_sb);
	struct qtfs_file *qf = qtfs_file_new(req->out.handle, req->out.open_flags, req->gen);
	int err = qf ? qtfs_keep_content(sbi, qf, &req->out) : -ENOMEM;

	if (!err)
		err = finish_open(file, d, generic_file_open);
	if (err) {
		qtfs_call_async(&sbi->conn, QTFS_OP_RELEASE, req->out.handle, req->gen);
		if (qf)
			kvfree(qf->content);
		kfree(qf);
		return err;
	}
	qtfs_file_setup(d_inode(d), file, qf);
	return 0;
}

/* CREATE of negative d: the answer's attributes make d's inode, its handle the open file. */
static int qtfs_create_open(struct inode *dir, struct dentry *d, struct file *file,
			    unsigned int open_flag, umode_t mode)
{
	struct qtfs_sb *sbi = QTFS_SB(dir->i_sb);
	struct qtfs_req *req;
	struct inode *inode;
	int err = qtfs_send_create(sbi, d, open_flag, mode, &req);

	if (err)
		return err;
	QTFS_I(dir)->attr_expire = jiffies;
	inode = qtfs_iget(dir->i_sb, &req->out.attr);
	if (IS_ERR(inode)) {
		qtfs_call_async(&sbi->conn, QTFS_OP_RELEASE, req->out.handle, req->gen);
		err = PTR_ERR(inode);
	} else {
		d_instantiate(d, inode);
		qtfs_set_dtime(d, inode);
		file->f_mode |= FMODE_CREATED;
		err = qtfs_open_answered(d, file, req);
	}
	qtfs_req_put(req);
	return err;
}

/*
 * A read-only open of a name with no dentry yet, in one round trip: LOOKUP_OPEN looks it
 * up and, for a regular file, opens it (with the content of a small one). Anything else
 * is only looked up, and the VFS goes on as after a lookup (follows a symlink, opens a
 * directory). -EAGAIN: nothing was done, look it up the usual way.
 */
static int qtfs_lookup_open(struct inode *dir, struct dentry *d, struct file *file,
			    unsigned int open_flag)
{
	struct qtfs_sb *sbi = QTFS_SB(dir->i_sb);
	struct dentry *res;
	struct qtfs_req *req = NULL;
	struct qtfs_msg *m = qtfs_msg_alloc();
	bool opened;
	int err;

	if (!m)
		return -ENOMEM;
	m->flags = qtfs_wire_oflags(open_flag);
	m->max_bytes = QTFS_MAX_OPEN_CONTENT;
	err = qtfs_call_at(sbi, QTFS_OP_LOOKUP_OPEN, d, m, &req);
	kfree(m);
	if (err == -ENOSYS)
		WRITE_ONCE(sbi->no_lookup_open, true);	/* a server older than LOOKUP_OPEN */
	if (err && err != -ENOENT)
		return -EAGAIN;	/* the open failed (EACCES...): a LOOKUP, then the VFS's open says why */
	res = qtfs_lookup_finish(dir, d, err, err ? NULL : &req->out.attr);	/* -ENOENT: negative */
	err = PTR_ERR_OR_ZERO(res);
	/* a handle only for what is still a regular file (a fifo swapped in opens the usual way) */
	opened = !err && req && req->out.handle && S_ISREG(req->out.attr.mode);
	if (!err && !opened)
		err = finish_no_open(file, res);
	else if (opened)
		err = qtfs_open_answered(res ?: d, file, req);
	if (!opened && req && req->out.handle)
		qtfs_call_async(&sbi->conn, QTFS_OP_RELEASE, req->out.handle, req->gen);
	if (req)
		qtfs_req_put(req);
	if (opened && !IS_ERR_OR_NULL(res))
		dput(res);
	return err;
}

/* Worth LOOKUP_OPEN: a plain read-only open of a file (no O_TRUNC, not for a directory). */
static bool qtfs_one_trip_open(struct qtfs_sb *sbi, unsigned int open_flag)
{
	return (open_flag & (O_ACCMODE | O_CREAT | O_TRUNC | O_DIRECTORY | O_PATH)) == O_RDONLY &&
	       !READ_ONCE(sbi->no_lookup_open) && !READ_ONCE(sbi->no_open_read);
}

/*
 * Opening a name the dcache does not have. O_CREAT: CREATE, atomic with O_EXCL on the
 * host. A plain read-only open: LOOKUP_OPEN, unless dir's listing snapshot answers the
 * lookup. Otherwise a lookup, and the VFS opens the file as usual.
 */
int qtfs_atomic_open(struct inode *dir, struct dentry *d, struct file *file,
		     unsigned int open_flag, umode_t mode)
{
	struct dentry *res = NULL;
	struct qtfs_attr a;
	int err;

	if (d_in_lookup(d)) {
		if (d->d_name.len > QTFS_MAX_NAME)
			return -ENAMETOOLONG;
		err = qtfs_lookup_cached(dir, d, &a);
		if (err == 1 && qtfs_one_trip_open(QTFS_SB(dir->i_sb), open_flag)) {
			err = qtfs_lookup_open(dir, d, file, open_flag);
			if (err != -EAGAIN)
				return err;
			err = 1;
		}
		if (err > 0)
			err = qtfs_lookup_call(dir, d, &a);
		res = qtfs_lookup_finish(dir, d, err, &a);
		if (IS_ERR(res))
			return PTR_ERR(res);
		if (res)
			d = res;
	}
	if (!(open_flag & O_CREAT) || d_really_is_positive(d))
		return finish_no_open(file, res);
	err = qtfs_create_open(dir, d, file, open_flag, mode);
	dput(res);
	return err;
}

int qtfs_file_release(struct inode *inode, struct file *file)
{
	struct qtfs_file *qf = file->private_data;

	if (qf) {
		qtfs_poll_release(QTFS_SB(inode->i_sb), qf);
		qtfs_call_async(&QTFS_SB(inode->i_sb)->conn, QTFS_OP_RELEASE, qf->handle, qf->gen);
		kvfree(qf->content);
	}
	kfree(qf);
	return 0;
}

/*
 * After a reconnect, a regular file is opened again by path with its opener's
 * credentials and flags (never O_TRUNC), if it is still the same host file.
 */
/* GETATTR of the handle in m just opened for file: -ESTALE if it is another host file now. */
static int qtfs_reopened_same(struct file *file, struct qtfs_msg *m)
{
	struct inode *inode = file_inode(file);
	int err;

	err = qtfs_call_as(QTFS_SB(inode->i_sb), QTFS_OP_GETATTR, file->f_path.dentry, file->f_cred, m, NULL);
	if (!err && (m->attr.ino != QTFS_I(inode)->hino || m->attr.dev != QTFS_I(inode)->hdev))
		err = -ESTALE;
	return err;
}

static int qtfs_reopen(struct file *file, struct qtfs_file *qf)
{
	struct qtfs_sb *sbi = QTFS_SB(file_inode(file)->i_sb);
	struct dentry *d = file->f_path.dentry;
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->flags = qtfs_wire_oflags(file->f_flags) & ~O_TRUNC;
	err = qtfs_call_as(sbi, QTFS_OP_OPEN, d, file->f_cred, m, &req);
	if (err)
		goto out;
	m->handle = req->out.handle;
	qf->gen = req->gen;
	qtfs_req_put(req);
	err = qtfs_reopened_same(file, m);
	if (err) {
		qtfs_call_async(&sbi->conn, QTFS_OP_RELEASE, m->handle, qf->gen);
		qf->gen = 0;
		goto out;
	}
	qf->handle = m->handle;
	qtfs_info("reopened %pd after reconnect\n", d);
out:
	kfree(m);
	return err;
}

/* A handle is only good on the connection that made it. */
static int qtfs_handle_ok(struct file *file, struct qtfs_file **qfp)
{
	struct qtfs_file *qf = file->private_data;
	struct qtfs_sb *sbi = QTFS_SB(file_inode(file)->i_sb);
	int err = qtfs_conn_ensure(&sbi->conn);

	if (err)
		return err;
	if (!qf)
		return -EIO;
	if (qf->gen != READ_ONCE(sbi->conn.gen)) {
		if (!S_ISREG(file_inode(file)->i_mode))
			return -EIO;	/* fifos: the peer end went with the server */
		if (mutex_lock_killable(&qf->reopen_lock))
			return -EINTR;
		err = qf->gen == READ_ONCE(sbi->conn.gen) ? 0 : qtfs_reopen(file, qf);
		mutex_unlock(&qf->reopen_lock);
		if (err)
			return -EIO;
	}
	*qfp = qf;
	return 0;
}

static int qtfs_handle_call_once(struct file *file, u16 op, struct qtfs_msg *m,
				 struct qtfs_req **reqp)
{
	struct qtfs_file *qf;
	int err = qtfs_handle_ok(file, &qf);

	if (err)
		return err;
	m->handle = qf->handle;
	return qtfs_call(&QTFS_SB(file_inode(file)->i_sb)->conn, op, m, reqp);
}

/*
 * A READ at an offset changes nothing: when the connection dies under it (a server
 * restart, a sealed frame that did not open) it is sent once more, on the file reopened
 * over the new connection, so the caller gets the right bytes instead of an error.
 */
int qtfs_handle_call(struct file *file, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp)
{
	int err = qtfs_handle_call_once(file, op, m, reqp);

	if (err == -ECONNRESET && op == QTFS_OP_READ && (file->f_mode & FMODE_LSEEK) &&
	    S_ISREG(file_inode(file)->i_mode) && !fatal_signal_pending(current))
		err = qtfs_handle_call_once(file, op, m, reqp);
	return err;
}
