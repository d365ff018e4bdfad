// SPDX-License-Identifier: GPL-2.0
/* Super block: fs_context, fill_super, inode cache and identity, statfs. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/cred.h>
#include <linux/statfs.h>
#include <linux/backing-dev.h>
#include "qtfs.h"

LIST_HEAD(qtfs_mounts);
DEFINE_MUTEX(qtfs_mounts_lock);
static struct kmem_cache *qtfs_inode_cachep;

static struct inode *qtfs_alloc_inode(struct super_block *sb)
{
	struct qtfs_inode *qi = alloc_inode_sb(sb, qtfs_inode_cachep, GFP_KERNEL);

	if (!qi)
		return NULL;
	qi->hdev = 0;
	qi->hino = 0;
	qi->aflags = 0;
	qi->attr_expire = 0;
	qi->perm_expire = 0;
	return &qi->vfs_inode;
}

static void qtfs_free_inode(struct inode *inode)
{
	kmem_cache_free(qtfs_inode_cachep, QTFS_I(inode));
}

static void qtfs_inode_once(void *p)
{
	inode_init_once(&((struct qtfs_inode *)p)->vfs_inode);
}

int qtfs_inode_cache_init(void)
{
	qtfs_inode_cachep = kmem_cache_create("qtfs_inode", sizeof(struct qtfs_inode), 0,
					      SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					      qtfs_inode_once);
	return qtfs_inode_cachep ? 0 : -ENOMEM;
}

void qtfs_inode_cache_exit(void)
{
	rcu_barrier();	/* inodes are freed after a grace period */
	kmem_cache_destroy(qtfs_inode_cachep);
}

static int qtfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	err = qtfs_call_at(QTFS_SB(dentry->d_sb), QTFS_OP_STATFS, dentry, m, &req);
	kfree(m);
	if (err)
		return err;
	buf->f_type = QTFS_SUPER_MAGIC;
	buf->f_bsize = req->out.st.bsize;
	buf->f_frsize = req->out.st.frsize;
	buf->f_blocks = req->out.st.blocks;
	buf->f_bfree = req->out.st.bfree;
	buf->f_bavail = req->out.st.bavail;
	buf->f_files = req->out.st.files;
	buf->f_ffree = req->out.st.ffree;
	buf->f_namelen = req->out.st.namemax;
	qtfs_req_put(req);
	return 0;
}

static const struct super_operations qtfs_sops = {
	.alloc_inode = qtfs_alloc_inode,
	.free_inode = qtfs_free_inode,
	.statfs = qtfs_statfs,
	.show_options = qtfs_show_options,
	.drop_inode = generic_delete_inode,	/* no local state worth keeping */
};

/* The root dentry, from the root attributes MOUNT answered with. */
static int qtfs_make_root(struct super_block *sb, struct qtfs_conn *c)
{
	struct qtfs_attr root_attr;
	struct inode *root;

	spin_lock(&c->lock);
	root_attr = c->mount.root_attr;
	spin_unlock(&c->lock);
	if (!S_ISDIR(root_attr.mode))
		return -ENOTDIR;
	root = qtfs_iget(sb, &root_attr);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int qtfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct qtfs_sb *sbi = sb->s_fs_info;
	int err;

	sbi->sb = sb;
	sb->s_magic = QTFS_SUPER_MAGIC;
	sb->s_op = &qtfs_sops;
	sb->s_d_op = &qtfs_dops;
	sb->s_xattr = qtfs_xattr_handlers;
	sb->s_time_gran = 1;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	err = super_setup_bdi(sb);
	if (err)
		return err;
	err = qtfs_conn_ensure(&sbi->conn);
	if (err) {
		errorfc(fc, "cannot mount %s from %pI4:%u: %d", sbi->source,
			&sbi->opts.server, sbi->opts.port, err);
		return err;
	}
	err = qtfs_make_root(sb, &sbi->conn);
	if (err)
		return err;
	mutex_lock(&qtfs_mounts_lock);
	list_add_tail(&sbi->node, &qtfs_mounts);
	mutex_unlock(&qtfs_mounts_lock);
	return 0;
}

