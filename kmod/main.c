// SPDX-License-Identifier: GPL-2.0
/* qtfs.ko: kernel client for qtfs-server (wire protocol v1). Init and exit. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/workqueue.h>
#include "qtfs.h"

int qtfs_log_level = QTFS_LOG_WARN;
module_param_named(log_level, qtfs_log_level, int, 0644);
MODULE_PARM_DESC(log_level, "0 none, 1 error, 2 warn (default), 3 info, 4 debug");

struct workqueue_struct *qtfs_wq;

static int __init qtfs_init(void)
{
	int err;

	qtfs_wq = alloc_workqueue("qtfs", WQ_MEM_RECLAIM, 0);
	if (!qtfs_wq)
		return -ENOMEM;
	/* the transport's upcalls: changes make snapshots stale, POLL_READY wakes pollers */
	qtfs_prefetch_init();
	qtfs_poll_init();
	err = qtfs_inode_cache_init();
	if (err)
		goto out_wq;
	err = qtfs_genl_init();
	if (err)
		goto out_cache;
	err = register_filesystem(&qtfs_fs_type);
	if (err)
		goto out_genl;
	pr_info("loaded (wire protocol v%d)\n", QTFS_VERSION);
	return 0;
out_genl:
	qtfs_genl_exit();
out_cache:
	qtfs_inode_cache_exit();
out_wq:
	destroy_workqueue(qtfs_wq);
	return err;
}

static void __exit qtfs_exit(void)
{
	unregister_filesystem(&qtfs_fs_type);
	qtfs_genl_exit();
	qtfs_inode_cache_exit();
	destroy_workqueue(qtfs_wq);
	pr_info("unloaded\n");
}

module_init(qtfs_init);
module_exit(qtfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("qtfs remote file system client (wire protocol v1)");
MODULE_ALIAS_FS("qtfs");
