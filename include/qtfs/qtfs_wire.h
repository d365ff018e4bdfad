/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qtfs wire protocol v1: opcodes, limits, flags, and the C codec's interface, shared
 * by qtfs.ko (kmod/, built with -I include) and userspace (kmod/test, tools).
 * The contract is docs/protocol.md; vectors are Tests/Vectors/ (*.vec files).
 * This is the one C declaration of the protocol: Tests/QtfsProtocolTests/
 * HeaderDriftTests.swift parses its #defines and enums and fails when the Swift
 * codec (Sources/QtfsProtocol) or a Python test table disagrees with them.
 *
 * A message is a 24-byte header and a payload. Payloads are described by a
 * short layout string per (kind, opcode): each character is one field of
 * struct qtfs_msg (table in kmod/qtfs_wire.c), so encoding and decoding walk the
 * same description and cannot drift apart.
 */
#ifndef QTFS_WIRE_H
#define QTFS_WIRE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
#endif

#define QTFS_MAGIC		0x53465451u	/* "QTFS" in byte order */
#define QTFS_VERSION		1
#define QTFS_HDR_SIZE		24
#define QTFS_MAX_IO		(1u << 20)
#define QTFS_MAX_PAYLOAD	(QTFS_MAX_IO + 64u * 1024u)
#define QTFS_MAX_PATH		4095
#define QTFS_MAX_NAME		255
#define QTFS_MAX_GROUPS		64
#define QTFS_MAX_XATTR_NAME	255
#define QTFS_MAX_XATTR_VALUE	(64u * 1024u)
#define QTFS_MAX_OPEN_CONTENT	(64u * 1024u)	/* OPEN_READ: most content one open carries */
#define QTFS_ATTR_SIZE		100
#define QTFS_DEFAULT_PORT	12345

/* QTFS_KIND_STREAM: a relay's bytes on a sealed connection (docs/protocol.md, "Sealed frames") */
enum qtfs_kind { QTFS_KIND_REQ = 0, QTFS_KIND_RSP = 1, QTFS_KIND_EVENT = 2, QTFS_KIND_STREAM = 3 };

/* Explicit opcode numbers; never renumber (docs/protocol.md, "Operations"). */
enum qtfs_op {
	QTFS_OP_HELLO = 1,
	QTFS_OP_AUTH_CHALLENGE = 2,
	QTFS_OP_AUTH_RESPONSE = 3,
	QTFS_OP_MOUNT = 4,
	QTFS_OP_CANCEL = 5,
	QTFS_OP_POLL = 6,
	QTFS_OP_POLL_READY = 7,
	QTFS_OP_SOCK_CONNECT = 8,
	QTFS_OP_SOCK_LISTEN = 9,
	QTFS_OP_LOOKUP = 10,
	QTFS_OP_GETATTR = 11,
	QTFS_OP_SETATTR = 12,
	QTFS_OP_READLINK = 13,
	QTFS_OP_MKNOD = 14,
	QTFS_OP_MKDIR = 15,
	QTFS_OP_UNLINK = 16,
	QTFS_OP_RMDIR = 17,
	QTFS_OP_SYMLINK = 18,
	QTFS_OP_RENAME = 19,
	QTFS_OP_LINK = 20,
	QTFS_OP_OPEN = 21,
	QTFS_OP_CREATE = 22,
	QTFS_OP_READ = 23,
	QTFS_OP_WRITE = 24,
	QTFS_OP_FLUSH = 25,
	QTFS_OP_FSYNC = 26,
	QTFS_OP_RELEASE = 27,
	QTFS_OP_OPENDIR = 28,
	QTFS_OP_READDIR = 29,
	QTFS_OP_RELEASEDIR = 30,
	QTFS_OP_STATFS = 31,
	QTFS_OP_ACCESS = 32,
	QTFS_OP_GETXATTR = 33,
	QTFS_OP_SETXATTR = 34,
	QTFS_OP_LISTXATTR = 35,
	QTFS_OP_REMOVEXATTR = 36,
	QTFS_OP_LSEEK = 37,
	QTFS_OP_FALLOCATE = 38,
	QTFS_OP_SOCK_ACCEPT = 39,
	QTFS_OP_SOCK_INCOMING = 40,
	QTFS_OP_OPEN_READ = 48,	/* OPEN + the content of a small read-only file */
	QTFS_OP_LOOKUP_OPEN = 49,	/* LOOKUP + OPEN_READ of a regular file (atomic open) */
	/* Remote exec (docs/protocol.md): served by qtfs-server, used by qtfs-rexec only. */
	QTFS_OP_REXEC_START = 64,
	QTFS_OP_REXEC_DATA = 65,
	QTFS_OP_REXEC_CREDIT = 66,
	QTFS_OP_REXEC_SIGNAL = 67,
	QTFS_OP_REXEC_WINSIZE = 68,
	QTFS_OP_REXEC_EXIT = 69,
	/* Host mounts (docs/protocol.md): served by qtfs-server, used by qtfs-run only. */
	QTFS_OP_HOST_MOUNT = 70,
	QTFS_OP_HOST_UMOUNT = 71,
	QTFS_OP_MAX = 72,
};