static void qtfs_sbi_free(struct qtfs_sb *sbi)
{
	if (!sbi)
		return;
	qtfs_opts_free(&sbi->opts);
	qtfs_prefetch_destroy(sbi);
	kfree(sbi->source);
	kfree(sbi);
}

static int qtfs_get_tree(struct fs_context *fc)
{
	struct qtfs_sb *sbi = fc->s_fs_info;
	int err;

	if (!fc->source || fc->source[0] != '/')
		return invalfc(fc, "the mount source must be an absolute host path");
	err = qtfs_check_opts(fc, &sbi->opts, fc->source);
	if (err)
		return err;
	sbi->source = kstrdup(fc->source, GFP_KERNEL);
	if (!sbi->source)
		return -ENOMEM;
	/* MOUNT is sent as the mounter, also when a later request reconnects */
	sbi->conn.source = sbi->source;
	qtfs_fill_caller_cred(&sbi->conn.mounter, fc->cred);
	return get_tree_nodev(fc, qtfs_fill_super);
}

static void qtfs_free_fc(struct fs_context *fc)
{
	qtfs_sbi_free(fc->s_fs_info);	/* NULL once a super block took it */
}

/* remount: timeouts may change; the server and the source may not. */
static int qtfs_reconfigure(struct fs_context *fc)
{
	struct qtfs_opts *n = &((struct qtfs_sb *)fc->s_fs_info)->opts;
	struct qtfs_opts *o = &QTFS_SB(fc->root->d_sb)->opts;

	if ((n->server_set && n->server != o->server) || (n->port_set && n->port != o->port))
		return invalfc(fc, "server and port cannot change on remount");
	WRITE_ONCE(o->attr_timeout_ms, n->attr_timeout_ms);
	WRITE_ONCE(o->entry_timeout_ms, n->entry_timeout_ms);
	WRITE_ONCE(o->conn_timeout, n->conn_timeout);
	WRITE_ONCE(o->req_timeout, n->req_timeout);
	return 0;
}

static const struct fs_context_operations qtfs_context_ops = {
	.parse_param = qtfs_parse_param,
	.get_tree = qtfs_get_tree,
	.reconfigure = qtfs_reconfigure,
	.free = qtfs_free_fc,
};

static int qtfs_init_fs_context(struct fs_context *fc)
{
	struct qtfs_sb *sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);

	if (!sbi)
		return -ENOMEM;
	sbi->opts.server = QTFS_DEF_SERVER;
	sbi->opts.port = QTFS_DEFAULT_PORT;
	sbi->opts.attr_timeout_ms = QTFS_DEF_ATTR_MS;
	sbi->opts.entry_timeout_ms = QTFS_DEF_ENTRY_MS;
	sbi->opts.conn_timeout = QTFS_DEF_CONN_TIMEOUT;
	sbi->opts.req_timeout = QTFS_DEF_REQ_TIMEOUT;
	INIT_LIST_HEAD(&sbi->node);
	mutex_init(&sbi->snap_lock);
	spin_lock_init(&sbi->poll_lock);
	INIT_LIST_HEAD(&sbi->pollers);
	qtfs_conn_init(&sbi->conn, &sbi->opts);
	fc->s_fs_info = sbi;
	fc->ops = &qtfs_context_ops;
	return 0;
}

static void qtfs_kill_sb(struct super_block *sb)
{
	struct qtfs_sb *sbi = sb->s_fs_info;

	kill_anon_super(sb);	/* releases every open file first */
	if (!sbi)
		return;
	mutex_lock(&qtfs_mounts_lock);
	list_del_init(&sbi->node);
	mutex_unlock(&qtfs_mounts_lock);
	qtfs_conn_destroy(&sbi->conn);
	qtfs_sbi_free(sbi);
}

struct file_system_type qtfs_fs_type = {
	.owner = THIS_MODULE,
	.name = "qtfs",
	.init_fs_context = qtfs_init_fs_context,
	.parameters = qtfs_param_specs,
	.kill_sb = qtfs_kill_sb,
};
