// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed frames (docs/protocol.md, "Sealed frames"): after authentication every frame
 * is encrypted and authenticated with an AEAD from the kernel crypto API, AES-256-GCM
 * ("gcm(aes)") or ChaCha20-Poly1305 ("rfc7539(chacha20,poly1305)"), with one key per
 * direction derived by HKDF-SHA256 from the pre-shared key and the handshake, and the
 * sender's frame counter as the nonce. The 24-byte header travels in clear and is the
 * associated data. This file is the crypto; sock.c and conn.c call it per frame.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/aead.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/version.h>
#include <asm/cpufeature.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif
#include "transport.h"

static bool qtfs_offer_aes = true;
module_param_named(offer_aes, qtfs_offer_aes, bool, 0644);
MODULE_PARM_DESC(offer_aes, "offer AES-256-GCM when the CPU has AES instructions (default Y; N: ChaCha20-Poly1305 only)");

enum { QTFS_SEAL_TX, QTFS_SEAL_RX };

/* Scatterlist entries for a frame of the largest payload in vmalloc memory, and the header. */
#define QTFS_SEAL_SG	(DIV_ROUND_UP(QTFS_MAX_PAYLOAD + QTFS_AEAD_TAG, PAGE_SIZE) + 3)

struct qtfs_seal {
	u8 suite;
	struct crypto_aead *tfm[2];
	struct aead_request *req[2];
	u64 counter[2];			/* the next frame's number, per direction */
	u8 iv[2][QTFS_AEAD_NONCE];
	u8 aad[QTFS_HDR_SIZE];		/* a received header (not on the stack: it goes in an sg) */
	struct scatterlist *sg[2];	/* QTFS_SEAL_SG entries each */
};

static bool qtfs_cpu_has_aes(void)
{
#if defined(CONFIG_X86)
	return boot_cpu_has(X86_FEATURE_AES);
#elif defined(CONFIG_ARM64)
	return cpu_have_named_feature(AES);
#else
	return false;
#endif
}

const char *qtfs_suite_name(u8 suite)
{
	switch (suite) {
	case QTFS_AEAD_SUITE_AES256GCM:
		return "aes-256-gcm";
	case QTFS_AEAD_SUITE_CHACHA20POLY1305:
		return "chacha20-poly1305";
	}
	return "none";
}

/* The suite bits this mount offers in HELLO: none with crypt=none or without a key. */
u64 qtfs_seal_offer(const struct qtfs_opts *o)
{
	u64 caps = QTFS_CAP_AEAD_CHACHA20POLY1305;

	if (!o->key_len || o->crypt_none)
		return 0;
	if (READ_ONCE(qtfs_offer_aes) && qtfs_cpu_has_aes())
		caps |= QTFS_CAP_AEAD_AES256GCM;
	return caps;
}

/*
 * The suite the server's HELLO answer chose, checked against what we offered: the
 * suite id, 0 for plaintext (only when both sides are configured for it), or -errno.
 */
int qtfs_seal_choice(const struct qtfs_opts *o, u64 offered, u64 server_caps)
{
	u64 chosen = server_caps & (QTFS_CAP_AEAD_AES256GCM | QTFS_CAP_AEAD_CHACHA20POLY1305);

	if (!offered && chosen) {
		qtfs_err("server %pI4:%u chose a cipher but this mount has crypt=none: protocol error\n",
			 &o->server, o->port);
		return -EPROTO;
	}
	if (!offered)
		return 0;
	if (!chosen) {
		qtfs_err("server %pI4:%u does not seal frames (qtfs-server --crypt none, or older than sealed frames): upgrade it or start it with --crypt aead; mount with crypt=none only on a link you trust\n",
			 &o->server, o->port);
		return -EACCES;
	}
	if (hweight64(chosen) != 1 || !(chosen & offered) || !(server_caps & QTFS_CAP_AUTH)) {
		qtfs_err("server %pI4:%u answered HELLO with caps %#llx, not one suite we offered (%#llx) with authentication: refusing it\n",
			 &o->server, o->port, server_caps, offered);
		return -EPROTO;
	}
	return chosen == QTFS_CAP_AEAD_AES256GCM ? QTFS_AEAD_SUITE_AES256GCM
						 : QTFS_AEAD_SUITE_CHACHA20POLY1305;
}