/* HELLO capability bit 1: AUTH_REQUIRED from the server, AUTH_CAPABLE from a client */
#define QTFS_CAP_AUTH		1u
/* HELLO capability bit 2, reserved: both sides speak TLS after HELLO */
#define QTFS_CAP_TLS		2u
/* HELLO capability bit 3 from the server: SOCK_CONNECT/SOCK_LISTEN take QTFS_SOCK_PASS_FILES */
#define QTFS_CAP_SOCK_FILES	4u
/* HELLO capability bits 4 and 5 (docs/protocol.md, "Sealed frames"): the AEAD suites a
 * client accepts; the server's answer sets exactly the one it chose, or none (plaintext) */
#define QTFS_CAP_AEAD_AES256GCM	8u
#define QTFS_CAP_AEAD_CHACHA20POLY1305	16u
/* HELLO capability bit 6 from both: answers to OPEN, OPEN_READ and OPENDIR carry the opened
 * file's attributes (QTFS_OPEN_HAS_ATTR); qtfs.ko does not ask for them */
#define QTFS_CAP_OPEN_ATTR	32u
/* HELLO capability bit 7 from both: RELEASE and RELEASEDIR are never answered (the client
 * set it and the server's answer sets it too); nobody waits for those answers */
#define QTFS_CAP_QUIET_RELEASE	64u
/* Sealed frames: suite ids (in the key derivation), key, nonce and tag sizes */
#define QTFS_AEAD_SUITE_AES256GCM	1
#define QTFS_AEAD_SUITE_CHACHA20POLY1305	2
#define QTFS_AEAD_KEY		32
#define QTFS_AEAD_NONCE		12
#define QTFS_AEAD_TAG		16
/* Authentication (docs/protocol.md, "Authentication"): HMAC-SHA256 over a transcript */
#define QTFS_AUTH_METHOD_HMAC_SHA256	1
#define QTFS_AUTH_NONCE		32
#define QTFS_AUTH_PROOF		32
#define QTFS_AUTH_LABEL		"qtfs-auth-v1 hmac-sha256"	/* 24 bytes, no NUL on the wire */
#define QTFS_AUTH_ROLE_SERVER	1
#define QTFS_AUTH_ROLE_CLIENT	2
#define QTFS_AUTH_KEY_MIN	16
#define QTFS_AUTH_KEY_MAX	64
#define QTFS_AUTH_MAX_BINDING	64	/* channel binding bytes (empty on plain TCP) */
/* label, role, version, method, both nonces, empty binding (plain TCP) */
#define QTFS_AUTH_TRANSCRIPT_LEN	(24 + 1 + 2 + 2 + 2 * QTFS_AUTH_NONCE + 2)

#define QTFS_ATTR_PSEUDO	1u	/* attr.flags: lives on procfs, sysfs, cgroup... */
#define QTFS_OPEN_DIRECT_IO	1u	/* open_flags */
#define QTFS_OPEN_NONSEEKABLE	2u
#define QTFS_OPEN_KEEP_CACHE	4u
#define QTFS_OPEN_HAS_CONTENT	8u	/* OPEN_READ: value holds the whole file */
#define QTFS_OPEN_HAS_ATTR	16u	/* an attr follows open_flags (QTFS_CAP_OPEN_ATTR) */

/* SETATTR valid bits */
#define QTFS_SET_MODE		1u
#define QTFS_SET_UID		2u
#define QTFS_SET_GID		4u
#define QTFS_SET_SIZE		8u
#define QTFS_SET_ATIME		16u
#define QTFS_SET_MTIME		32u
#define QTFS_SET_ATIME_NOW	64u
#define QTFS_SET_MTIME_NOW	128u
#define QTFS_SET_ALL		255u

/* RENAME flags */
#define QTFS_RENAME_NOREPLACE	1u
#define QTFS_RENAME_EXCHANGE	2u
#define QTFS_RENAME_WHITEOUT	4u	/* the name left behind is a whiteout (overlayfs upper layers) */

/* READ/WRITE offset on a non-seekable handle: this bit set, the call does not wait */
#define QTFS_STREAM_NOWAIT	(1ull << 63)
/* SOCK_CONNECT and SOCK_LISTEN socket types */
#define QTFS_SOCK_STREAM	1u
#define QTFS_SOCK_SEQPACKET	5u
/* Added to the type: relay file descriptors too (to a server announcing QTFS_CAP_SOCK_FILES) */
#define QTFS_SOCK_PASS_FILES	0x100u

struct qtfs_hdr {
	u8 kind;
	u16 opcode;
	u64 id;
	u32 length;
	u32 status;
};

