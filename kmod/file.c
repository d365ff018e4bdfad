// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files and fifos: reading and writing. Data is never cached for
 * read(2)/write(2): each goes to the server (so proc/sys/cgroup files, whose size
 * says nothing, read until a short read). The page cache serves read-only mmap only.
 * Opening, creating and releasing are in file_open.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/poll.h>
#include <linux/falloc.h>
#include <linux/sched/signal.h>
#include "qtfs.h"

static size_t qtfs_chunk(struct file *file)
{
	u32 n = READ_ONCE(QTFS_SB(file_inode(file)->i_sb)->conn.mount.io_chunk);

	return n ? n : QTFS_IO_CHUNK;
}

/*
 * A read answered from the content that came with the open: in order, each byte
 * once, the end of file once; then (or on any other offset, or after a change sent
 * through this mount) the server again, so a later read sees the host file as it is
 * then. -ENODATA: ask the server.
 */
static ssize_t qtfs_read_content(struct kiocb *iocb, struct iov_iter *to)
{
	struct qtfs_file *qf = iocb->ki_filp->private_data;
	ssize_t n = -ENODATA;

	if (!qf || !READ_ONCE(qf->has_content))
		return -ENODATA;
	mutex_lock(&qf->content_lock);
	if (!qf->has_content)
		goto out;
	/* another position, or a change sent through this mount since the open */
	if (iocb->ki_pos != qf->content_next ||
	    qf->content_gen != atomic64_read(&QTFS_SB(file_inode(iocb->ki_filp)->i_sb)->change_gen)) {
		qf->has_content = false;
		goto out;
	}
	n = min_t(size_t, iov_iter_count(to), qf->content_len - qf->content_next);
	if (copy_to_iter(qf->content + qf->content_next, n, to) != n) {
		n = -EFAULT;
		goto out;
	}
	qf->content_next += n;
	iocb->ki_pos += n;
	if (n == 0 && iov_iter_count(to))
		qf->has_content = false;	/* end of file served */
out:
	mutex_unlock(&qf->content_lock);
	return n;
}

/* One READ of up to want bytes at pos into to: the bytes copied, or -errno. */
static ssize_t qtfs_read_chunk(struct file *file, struct qtfs_msg *m, struct iov_iter *to,
			       size_t want, loff_t pos)
{
	struct qtfs_req *req;
	size_t got;
	int err;

	m->offset = (file->f_mode & FMODE_LSEEK) ? pos : 0;	/* streams: no offset */
	m->size = want;
	err = qtfs_handle_call(file, QTFS_OP_READ, m, &req);
	if (err)
		return err;
	got = min_t(size_t, req->out.data.len, want);
	if (copy_to_iter(req->out.data.p, got, to) != got)
		err = -EFAULT;
	qtfs_req_put(req);
	return err ? err : got;
}

static ssize_t qtfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	bool stream = !(file->f_mode & FMODE_LSEEK);
	loff_t pos = iocb->ki_pos;
	struct qtfs_msg *m;
	ssize_t done, n = 0;
	size_t want;

	done = qtfs_read_content(iocb, to);
	if (done != -ENODATA)
		return done;
	done = 0;
	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	while (iov_iter_count(to)) {
		want = min_t(size_t, iov_iter_count(to), qtfs_chunk(file));
		n = qtfs_read_chunk(file, m, to, want, pos);
		if (n < 0)
			break;
		done += n;
		pos += n;
		if ((size_t)n < want || stream)
			break;	/* short read: end of file or of what the pipe had */
	}
	kfree(m);
	if (!stream)
		iocb->ki_pos = pos;
	return done ? done : min_t(ssize_t, n, 0);
}

/* One WRITE of buf[0..len) at pos: the bytes the host took, or -errno. */
static ssize_t qtfs_write_chunk(struct file *file, struct qtfs_msg *m, void *buf, size_t len,
				loff_t pos)
{
	struct qtfs_req *req;
	ssize_t n;
	int err;

	m->offset = (file->f_mode & FMODE_LSEEK) ? pos : 0;	/* streams: no offset */
	m->data = (struct qtfs_bytes){ buf, len };
	err = qtfs_handle_call(file, QTFS_OP_WRITE, m, &req);
	if (err)
		return err;
	n = min_t(size_t, req->out.written, len);
	qtfs_req_put(req);
	return n;
}

/* After a write that ended at pos: the file position, the size and the cache. */
static void qtfs_wrote(struct kiocb *iocb, loff_t pos)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);

	if (file->f_flags & O_APPEND) {
		struct qtfs_file *qf = file->private_data;

		if (!qtfs_refresh(inode, file->f_path.dentry, qf->handle))
			pos = i_size_read(inode);
	} else if (pos > i_size_read(inode)) {
		i_size_write(inode, pos);
	}
	iocb->ki_pos = pos;
	QTFS_I(inode)->attr_expire = jiffies;
	if (inode->i_mapping->nrpages)
		invalidate_inode_pages2(inode->i_mapping);
}