/*
 * HKDF-SHA256 (RFC 5869) of the docs: PRK = HMAC(Nc | Ns, K), then per direction
 * key = HMAC(PRK, "qtfs-aead-v1" dir suite Ps Pc 0x01). keys[0] client to server.
 */
int qtfs_seal_derive(const u8 *key, unsigned int key_len, u8 suite, const u8 *nc, const u8 *ns,
		     const u8 *ps, const u8 *pc, u8 keys[2][QTFS_AEAD_KEY])
{
	u8 salt[2 * QTFS_AUTH_NONCE], prk[32], info[12 + 1 + 2 + 2 * QTFS_AUTH_PROOF + 1];
	int dir, err;

	memcpy(salt, nc, QTFS_AUTH_NONCE);
	memcpy(salt + QTFS_AUTH_NONCE, ns, QTFS_AUTH_NONCE);
	err = qtfs_hmac_sha256(salt, sizeof(salt), key, key_len, prk);
	memcpy(info, "qtfs-aead-v1", 12);
	info[13] = suite;
	info[14] = 0;
	memcpy(info + 15, ps, QTFS_AUTH_PROOF);
	memcpy(info + 15 + QTFS_AUTH_PROOF, pc, QTFS_AUTH_PROOF);
	info[sizeof(info) - 1] = 1;
	for (dir = 0; dir < 2 && !err; dir++) {
		info[12] = dir + 1;	/* 1 client to server, 2 server to client */
		err = qtfs_hmac_sha256(prk, sizeof(prk), info, sizeof(info), keys[dir]);
	}
	memzero_explicit(prk, sizeof(prk));
	return err;
}

static int qtfs_seal_tfm(struct qtfs_seal *s, int dir, const u8 *key)
{
	const char *alg = s->suite == QTFS_AEAD_SUITE_AES256GCM ? "gcm(aes)" : "rfc7539(chacha20,poly1305)";
	struct crypto_aead *tfm = crypto_alloc_aead(alg, 0, 0);
	int err;

	if (IS_ERR(tfm)) {
		qtfs_err("no %s in this kernel (%ld): load its modules (gcm, ghash, ctr / chacha20poly1305, chacha, poly1305)\n",
			 alg, PTR_ERR(tfm));
		return PTR_ERR(tfm);
	}
	s->tfm[dir] = tfm;
	err = crypto_aead_setkey(tfm, key, QTFS_AEAD_KEY);
	if (!err)
		err = crypto_aead_setauthsize(tfm, QTFS_AEAD_TAG);
	s->req[dir] = err ? NULL : aead_request_alloc(tfm, GFP_KERNEL);
	s->sg[dir] = err ? NULL : kmalloc_array(QTFS_SEAL_SG, sizeof(struct scatterlist), GFP_KERNEL);
	if (!err && (!s->req[dir] || !s->sg[dir]))
		err = -ENOMEM;
	return err;
}

/* The sealing state of one connection from its two keys (keys[0]: client to server). */
struct qtfs_seal *qtfs_seal_create(u8 suite, u8 keys[2][QTFS_AEAD_KEY])
{
	struct qtfs_seal *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int err;

	if (!s)
		return ERR_PTR(-ENOMEM);
	s->suite = suite;
	err = qtfs_seal_tfm(s, QTFS_SEAL_TX, keys[0]);
	if (!err)
		err = qtfs_seal_tfm(s, QTFS_SEAL_RX, keys[1]);
	if (err) {
		qtfs_seal_free(s);
		return ERR_PTR(err);
	}
	return s;
}

/* The sealing state of a connection whose handshake had these nonces and proofs. */
struct qtfs_seal *qtfs_seal_session(const struct qtfs_opts *o, u8 suite, const u8 *nc,
				    const u8 *ns, const u8 *ps, const u8 *pc)
{
	u8 keys[2][QTFS_AEAD_KEY];
	struct qtfs_seal *s;
	int err = qtfs_seal_derive(o->key, o->key_len, suite, nc, ns, ps, pc, keys);

	s = err ? ERR_PTR(err) : qtfs_seal_create(suite, keys);
	memzero_explicit(keys, sizeof(keys));
	return s;
}

void qtfs_seal_free(struct qtfs_seal *s)
{
	int dir;

	if (IS_ERR_OR_NULL(s))
		return;
	for (dir = 0; dir < 2; dir++) {
		aead_request_free(s->req[dir]);
		kfree(s->sg[dir]);
		if (s->tfm[dir])
			crypto_free_aead(s->tfm[dir]);	/* wipes the key schedule */
	}
	kfree_sensitive(s);
}