struct qtfs_time {
	s64 sec;
	u32 nsec;
};

struct qtfs_attr {
	u64 dev, ino, size, blocks, rdev;
	u32 mode, nlink, uid, gid, blksize, flags;
	struct qtfs_time atime, mtime, ctime;
};

/* Byte strings point into the buffer they were decoded from (not NUL-terminated). */
struct qtfs_bytes {
	const u8 *p;
	u32 len;
};

struct qtfs_caller {
	u32 uid, gid, pid;
	u16 ngroups;
	u32 groups[QTFS_MAX_GROUPS];
};

struct qtfs_target {
	u32 export;
	struct qtfs_bytes path;
};

struct qtfs_statfs {
	u64 blocks, bfree, bavail, files, ffree;
	u32 bsize, frsize, namemax;
	u64 fs_type;
};

struct qtfs_dirent {
	u64 cookie, ino;
	u8 type;
	struct qtfs_bytes name;
	u8 hasattr;
	struct qtfs_attr attr;
};

/*
 * Every field any v1 payload carries. A message uses the subset its layout
 * names; the others are ignored.
 */
struct qtfs_msg {
	struct qtfs_caller caller;
	struct qtfs_target t1, t2;	/* target; RENAME/LINK: from, to */
	struct qtfs_attr attr;
	struct qtfs_statfs st;
	u64 handle, offset, size64, rdev, cookie, length, caps;
	u32 valid, mode, uid, gid, flags, umask, mask, size, whence, datasync;
	u32 max_bytes, plus, export, written, open_flags, count;
	u16 min_version, max_version, version, method;
	u8 eof;
	u8 client_nonce[QTFS_AUTH_NONCE], server_nonce[QTFS_AUTH_NONCE], proof[QTFS_AUTH_PROOF];
	struct qtfs_time atime, mtime;
	struct qtfs_bytes str;		/* client/server name, host path, base, link contents */
	struct qtfs_bytes name;		/* xattr name */
	struct qtfs_bytes value;	/* SETXATTR value (blob) */
	struct qtfs_bytes data;		/* rest of payload: READ/WRITE/xattr data, readdir entries */
};

/* Growing or fixed output buffer. err is sticky: check once at the end. */
struct qtfs_wbuf {
	u8 *p;
	size_t len, cap;
	int err;
};

struct qtfs_rbuf {
	const u8 *p;
	size_t len, off;
	int err;	/* 0, or the errno the protocol answers: EPROTO, EINVAL, ENAMETOOLONG */
};

/* Header: always exactly QTFS_HDR_SIZE bytes. decode returns 0 or -EPROTO-ish (negative). */
void qtfs_hdr_encode(u8 *out, const struct qtfs_hdr *h);
int qtfs_hdr_decode(const u8 *in, struct qtfs_hdr *h);
int qtfs_hdr_decode_max(const u8 *in, struct qtfs_hdr *h, u32 max_length);

/* Layout of a payload, NULL if the (kind, opcode) pair has none in v1. */
const char *qtfs_layout(u8 kind, u16 opcode);
const char *qtfs_op_name(u16 opcode);

/* Appends the payload of (kind, opcode) described by m. Returns 0 or -errno. */
int qtfs_encode(struct qtfs_wbuf *w, u8 kind, u16 opcode, const struct qtfs_msg *m);
/* Decodes a whole payload (trailing bytes are an error). Returns 0 or -errno. */
int qtfs_decode(const u8 *p, size_t len, u8 kind, u16 opcode, struct qtfs_msg *m);

/* The bytes an authentication proof covers, on plain TCP (empty channel binding);
 * out must hold QTFS_AUTH_TRANSCRIPT_LEN bytes. */
void qtfs_auth_transcript(u8 *out, u8 role, u16 version, u16 method,
			  const u8 *client_nonce, const u8 *server_nonce);

/* READDIR answer entries live in m->data, m->count of them: walk them with this. */
int qtfs_dirent_next(struct qtfs_rbuf *r, struct qtfs_dirent *e);
void qtfs_dirent_put(struct qtfs_wbuf *w, const struct qtfs_dirent *e);

/* Primitive writers and readers (bounds-checked). */
void qtfs_put_u8(struct qtfs_wbuf *w, u8 v);
void qtfs_put_u16(struct qtfs_wbuf *w, u16 v);
void qtfs_put_u32(struct qtfs_wbuf *w, u32 v);
void qtfs_put_u64(struct qtfs_wbuf *w, u64 v);
void qtfs_put_raw(struct qtfs_wbuf *w, const void *p, size_t n);
u8 qtfs_get_u8(struct qtfs_rbuf *r);
u16 qtfs_get_u16(struct qtfs_rbuf *r);
u32 qtfs_get_u32(struct qtfs_rbuf *r);
u64 qtfs_get_u64(struct qtfs_rbuf *r);

#endif /* QTFS_WIRE_H */
