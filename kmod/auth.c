// SPDX-License-Identifier: GPL-2.0
/*
 * Mutual HMAC-SHA256 challenge-response after HELLO (docs/protocol.md,
 * "Authentication"): the server proves it holds the mount's key first, then we do.
 * The key is a mount option (key_hex=HEX); it never travels, only proofs do.
 * This file computes and checks proofs; sock.c's handshake carries them. The proofs
 * and nonces also make the session keys of sealed frames (seal.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "transport.h"

/* HMAC-SHA256 of data under key into out (32 bytes); also the HKDF of seal.c. */
int qtfs_hmac_sha256(const u8 *key, unsigned int key_len, const u8 *data, size_t len, u8 *out)
{
	struct crypto_shash *tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	int err;

	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	err = crypto_shash_setkey(tfm, key, key_len);
	if (!err)
		err = crypto_shash_tfm_digest(tfm, data, len, out);
	crypto_free_shash(tfm);
	return err;
}

/* HMAC(key, T(role)) for this exchange. */
static int qtfs_auth_proof(const struct qtfs_opts *o, u8 role, u16 version,
			   const u8 *client_nonce, const u8 *server_nonce, u8 *proof)
{
	u8 t[QTFS_AUTH_TRANSCRIPT_LEN];

	qtfs_auth_transcript(t, role, version, QTFS_AUTH_METHOD_HMAC_SHA256, client_nonce,
			     server_nonce);
	return qtfs_hmac_sha256(o->key, o->key_len, t, sizeof(t), proof);
}

/* The AUTH_CHALLENGE request: our method and a fresh nonce. */
void qtfs_auth_challenge(struct qtfs_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->method = QTFS_AUTH_METHOD_HMAC_SHA256;
	get_random_bytes(m->client_nonce, sizeof(m->client_nonce));
}

/*
 * Checks the server's proof in the AUTH_CHALLENGE answer (constant time) and, if it
 * holds, computes ours for AUTH_RESPONSE. 0 or -errno (-EACCES: the server's proof
 * did not match).
 */
int qtfs_auth_prove(const struct qtfs_opts *o, u16 version, const u8 *client_nonce,
		    const struct qtfs_msg *challenge_answer, u8 *our_proof)
{
	const u8 *server_nonce = challenge_answer->server_nonce;
	u8 want[QTFS_AUTH_PROOF];
	int err;

	err = qtfs_auth_proof(o, QTFS_AUTH_ROLE_SERVER, version, client_nonce, server_nonce, want);
	if (err)
		goto out;
	if (crypto_memneq(want, challenge_answer->proof, sizeof(want))) {
		qtfs_err("server %pI4:%u failed to prove it holds the key: wrong key, or not the qtfs-server you meant\n",
			 &o->server, o->port);
		err = -EACCES;
		goto out;
	}
	err = qtfs_auth_proof(o, QTFS_AUTH_ROLE_CLIENT, version, client_nonce, server_nonce, our_proof);
out:
	memzero_explicit(want, sizeof(want));
	return err;
}

/* After HELLO: which side wants authentication decides whether the mount goes on. */
int qtfs_auth_policy(const struct qtfs_opts *o, u64 server_caps)
{
	bool required = server_caps & QTFS_CAP_AUTH;

	if (required && !o->key_len) {
		qtfs_err("server %pI4:%u requires authentication: mount with key_hex=HEX (mount.qtfs: key=KEYFILE)\n",
			 &o->server, o->port);
		return -EACCES;
	}
	if (!required && o->key_len) {
		qtfs_err("server %pI4:%u does not authenticate but this mount has a key: refusing to talk to it\n",
			 &o->server, o->port);
		return -EACCES;
	}
	return required ? 1 : 0;
}