u8 qtfs_seal_suite(const struct qtfs_seal *s)
{
	return s ? s->suite : 0;
}

/* Entries qtfs_sg_add needs for len bytes at buf: one, or one per page of vmalloc memory. */
static unsigned int qtfs_sg_count(const u8 *buf, size_t len)
{
	return is_vmalloc_addr(buf) ? DIV_ROUND_UP(offset_in_page(buf) + len, PAGE_SIZE) : 1;
}

/* Fills sg for len bytes at buf (kmalloc'd or vmalloc'd, as kvmalloc gives). */
static void qtfs_sg_add(struct scatterlist *sg, const u8 *buf, size_t len)
{
	int n = 0;

	if (!is_vmalloc_addr(buf)) {
		sg_set_buf(sg, buf, len);
		return;
	}
	while (len) {
		size_t off = offset_in_page(buf), chunk = min_t(size_t, len, PAGE_SIZE - off);

		sg_set_page(&sg[n++], vmalloc_to_page(buf), chunk, off);
		buf += chunk;
		len -= chunk;
	}
}

/* Encrypts (tx) or decrypts (rx) the frame in sg: AAD the header, cryptlen after it. */
static int qtfs_seal_run(struct qtfs_seal *s, int dir, unsigned int cryptlen)
{
	struct aead_request *req = s->req[dir];
	DECLARE_CRYPTO_WAIT(wait);
	u64 n = s->counter[dir];
	int err;

	if (n == U64_MAX)
		return -EOVERFLOW;	/* never reuse a nonce: the connection closes instead */
	memset(s->iv[dir], 0, 4);
	put_unaligned_le64(n, s->iv[dir] + 4);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP | CRYPTO_TFM_REQ_MAY_BACKLOG,
				  crypto_req_done, &wait);
	aead_request_set_ad(req, QTFS_HDR_SIZE);
	aead_request_set_crypt(req, s->sg[dir], s->sg[dir], cryptlen, s->iv[dir]);
	err = crypto_wait_req(dir == QTFS_SEAL_TX ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req),
			      &wait);
	if (!err)
		s->counter[dir] = n + 1;
	return err;
}

/*
 * Seals the frame at buf in place: a header and payload_len bytes of payload, with
 * QTFS_AEAD_TAG spare bytes after them. The header's length grows by the tag. Call in
 * send order (under the connection's send lock): the counter is the nonce.
 */
int qtfs_seal_frame(struct qtfs_seal *s, u8 *buf, u32 payload_len)
{
	u32 total = QTFS_HDR_SIZE + payload_len + QTFS_AEAD_TAG;

	if (qtfs_sg_count(buf, total) > QTFS_SEAL_SG)
		return -EMSGSIZE;
	put_unaligned_le32(payload_len + QTFS_AEAD_TAG, buf + 16);
	sg_init_table(s->sg[QTFS_SEAL_TX], qtfs_sg_count(buf, total));	/* marks the end */
	qtfs_sg_add(s->sg[QTFS_SEAL_TX], buf, total);
	return qtfs_seal_run(s, QTFS_SEAL_TX, payload_len);
}

/*
 * Opens a received frame in place: hdr as it came (the associated data), payload of
 * len bytes (ciphertext and tag, len >= QTFS_AEAD_TAG). -EBADMSG: it does not open
 * (altered, dropped, reordered, replayed or injected).
 */
int qtfs_unseal_frame(struct qtfs_seal *s, const u8 *hdr, u8 *payload, u32 len)
{
	struct scatterlist *sg = s->sg[QTFS_SEAL_RX];
	unsigned int n = 1 + qtfs_sg_count(payload, len);

	if (n > QTFS_SEAL_SG)
		return -EMSGSIZE;
	memcpy(s->aad, hdr, QTFS_HDR_SIZE);
	sg_init_table(sg, n);	/* marks the end */
	sg_set_buf(sg, s->aad, QTFS_HDR_SIZE);
	qtfs_sg_add(sg + 1, payload, len);
	return qtfs_seal_run(s, QTFS_SEAL_RX, len);
}

/* The counter of the next frame expected from the server (for the log line of a failure). */
u64 qtfs_seal_rx_counter(const struct qtfs_seal *s)
{
	return s->counter[QTFS_SEAL_RX];
}
