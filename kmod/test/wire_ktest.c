// SPDX-License-Identifier: GPL-2.0
/*
 * The codec vectors in the kernel: built by run-vm-test.sh together with
 * qtfs_wire.c and a header generated from Tests/Vectors (vectors-to-c.sh),
 * loaded in the VM, prints "qtfs_wire_ktest: N passed, N failed".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include "qtfs_wire.h"
#include "wire_check.h"
#include "vectors.h"

static int __init qtfs_wire_ktest_init(void)
{
	size_t cap = QTFS_HDR_SIZE + QTFS_MAX_PAYLOAD;
	unsigned char *out = kvmalloc(cap, GFP_KERNEL);
	struct qtfs_msg *m = kzalloc(sizeof(*m), GFP_KERNEL);
	int i, err, passed = 0, failed = 0;
	struct qtfs_hdr h;

	if (!out || !m) {
		kvfree(out);
		kfree(m);
		return -ENOMEM;
	}
	for (i = 0; i < ARRAY_SIZE(qtfs_vectors); i++) {
		err = qtfs_check_frame(qtfs_vectors[i].bytes, qtfs_vectors[i].len, &h, m, out, cap);
		if (err) {
			failed++;
			pr_err("FAIL %s: stage %d\n", qtfs_vectors[i].name, -err);
		} else {
			passed++;
		}
	}
	pr_info("%d passed, %d failed\n", passed, failed);
	kvfree(out);
	kfree(m);
	return 0;
}

static void __exit qtfs_wire_ktest_exit(void)
{
}

module_init(qtfs_wire_ktest_init);
module_exit(qtfs_wire_ktest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("qtfs wire codec vectors, in the kernel");
