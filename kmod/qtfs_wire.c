// SPDX-License-Identifier: GPL-2.0
/*
 * qtfs wire protocol v1 codec. See include/qtfs/qtfs_wire.h and docs/protocol.md.
 * This file: the layout of every message, the frame header and the authentication
 * transcript; qtfs_wire_put.c encodes a message by its layout, qtfs_wire_get.c decodes one.
 *
 * Layout characters (one field of struct qtfs_msg each):
 *   C caller          T target (t1)       U target (t2)       A attr
 *   S statfs body     h handle u64        o offset u64/i64    Z size64 u64
 *   r rdev u64        c cookie u64        L length u64        K caps u64
 *   v valid u32       m mode u32          u uid u32           g gid u32
 *   f flags u32       k umask u32         q mask u32          z size u32
 *   w whence u32      y datasync u32      x max_bytes u32     p plus u32
 *   e export u32      W written u32       F open_flags u32    E eof u8
 *   i min_version u16 j max_version u16   I version u16
 *   a atime time      b mtime time
 *   s str (u16 count, text, <= 255)       P str (u16 count, path, <= 4095)
 *   n name (u16 count, <= 255)            V value (u32 count, <= 64 KiB)
 *   R data (rest of payload)              N count u32 + entries (rest)
 *   M method u16      G client nonce, H server nonce, Q proof (32 bytes each, no count)
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#else
#include <errno.h>
#include <string.h>
#endif
#include <qtfs/qtfs_wire.h>
#include "qtfs_wire_le.h"

struct qtfs_layout_row {
	u16 op;
	const char *name;
	const char *req;
	const char *rsp;
};

static const struct qtfs_layout_row qtfs_layouts[] = {
	{ QTFS_OP_HELLO, "hello", "ijKs", "IKxs" },
	{ QTFS_OP_AUTH_CHALLENGE, "auth_challenge", "MG", "HQ" },
	{ QTFS_OP_AUTH_RESPONSE, "auth_response", "Q", "" },
	{ QTFS_OP_MOUNT, "mount", "CP", "ePA" },
	{ QTFS_OP_LOOKUP, "lookup", "CT", "A" },
	{ QTFS_OP_GETATTR, "getattr", "CTh", "A" },
	{ QTFS_OP_SETATTR, "setattr", "CThvmugZab", "A" },
	{ QTFS_OP_READLINK, "readlink", "CT", "P" },
	{ QTFS_OP_MKNOD, "mknod", "CTmrk", "A" },
	{ QTFS_OP_MKDIR, "mkdir", "CTmk", "A" },
	{ QTFS_OP_UNLINK, "unlink", "CT", "" },
	{ QTFS_OP_RMDIR, "rmdir", "CT", "" },
	{ QTFS_OP_SYMLINK, "symlink", "CTP", "A" },
	{ QTFS_OP_RENAME, "rename", "CTUf", "" },
	{ QTFS_OP_LINK, "link", "CTUf", "A" },
	{ QTFS_OP_OPEN, "open", "CTf", "hF" },
	{ QTFS_OP_OPEN_READ, "open_read", "CTfx", "hFV" },
	{ QTFS_OP_LOOKUP_OPEN, "lookup_open", "CTfx", "AhFV" },
	{ QTFS_OP_CREATE, "create", "CTfmk", "hFA" },
	{ QTFS_OP_READ, "read", "hoz", "R" },
	{ QTFS_OP_WRITE, "write", "hoR", "W" },
	{ QTFS_OP_FLUSH, "flush", "h", "" },
	{ QTFS_OP_FSYNC, "fsync", "hy", "" },
	{ QTFS_OP_RELEASE, "release", "h", "" },
	{ QTFS_OP_OPENDIR, "opendir", "CT", "hF" },
	{ QTFS_OP_READDIR, "readdir", "hcxp", "EN" },
	{ QTFS_OP_RELEASEDIR, "releasedir", "h", "" },
	{ QTFS_OP_STATFS, "statfs", "CT", "S" },
	{ QTFS_OP_ACCESS, "access", "CTq", "" },
	{ QTFS_OP_GETXATTR, "getxattr", "CTnz", "zR" },
	{ QTFS_OP_SETXATTR, "setxattr", "CTnfV", "" },
	{ QTFS_OP_LISTXATTR, "listxattr", "CTnz", "zR" },
	{ QTFS_OP_REMOVEXATTR, "removexattr", "CTn", "" },
	{ QTFS_OP_LSEEK, "lseek", "how", "o" },
	{ QTFS_OP_FALLOCATE, "fallocate", "hmoL", "" },
	/* fifos: CANCEL target id (as 'c'), POLL handle events(q) notify(y), POLL_READY */
	{ QTFS_OP_CANCEL, "cancel", "c", "" },
	{ QTFS_OP_POLL, "poll", "hqy", "q" },
	{ QTFS_OP_POLL_READY, "poll_ready", NULL, NULL },	/* event only */
	/* unix socket bridge: caller, path, type(f); path, type; token (as 'c') */
	{ QTFS_OP_SOCK_CONNECT, "sock_connect", "CPf", "" },
	{ QTFS_OP_SOCK_LISTEN, "sock_listen", "Pf", "" },
	{ QTFS_OP_SOCK_ACCEPT, "sock_accept", "c", "" },
	{ QTFS_OP_SOCK_INCOMING, "sock_incoming", NULL, NULL },	/* event only */
};

