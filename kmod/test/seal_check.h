/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sealed-frame vectors of Tests/Vectors/aead (docs/protocol.md, "Sealed frames",
 * "Vectors"): where each field of keys.vec lies, and what each sealed vector is the
 * sealed form of. Shared by seal_vectors.c (userspace, libcrypto) and seal_ktest.c (in
 * the kernel, through kmod/seal.c) so both check the same thing.
 */
#ifndef QTFS_SEAL_CHECK_H
#define QTFS_SEAL_CHECK_H
/* include <qtfs/qtfs_wire.h> first */

/* keys.vec: key, Nc, Ns, Ps, Pc, PRK (32 bytes each), then per suite and direction
 * (client to server first) the HKDF info (79 bytes) and the key (32). */
#define QTFS_KV_KEY		0
#define QTFS_KV_NC		32
#define QTFS_KV_NS		64
#define QTFS_KV_PS		96
#define QTFS_KV_PC		128
#define QTFS_KV_PRK		160
#define QTFS_KV_INFO_LEN	(12 + 1 + 2 + 2 * QTFS_AUTH_PROOF)
#define QTFS_KV_LEN		(192 + 2 * 2 * (QTFS_KV_INFO_LEN + QTFS_AEAD_KEY))

/* dir: 1 client to server, 2 server to client */
static inline unsigned int qtfs_kv_info(int suite, int dir)
{
	return 192 + ((suite - 1) * 2 + (dir - 1)) * (QTFS_KV_INFO_LEN + QTFS_AEAD_KEY);
}

static inline unsigned int qtfs_kv_key(int suite, int dir)
{
	return qtfs_kv_info(suite, dir) + QTFS_KV_INFO_LEN;
}

/* Each sealed vector: a 12-byte nonce line, then the frame as sent. */
struct qtfs_sealed_vec {
	const char *name;	/* after "<suite>." */
	int dir;
	unsigned long long counter;
	const char *plain;	/* the vector it seals, or NULL: a STREAM frame of stream bytes */
	const char *stream;
};

/* In each direction's counter order: a sender seals them one after the other. */
static const struct qtfs_sealed_vec qtfs_sealed_vecs[] = {
	{ "getattr.request.vec", 1, 0, "getattr.request.vec", NULL },
	{ "stream.vec", 1, 1, NULL, "relayed bytes\n" },
	{ "stream-end.vec", 1, 2, NULL, "" },
	{ "attr.response.vec", 2, 0, "attr.response.vec", NULL },
	{ "empty.response.vec", 2, 1, "empty.response.vec", NULL },
};

static const char *const qtfs_suite_file[3] = { NULL, "aes256gcm", "chacha20poly1305" };

/* A STREAM frame (kind 3, opcode 0, id 0, status 0) of n bytes into out; its length. */
static inline size_t qtfs_stream_frame(unsigned char *out, const char *bytes, size_t n)
{
	struct qtfs_hdr h = { .kind = QTFS_KIND_STREAM, .length = (u32)n };

	qtfs_hdr_encode(out, &h);
	memcpy(out + QTFS_HDR_SIZE, bytes, n);
	return QTFS_HDR_SIZE + n;
}

#endif /* QTFS_SEAL_CHECK_H */
