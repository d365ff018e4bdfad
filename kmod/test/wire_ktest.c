// SPDX-License-Identifier: GPL-2.0
/*
 * The codec vectors in the kernel: built by run-vm-test.sh together with
 * qtfs_wire.c and a header generated from Tests/Vectors (vectors-to-c.sh),
 * loaded in the VM, prints "qtfs_wire_ktest: V vectors, N passed, N failed". The
 * sealed-frame vectors (seal_ktest.c, with the module's seal.c and auth.c) count in N.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <qtfs/qtfs_wire.h>
#include "wire_check.h"
#include "vectors.h"

int qtfs_check_sealed(int *passed);

/*
 * The authentication example of docs/protocol.md (key 00..1f, client nonce 40..5f,
 * server nonce 80..9f): both proofs computed with the kernel's hmac(sha256) must equal
 * the ones in the spec, and those in the auth vectors when Tests/Vectors has them.
 */
static const u8 qtfs_example_proof[2][QTFS_AUTH_PROOF] = {
	{ 0xb7, 0xda, 0x1f, 0x22, 0x5e, 0xa2, 0x9c, 0x3b, 0x5b, 0x47, 0x48, 0xa8, 0xaf, 0x84, 0xdd, 0xbd,
	  0xc4, 0x3e, 0x4e, 0xa1, 0x6a, 0x26, 0xfa, 0xb0, 0x31, 0x5f, 0xc2, 0xfe, 0x18, 0x08, 0xa5, 0xac },
	{ 0x23, 0x58, 0x78, 0x38, 0xb6, 0x80, 0x29, 0x61, 0xdb, 0x44, 0xc4, 0xe9, 0x2d, 0x49, 0xae, 0x5a,
	  0xff, 0x63, 0x5b, 0x8b, 0x99, 0x24, 0xda, 0x9a, 0x63, 0x45, 0xcc, 0x07, 0x12, 0x95, 0x82, 0x4f },
};
static const char *const qtfs_proof_vector[2] = { "auth-challenge.response.vec", "auth-response.request.vec" };

static int qtfs_example_hmac(u8 role, u8 *proof)
{
	u8 key[32], nc[QTFS_AUTH_NONCE], ns[QTFS_AUTH_NONCE], t[QTFS_AUTH_TRANSCRIPT_LEN];
	struct crypto_shash *tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	int i, err;

	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	for (i = 0; i < 32; i++) {
		key[i] = i;
		nc[i] = 0x40 + i;
		ns[i] = 0x80 + i;
	}
	qtfs_auth_transcript(t, role, 1, QTFS_AUTH_METHOD_HMAC_SHA256, nc, ns);
	err = crypto_shash_setkey(tfm, key, sizeof(key));
	if (!err)
		err = crypto_shash_tfm_digest(tfm, t, sizeof(t), proof);
	crypto_free_shash(tfm);
	return err;
}

/* Returns the number of failed checks; *passed counts the others. */
static int qtfs_check_auth_example(struct qtfs_msg *m, int *passed)
{
	struct qtfs_hdr h;
	u8 proof[QTFS_AUTH_PROOF];
	int role, i, failed = 0;

	for (role = 0; role < 2; role++) {
		if (qtfs_example_hmac(role + 1, proof) ||
		    memcmp(proof, qtfs_example_proof[role], sizeof(proof))) {
			pr_err("FAIL auth example: proof of role %d\n", role + 1);
			failed++;
			continue;
		}
		(*passed)++;
		for (i = 0; i < ARRAY_SIZE(qtfs_vectors); i++) {
			if (strcmp(qtfs_vectors[i].name, qtfs_proof_vector[role]))
				continue;
			if (qtfs_hdr_decode(qtfs_vectors[i].bytes, &h) ||
			    qtfs_decode(qtfs_vectors[i].bytes + QTFS_HDR_SIZE, h.length, h.kind,
					h.opcode, m) || memcmp(m->proof, proof, sizeof(proof))) {
				pr_err("FAIL %s: proof differs from hmac(sha256)\n", qtfs_vectors[i].name);
				failed++;
			} else {
				(*passed)++;
			}
		}
	}
	return failed;
}

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
	failed += qtfs_check_auth_example(m, &passed);
	failed += qtfs_check_sealed(&passed);	/* seal_ktest.c: Tests/Vectors/aead */
	pr_info("%d vectors, %d passed, %d failed\n", (int)ARRAY_SIZE(qtfs_vectors), passed, failed);
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
