// SPDX-License-Identifier: GPL-2.0
/*
 * Tests/Vectors/aead inside the guest kernel, through the module's own kmod/seal.c and
 * the kernel crypto API: keys derived by qtfs_seal_derive equal keys.vec's; the client's
 * sealed vectors come out of qtfs_seal_frame byte for byte, in counter order; the
 * server's open with qtfs_unseal_frame to their plain vectors, while a flipped bit and a
 * replay are refused; a large frame in vmalloc memory goes through and back.
 * Part of qtfs_wire_ktest.ko (wire_ktest.c prints the totals).
 */
#define pr_fmt(fmt) "qtfs_wire_ktest: " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <qtfs/qtfs_wire.h>
#include "transport.h"
#include "seal_check.h"
#include "vectors.h"
#include "aead_vectors.h"

int qtfs_log_level = QTFS_LOG_WARN;	/* seal.c and auth.c log through it */

static const struct qtfs_vector *qtfs_find(const struct qtfs_vector *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static int qtfs_result(bool ok, const char *what, const char *name, int *passed)
{
	if (ok) {
		(*passed)++;
		return 0;
	}
	pr_err("FAIL seal %s: %s\n", name, what);
	return 1;
}

/* The plain frame of v into buf (room for the tag after it): its length, 0 if absent. */
static size_t qtfs_plain(const struct qtfs_sealed_vec *v, u8 *buf)
{
	const struct qtfs_vector *p;

	if (!v->plain)
		return qtfs_stream_frame(buf, v->stream, strlen(v->stream));
	p = qtfs_find(qtfs_vectors, ARRAY_SIZE(qtfs_vectors), v->plain);
	if (!p || p->len > PAGE_SIZE)
		return 0;
	memcpy(buf, p->bytes, p->len);
	return p->len;
}

/* One vector through tx (client to server: seal and compare) or rx (open, tamper, replay). */
static int qtfs_seal_one(struct qtfs_seal *s, int suite, const struct qtfs_sealed_vec *v,
			 u8 *buf, u8 *plain, int *passed)
{
	char name[64];
	const struct qtfs_vector *sv;
	size_t pn = qtfs_plain(v, plain), n;
	int err, failed = 0;

	snprintf(name, sizeof(name), "%s.%s", qtfs_suite_file[suite], v->name);
	sv = qtfs_find(qtfs_aead_vectors, ARRAY_SIZE(qtfs_aead_vectors), name);
	if (!sv || !pn || sv->len < 12 + QTFS_HDR_SIZE + QTFS_AEAD_TAG || sv->len > PAGE_SIZE)
		return qtfs_result(false, "vector or its plain frame missing", name, passed);
	n = sv->len - 12;
	if (v->dir == 1) {
		memcpy(buf, plain, pn);
		err = qtfs_seal_frame(s, buf, pn - QTFS_HDR_SIZE);
		return qtfs_result(!err && !memcmp(buf, sv->bytes + 12, n), "sealed bytes differ", name, passed);
	}
	memcpy(buf, sv->bytes + 12, n);
	buf[n - 1] ^= 0x80;	/* a flipped tag bit: refused, and the counter stays */
	err = qtfs_unseal_frame(s, buf, buf + QTFS_HDR_SIZE, n - QTFS_HDR_SIZE);
	failed += qtfs_result(err == -EBADMSG, "a flipped bit was not refused", name, passed);
	memcpy(buf, sv->bytes + 12, n);
	err = qtfs_unseal_frame(s, buf, buf + QTFS_HDR_SIZE, n - QTFS_HDR_SIZE);
	failed += qtfs_result(!err && !memcmp(buf + QTFS_HDR_SIZE, plain + QTFS_HDR_SIZE, pn - QTFS_HDR_SIZE),
			      "does not open to its plain frame", name, passed);
	return failed;
}

/* The server's first frame again, after both were opened (counter 2): a replay does not open. */
static int qtfs_seal_replay(struct qtfs_seal *s, int suite, u8 *buf, int *passed)
{
	char name[64];
	const struct qtfs_vector *sv;
	int err = 0;

	snprintf(name, sizeof(name), "%s.attr.response.vec", qtfs_suite_file[suite]);
	sv = qtfs_find(qtfs_aead_vectors, ARRAY_SIZE(qtfs_aead_vectors), name);
	if (sv && sv->len >= 12 + QTFS_HDR_SIZE + QTFS_AEAD_TAG && sv->len <= PAGE_SIZE) {
		memcpy(buf, sv->bytes + 12, sv->len - 12);
		err = qtfs_unseal_frame(s, buf, buf + QTFS_HDR_SIZE, sv->len - 12 - QTFS_HDR_SIZE);
	}
	return qtfs_result(err == -EBADMSG, "a replayed frame opened", name, passed);
}

/* A sealed frame of 300 KiB in vmalloc memory (many pages, unaligned) opened by its peer. */
static int qtfs_seal_big(int suite, u8 keys[2][QTFS_AEAD_KEY], int *passed)
{
	u8 swapped[2][QTFS_AEAD_KEY];
	struct qtfs_seal *tx = qtfs_seal_create(suite, keys), *rx;
	size_t len = 300 * 1024, i;
	u8 *buf = vmalloc(QTFS_HDR_SIZE + len + QTFS_AEAD_TAG + 1), *frame = buf + 1;
	struct qtfs_hdr h = { .kind = QTFS_KIND_RSP, .opcode = QTFS_OP_READ, .id = 9, .length = len };
	int err = -ENOMEM;

	memcpy(swapped[0], keys[1], QTFS_AEAD_KEY);
	memcpy(swapped[1], keys[0], QTFS_AEAD_KEY);
	rx = qtfs_seal_create(suite, swapped);	/* its receive key is tx's send key */
	if (buf && !IS_ERR(tx) && !IS_ERR(rx)) {
		qtfs_hdr_encode(frame, &h);
		for (i = 0; i < len; i++)
			frame[QTFS_HDR_SIZE + i] = (u8)(i * 7);
		err = qtfs_seal_frame(tx, frame, len);
		if (!err)
			err = qtfs_unseal_frame(rx, frame, frame + QTFS_HDR_SIZE, len + QTFS_AEAD_TAG);
		for (i = 0; i < len && !err; i++)
			err = frame[QTFS_HDR_SIZE + i] == (u8)(i * 7) ? 0 : -EIO;
	}
	vfree(buf);
	qtfs_seal_free(tx);
	qtfs_seal_free(rx);
	return qtfs_result(!err, "a 300 KiB frame in vmalloc memory did not go through", qtfs_suite_file[suite], passed);
}

static int qtfs_seal_suite_check(int suite, const u8 *kv, u8 *buf, u8 *plain, int *passed)
{
	u8 keys[2][QTFS_AEAD_KEY];
	struct qtfs_seal *s;
	int failed = 0, dir, err;
	size_t i;

	err = qtfs_seal_derive(kv + QTFS_KV_KEY, 32, suite, kv + QTFS_KV_NC, kv + QTFS_KV_NS,
			       kv + QTFS_KV_PS, kv + QTFS_KV_PC, keys);
	for (dir = 1; dir <= 2; dir++)
		failed += qtfs_result(!err && !memcmp(keys[dir - 1], kv + qtfs_kv_key(suite, dir), 32),
				      "derived key differs from keys.vec", qtfs_suite_file[suite], passed);
	s = qtfs_seal_create(suite, keys);
	if (IS_ERR(s))
		return failed + qtfs_result(false, "no AEAD (are the crypto modules loaded?)",
					    qtfs_suite_file[suite], passed);
	for (i = 0; i < ARRAY_SIZE(qtfs_sealed_vecs); i++)
		failed += qtfs_seal_one(s, suite, &qtfs_sealed_vecs[i], buf, plain, passed);
	failed += qtfs_seal_replay(s, suite, buf, passed);
	qtfs_seal_free(s);
	failed += qtfs_seal_big(suite, keys, passed);
	memzero_explicit(keys, sizeof(keys));
	return failed;
}

/* Returns the number of failed checks; *passed counts the others. */
int qtfs_check_sealed(int *passed)
{
	const struct qtfs_vector *kv = qtfs_find(qtfs_aead_vectors, ARRAY_SIZE(qtfs_aead_vectors), "keys.vec");
	u8 *buf = kmalloc(PAGE_SIZE, GFP_KERNEL), *plain = kmalloc(PAGE_SIZE, GFP_KERNEL);
	int suite, failed = 0;

	if (!kv || kv->len != QTFS_KV_LEN || !buf || !plain) {
		failed = qtfs_result(false, "no keys.vec of 636 bytes, or no memory", "keys.vec", passed);
		goto out;
	}
	for (suite = 1; suite <= 2; suite++)
		failed += qtfs_seal_suite_check(suite, kv->bytes, buf, plain, passed);
	pr_info("sealed frames: %d vectors, suites %s and %s\n", (int)ARRAY_SIZE(qtfs_aead_vectors),
		qtfs_suite_name(1), qtfs_suite_name(2));
out:
	kfree(buf);
	kfree(plain);
	return failed;
}
