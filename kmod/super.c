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

static struct timespec64 qtfs_ts(const struct qtfs_time *t)
{
	return (struct timespec64){ .tv_sec = t->sec, .tv_nsec = t->nsec };
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

static int qtfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct qtfs_sb *sbi = QTFS_SB(dentry->d_sb);
	struct qtfs_path p;
	struct qtfs_msg *m;
	struct qtfs_req *req;
	int err;

	m = qtfs_msg_alloc();
	if (!m)
		return -ENOMEM;
	err = qtfs_path_get(sbi, dentry, &p);
	if (err)
		goto out_msg;
	qtfs_fill_caller(&m->caller);
	m->t1 = p.t;
	err = qtfs_call(sbi, QTFS_OP_STATFS, m, &req);
	if (err)
		goto out_path;
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
out_path:
	qtfs_path_put(&p);
out_msg:
	kfree(m);
	return err;
}

static const struct super_operations qtfs_sops = {
	.alloc_inode = qtfs_alloc_inode,
	.free_inode = qtfs_free_inode,
	.statfs = qtfs_statfs,
	.show_options = qtfs_show_options,
	.drop_inode = generic_delete_inode,	/* no local state worth keeping */
};

static int qtfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct qtfs_sb *sbi = sb->s_fs_info;
	struct qtfs_attr root_attr;
	struct inode *root;
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
	spin_lock(&sbi->conn.lock);
	root_attr = sbi->conn.root_attr;
	spin_unlock(&sbi->conn.lock);
	if (!S_ISDIR(root_attr.mode))
		return -ENOTDIR;
	root = qtfs_iget(sb, &root_attr);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
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
	if (sbi->mounter)
		put_cred(sbi->mounter);
	kfree(sbi->source);
	kfree(sbi);
}

static int qtfs_get_tree(struct fs_context *fc)
{
	struct qtfs_sb *sbi = fc->s_fs_info;

	if (!fc->source || fc->source[0] != '/')
		return invalfc(fc, "the mount source must be an absolute host path");
	sbi->source = kstrdup(fc->source, GFP_KERNEL);
	if (!sbi->source)
		return -ENOMEM;
	sbi->mounter = get_cred(fc->cred);
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
	qtfs_conn_init(&sbi->conn, sbi);
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