static ssize_t qtfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	loff_t pos = iocb->ki_pos;
	struct qtfs_msg *m = qtfs_msg_alloc();
	void *buf = kvmalloc(min_t(size_t, iov_iter_count(from), QTFS_IO_CHUNK) + 1, GFP_KERNEL);
	ssize_t done = 0, n = 0;
	size_t chunk;

	if (!m || !buf)
		n = -ENOMEM;
	while (n >= 0 && iov_iter_count(from)) {
		chunk = min_t(size_t, iov_iter_count(from), qtfs_chunk(file));
		if (copy_from_iter(buf, chunk, from) != chunk)
			n = -EFAULT;
		else
			n = qtfs_write_chunk(file, m, buf, chunk, pos);
		if (n < 0)
			break;
		done += n;
		pos += n;
		if ((size_t)n < chunk)
			break;
	}
	if (done && (file->f_mode & FMODE_LSEEK))
		qtfs_wrote(iocb, pos);
	kvfree(buf);
	kfree(m);
	return done ? done : min_t(ssize_t, n, 0);
}

/*
 * close(2): writes are synchronous, so only a file open for writing has
 * anything the host could still report; read-only closes skip the round trip.
 */
static int qtfs_flush(struct file *file, fl_owner_t id)
{
	struct qtfs_req *req;
	struct qtfs_msg *m;
	int err;

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	err = qtfs_handle_call(file, QTFS_OP_FLUSH, m, &req);
	qtfs_req_put(req);
	kfree(m);
	return err == -EIO ? 0 : err;	/* a stale handle has nothing to flush */
}

static int qtfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->datasync = datasync ? 1 : 0;
	err = qtfs_handle_call(file, QTFS_OP_FSYNC, m, &req);
	qtfs_req_put(req);
	kfree(m);
	return err;
}

static loff_t qtfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	struct qtfs_file *qf = file->private_data;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	loff_t ret;
	int err;

	if (whence == SEEK_SET || whence == SEEK_CUR)
		return generic_file_llseek(file, offset, whence);
	if (whence == SEEK_END) {
		err = qtfs_refresh(inode, file->f_path.dentry, qf ? qf->handle : 0);
		if (err && !qtfs_pseudo(inode))
			return err;
		return generic_file_llseek(file, offset, whence);
	}
	/* SEEK_DATA, SEEK_HOLE: only the host knows. */
	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	m->offset = (u64)offset;
	m->whence = whence;
	err = qtfs_handle_call(file, QTFS_OP_LSEEK, m, &req);
	kfree(m);
	if (err)
		return err;
	ret = vfs_setpos(file, (loff_t)req->out.offset, inode->i_sb->s_maxbytes);
	qtfs_req_put(req);
	return ret;
}

static long qtfs_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	m->mode = mode;
	m->offset = offset;
	m->length = len;
	err = qtfs_handle_call(file, QTFS_OP_FALLOCATE, m, &req);
	qtfs_req_put(req);
	kfree(m);
	if (!err) {
		QTFS_I(inode)->attr_expire = jiffies;
		if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > i_size_read(inode))
			i_size_write(inode, offset + len);
		truncate_pagecache_range(inode, offset, offset + len - 1);
	}
	return err;
}

/* Fifos and other streams ask the host (poll.c); a regular file is always ready. */
static __poll_t qtfs_poll(struct file *file, struct poll_table_struct *wait)
{
	struct qtfs_file *qf = file->private_data;

	if (qf && (qf->open_flags & QTFS_OPEN_NONSEEKABLE))
		return qtfs_poll_remote(file, wait);
	return EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;
}

/* mmap (read-only sharing): fill a page through the file's handle. */
static int qtfs_read_folio(struct file *file, struct folio *folio)
{
	struct page *page = &folio->page;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	size_t got = 0;
	void *addr;
	int err;

	m = qtfs_msg_alloc();
	err = -ENOMEM;
	if (!m || !file)
		goto out;
	m->offset = page_offset(page);
	m->size = PAGE_SIZE;
	err = qtfs_handle_call(file, QTFS_OP_READ, m, &req);
	if (err)
		goto out;
	addr = kmap_local_page(page);
	got = min_t(size_t, req->out.data.len, PAGE_SIZE);
	memcpy(addr, req->out.data.p, got);
	memset(addr + got, 0, PAGE_SIZE - got);
	kunmap_local(addr);
	qtfs_req_put(req);
	flush_dcache_page(page);
	SetPageUptodate(page);
out:
	kfree(m);
	unlock_page(page);
	return err;
}

const struct address_space_operations qtfs_aops = {
	.read_folio = qtfs_read_folio,
};

const struct file_operations qtfs_file_fops = {
	.open = qtfs_file_open,
	.release = qtfs_file_release,
	.read_iter = qtfs_read_iter,
	.write_iter = qtfs_write_iter,
	.flush = qtfs_flush,
	.fsync = qtfs_fsync,
	.llseek = qtfs_llseek,
	.poll = qtfs_poll,
	.fallocate = qtfs_fallocate,
	.mmap = generic_file_readonly_mmap,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	.splice_read = copy_splice_read,	/* through read_iter, no page cache */
#else
	.splice_read = generic_file_splice_read,
#endif
	.splice_write = iter_file_splice_write,
};
