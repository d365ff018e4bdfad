// SPDX-License-Identifier: GPL-2.0
/* Extended attributes: every name goes to the server (one catch-all handler). */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/xattr.h>
#include "qtfs.h"

/* GETXATTR (name) or LISTXATTR (name NULL): size 0 asks for the length only. */
static ssize_t qtfs_xattr_fetch(struct dentry *d, u16 op, const char *name, void *buf, size_t size)
{
	struct qtfs_req *req;
	struct qtfs_msg *m;
	ssize_t ret;
	int err;

	if (name && strlen(name) > QTFS_MAX_XATTR_NAME)
		return -ERANGE;
	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	if (name)
		m->name = (struct qtfs_bytes){ (const u8 *)name, strlen(name) };
	m->size = min_t(size_t, size, QTFS_MAX_XATTR_VALUE);
	err = qtfs_call_at(QTFS_SB(d->d_sb), op, d, m, &req);
	kfree(m);
	if (err)
		return err;
	ret = req->out.size;
	if (size) {
		if (req->out.data.len > size)
			ret = -ERANGE;
		else
			memcpy(buf, req->out.data.p, req->out.data.len);
	}
	qtfs_req_put(req);
	return ret;
}

static int qtfs_xattr_get(const struct xattr_handler *h, struct dentry *d, struct inode *inode,
			  const char *name, void *buf, size_t size)
{
	if (!d)
		return -EOPNOTSUPP;
	return qtfs_xattr_fetch(d, QTFS_OP_GETXATTR, name, buf, size);
}

static int qtfs_xattr_set(const struct xattr_handler *h, QTFS_IDMAP *idmap, struct dentry *d,
			  struct inode *inode, const char *name, const void *value, size_t size,
			  int flags)
{
	struct qtfs_msg *m;
	u16 op = value ? QTFS_OP_SETXATTR : QTFS_OP_REMOVEXATTR;
	int err;

	if (!d)
		return -EOPNOTSUPP;
	if (strlen(name) > QTFS_MAX_XATTR_NAME)
		return -ERANGE;
	if (size > QTFS_MAX_XATTR_VALUE)
		return -E2BIG;
	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	m->name = (struct qtfs_bytes){ (const u8 *)name, strlen(name) };
	if (value) {
		/* XATTR_CREATE 1, XATTR_REPLACE 2: Linux's values are the wire's */
		m->flags = (flags & XATTR_CREATE ? 1 : 0) | (flags & XATTR_REPLACE ? 2 : 0);
		m->value = (struct qtfs_bytes){ value, size };
	}
	err = qtfs_call_at(QTFS_SB(inode->i_sb), op, d, m, NULL);
	kfree(m);
	if (!err)
		QTFS_I(inode)->attr_expire = jiffies;	/* ctime moved */
	return err;
}

ssize_t qtfs_listxattr(struct dentry *d, char *list, size_t size)
{
	return qtfs_xattr_fetch(d, QTFS_OP_LISTXATTR, NULL, list, size);
}

static const struct xattr_handler qtfs_xattr_handler = {
	.prefix = "",
	.get = qtfs_xattr_get,
	.set = qtfs_xattr_set,
};

const struct xattr_handler *qtfs_xattr_handlers[] = {
	&qtfs_xattr_handler,
	NULL,
};
