// SPDX-License-Identifier: GPL-2.0
/*
 * Tests/Vectors/aead against libcrypto, part of wire_vectors: the session keys of
 * keys.vec derived here (HKDF-SHA256 with HMAC from libcrypto, as docs/protocol.md says),
 * each sealed vector opened (its plaintext is the plain vector named in seal_check.h)
 * and sealed again to the same bytes, and a frame with one flipped bit refused.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qtfs/qtfs_wire.h>
#include "seal_check.h"
#include "vec_io.h"

#define FRAME_MAX 4096

static unsigned char keys[QTFS_KV_LEN];

static void hmac(const unsigned char *key, size_t klen, const unsigned char *msg, size_t n,
		 unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)klen, msg, n, out, &len);
}

/* PRK, both infos and keys of each suite from key, nonces and proofs, vs keys.vec. */
static void check_keys(void)
{
	unsigned char salt[64], prk[32], info[QTFS_KV_INFO_LEN + 1], key[32];
	int suite, dir;

	memcpy(salt, keys + QTFS_KV_NC, 32);
	memcpy(salt + 32, keys + QTFS_KV_NS, 32);
	hmac(salt, sizeof(salt), keys + QTFS_KV_KEY, 32, prk);
	vec_check(!memcmp(prk, keys + QTFS_KV_PRK, 32), "aead/keys.vec", "PRK differs");
	for (suite = 1; suite <= 2; suite++) {
		for (dir = 1; dir <= 2; dir++) {
			memcpy(info, "qtfs-aead-v1", 12);
			info[12] = (unsigned char)dir;
			info[13] = (unsigned char)suite;
			info[14] = 0;
			memcpy(info + 15, keys + QTFS_KV_PS, 32);
			memcpy(info + 47, keys + QTFS_KV_PC, 32);
			info[QTFS_KV_INFO_LEN] = 1;
			vec_check(!memcmp(info, keys + qtfs_kv_info(suite, dir), QTFS_KV_INFO_LEN),
				  "aead/keys.vec", "an info differs");
			hmac(prk, sizeof(prk), info, sizeof(info), key);
			vec_check(!memcmp(key, keys + qtfs_kv_key(suite, dir), 32), "aead/keys.vec",
				  "a derived key differs");
		}
	}
}

/* Seals (enc) or opens frame (len bytes as sent when opening, plain when sealing) into out. */
static long aead(int suite, int dir, unsigned long long counter, int enc,
		 const unsigned char *frame, size_t len, unsigned char *out)
{
	const EVP_CIPHER *c = suite == 1 ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char nonce[12] = { 0 }, hdr[QTFS_HDR_SIZE];
	size_t body = enc ? len - QTFS_HDR_SIZE : len - QTFS_HDR_SIZE - 16;
	int n = 0, ok, i;

	for (i = 0; i < 8; i++)
		nonce[4 + i] = (unsigned char)(counter >> (8 * i));
	memcpy(hdr, frame, QTFS_HDR_SIZE);
	if (enc)	/* the associated data is the header as sent: length counts the tag */
		for (i = 0; i < 4; i++)
			hdr[16 + i] = (unsigned char)((body + 16) >> (8 * i));
	memcpy(out, hdr, QTFS_HDR_SIZE);
	ok = EVP_CipherInit_ex(ctx, c, NULL, keys + qtfs_kv_key(suite, dir), nonce, enc) &&
	     EVP_CipherUpdate(ctx, NULL, &n, hdr, QTFS_HDR_SIZE) &&
	     EVP_CipherUpdate(ctx, out + QTFS_HDR_SIZE, &n, frame + QTFS_HDR_SIZE, (int)body);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(frame + len - 16));
	ok = ok && EVP_CipherFinal_ex(ctx, out + QTFS_HDR_SIZE + body, &n);
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + QTFS_HDR_SIZE + body);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? (long)(QTFS_HDR_SIZE + body + (enc ? 16 : 0)) : -1;
}

/* The plain frame a sealed vector carries, into plain; its length or -1. */
static long plain_frame(const char *vec_dir, const struct qtfs_sealed_vec *v, unsigned char *plain)
{
	char path[4096];

	if (!v->plain)
		return (long)qtfs_stream_frame(plain, v->stream, strlen(v->stream));
	snprintf(path, sizeof(path), "%s/%s", vec_dir, v->plain);
	return read_vec(path, plain, FRAME_MAX);
}

static void check_sealed(const char *vec_dir, int suite, const struct qtfs_sealed_vec *v)
{
	unsigned char file[FRAME_MAX], plain[FRAME_MAX], got[FRAME_MAX];
	char path[4096], what[256];
	long n, pn, gn;

	snprintf(path, sizeof(path), "%s/aead/%s.%s", vec_dir, qtfs_suite_file[suite], v->name);
	snprintf(what, sizeof(what), "aead/%s.%s", qtfs_suite_file[suite], v->name);
	n = read_vec(path, file, sizeof(file));
	pn = plain_frame(vec_dir, v, plain);
	if (n < 12 + QTFS_HDR_SIZE + 16 || pn < QTFS_HDR_SIZE) {
		vec_check(0, what, "unreadable, or its plain frame is");
		return;
	}
	gn = aead(suite, v->dir, v->counter, 0, file + 12, (size_t)n - 12, got);
	vec_check(gn == pn && !memcmp(got, plain, 16) && !memcmp(got + 20, plain + 20, (size_t)pn - 20),
		  what, "does not open to its plain frame");
	gn = aead(suite, v->dir, v->counter, 1, plain, (size_t)pn, got);
	vec_check(gn == n - 12 && !memcmp(got, file + 12, (size_t)gn), what,
		  "its plain frame does not seal to these bytes");
	file[n - 1] ^= 0x01;
	vec_check(aead(suite, v->dir, v->counter, 0, file + 12, (size_t)n - 12, got) < 0, what,
		  "opens with a flipped tag bit");
	file[n - 1] ^= 0x01;
	vec_check(aead(suite, v->dir, v->counter + 1, 0, file + 12, (size_t)n - 12, got) < 0, what,
		  "opens under the next counter (a replay would pass)");
}

/* Returns the number of sealed vector files checked. */
int check_sealed_vectors(const char *vec_dir)
{
	char path[4096];
	int suite, files = 0;
	size_t i;

	snprintf(path, sizeof(path), "%s/aead/keys.vec", vec_dir);
	if (read_vec(path, keys, sizeof(keys)) != QTFS_KV_LEN) {
		vec_check(0, "aead/keys.vec", "unreadable, or not 636 bytes");
		return 0;
	}
	check_keys();
	for (suite = 1; suite <= 2; suite++)
		for (i = 0; i < sizeof(qtfs_sealed_vecs) / sizeof(qtfs_sealed_vecs[0]); i++, files++)
			check_sealed(vec_dir, suite, &qtfs_sealed_vecs[i]);
	return files;
}