static const struct qtfs_layout_row *qtfs_row(u16 opcode)
{
	size_t i;

	for (i = 0; i < sizeof(qtfs_layouts) / sizeof(qtfs_layouts[0]); i++)
		if (qtfs_layouts[i].op == opcode)
			return &qtfs_layouts[i];
	return NULL;
}

const char *qtfs_layout(u8 kind, u16 opcode)
{
	const struct qtfs_layout_row *row = qtfs_row(opcode);

	if (!row)
		return NULL;
	if (kind == QTFS_KIND_REQ)
		return row->req;
	if (kind == QTFS_KIND_RSP)
		return row->rsp;
	if (kind == QTFS_KIND_EVENT && opcode == QTFS_OP_POLL_READY)
		return "hq";	/* handle, ready mask */
	if (kind == QTFS_KIND_EVENT && opcode == QTFS_OP_SOCK_INCOMING)
		return "c";	/* token */
	return NULL;
}

const char *qtfs_op_name(u16 opcode)
{
	const struct qtfs_layout_row *row = qtfs_row(opcode);

	return row ? row->name : "unknown";
}

/* ---- header ---- */

void qtfs_hdr_encode(u8 *out, const struct qtfs_hdr *h)
{
	qtfs_le(out, QTFS_MAGIC, 4);
	out[4] = QTFS_VERSION;
	out[5] = h->kind;
	qtfs_le(out + 6, h->opcode, 2);
	qtfs_le(out + 8, h->id, 8);
	qtfs_le(out + 16, h->length, 4);
	qtfs_le(out + 20, h->status, 4);
}

int qtfs_hdr_decode(const u8 *in, struct qtfs_hdr *h)
{
	return qtfs_hdr_decode_max(in, h, QTFS_MAX_PAYLOAD);
}

/* As qtfs_hdr_decode, with another length limit (a sealed frame's: + QTFS_AEAD_TAG). */
int qtfs_hdr_decode_max(const u8 *in, struct qtfs_hdr *h, u32 max_length)
{
	if (qtfs_from_le(in, 4) != QTFS_MAGIC || in[4] != QTFS_VERSION)
		return -EPROTO;
	if (in[5] > QTFS_KIND_EVENT)
		return -EPROTO;
	h->kind = in[5];
	h->opcode = (u16)qtfs_from_le(in + 6, 2);
	h->id = qtfs_from_le(in + 8, 8);
	h->length = (u32)qtfs_from_le(in + 16, 4);
	h->status = (u32)qtfs_from_le(in + 20, 4);
	if (h->length > max_length)
		return -EMSGSIZE;
	return 0;
}

void qtfs_auth_transcript(u8 *out, u8 role, u16 version, u16 method,
			  const u8 *client_nonce, const u8 *server_nonce)
{
	u8 *p = out;

	memcpy(p, QTFS_AUTH_LABEL, 24);
	p += 24;
	*p++ = role;
	qtfs_le(p, version, 2);
	qtfs_le(p + 2, method, 2);
	p += 4;
	memcpy(p, client_nonce, QTFS_AUTH_NONCE);
	p += QTFS_AUTH_NONCE;
	memcpy(p, server_nonce, QTFS_AUTH_NONCE);
	p += QTFS_AUTH_NONCE;
	qtfs_le(p, 0, 2);	/* channel binding: empty on plain TCP */
}
