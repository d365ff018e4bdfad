// SPDX-License-Identifier: GPL-2.0
/*
 * qtfs wire protocol v1 codec: the decoder. qtfs_decode() walks a message's layout
 * string (qtfs_wire.c lists the layouts and their characters), reads each field with
 * bounds checks, and then applies the range checks the Swift codec makes; the first
 * error sticks, so a truncated or lying payload is rejected without reading past it.
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

static const u8 *qtfs_take(struct qtfs_rbuf *r, size_t n)
{
	const u8 *p;

	if (r->err)
		return NULL;
	if (r->len - r->off < n) {
		r->err = -EPROTO;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static u64 qtfs_get_n(struct qtfs_rbuf *r, int n)
{
	const u8 *p = qtfs_take(r, n);

	return p ? qtfs_from_le(p, n) : 0;
}

u8 qtfs_get_u8(struct qtfs_rbuf *r) { return (u8)qtfs_get_n(r, 1); }
u16 qtfs_get_u16(struct qtfs_rbuf *r) { return (u16)qtfs_get_n(r, 2); }
u32 qtfs_get_u32(struct qtfs_rbuf *r) { return (u32)qtfs_get_n(r, 4); }
u64 qtfs_get_u64(struct qtfs_rbuf *r) { return qtfs_get_n(r, 8); }

static void qtfs_fail(struct qtfs_rbuf *r, int err)
{
	if (!r->err)
		r->err = err;
}

/* u16-counted bytes of at most limit, no NUL inside. */
static void qtfs_get_bytes16(struct qtfs_rbuf *r, struct qtfs_bytes *b, u32 limit)
{
	u32 n = qtfs_get_u16(r);
	const u8 *p;

	b->p = NULL;
	b->len = 0;
	if (r->err)
		return;
	if (n > limit) {
		qtfs_fail(r, -ENAMETOOLONG);
		return;
	}
	p = qtfs_take(r, n);
	if (!p)
		return;
	if (n && memchr(p, 0, n)) {
		qtfs_fail(r, -EINVAL);
		return;
	}
	b->p = p;
	b->len = n;
}

static void qtfs_get_time(struct qtfs_rbuf *r, struct qtfs_time *t)
{
	t->sec = (s64)qtfs_get_u64(r);
	t->nsec = qtfs_get_u32(r);
	if (t->nsec >= 1000000000u)
		qtfs_fail(r, -EINVAL);
}

static void qtfs_get_attr(struct qtfs_rbuf *r, struct qtfs_attr *a)
{
	a->dev = qtfs_get_u64(r);
	a->ino = qtfs_get_u64(r);
	a->size = qtfs_get_u64(r);
	a->blocks = qtfs_get_u64(r);
	a->rdev = qtfs_get_u64(r);
	a->mode = qtfs_get_u32(r);
	a->nlink = qtfs_get_u32(r);
	a->uid = qtfs_get_u32(r);
	a->gid = qtfs_get_u32(r);
	a->blksize = qtfs_get_u32(r);
	a->flags = qtfs_get_u32(r);
	qtfs_get_time(r, &a->atime);
	qtfs_get_time(r, &a->mtime);
	qtfs_get_time(r, &a->ctime);
}

static void qtfs_get_caller(struct qtfs_rbuf *r, struct qtfs_caller *c)
{
	u16 i;

	c->uid = qtfs_get_u32(r);
	c->gid = qtfs_get_u32(r);
	c->pid = qtfs_get_u32(r);
	c->ngroups = qtfs_get_u16(r);
	if (c->ngroups > QTFS_MAX_GROUPS) {
		qtfs_fail(r, -EPROTO);
		c->ngroups = 0;
	}
	for (i = 0; i < c->ngroups; i++)
		c->groups[i] = qtfs_get_u32(r);
}

static void qtfs_get_statfs(struct qtfs_rbuf *r, struct qtfs_statfs *s)
{
	s->blocks = qtfs_get_u64(r);
	s->bfree = qtfs_get_u64(r);
	s->bavail = qtfs_get_u64(r);
	s->files = qtfs_get_u64(r);
	s->ffree = qtfs_get_u64(r);
	s->bsize = qtfs_get_u32(r);
	s->frsize = qtfs_get_u32(r);
	s->namemax = qtfs_get_u32(r);
	s->fs_type = qtfs_get_u64(r);
}

int qtfs_dirent_next(struct qtfs_rbuf *r, struct qtfs_dirent *e)
{
	e->cookie = qtfs_get_u64(r);
	e->ino = qtfs_get_u64(r);
	e->type = qtfs_get_u8(r);
	qtfs_get_bytes16(r, &e->name, QTFS_MAX_NAME);
	e->hasattr = qtfs_get_u8(r);
	if (e->hasattr == 1)
		qtfs_get_attr(r, &e->attr);
	else if (e->hasattr != 0)
		qtfs_fail(r, -EINVAL);
	return r->err;
}

static void qtfs_get_entries(struct qtfs_rbuf *r, struct qtfs_msg *m)
{
	struct qtfs_rbuf walk;
	struct qtfs_dirent e;
	u32 i;

	m->count = qtfs_get_u32(r);
	if (r->err)
		return;
	/* Each entry takes at least 20 bytes: a count beyond that is a lie. */
	if (m->count > (r->len - r->off) / 20) {
		qtfs_fail(r, -EINVAL);
		return;
	}
	m->data.p = r->p + r->off;
	m->data.len = (u32)(r->len - r->off);
	walk = (struct qtfs_rbuf){ .p = m->data.p, .len = m->data.len };
	for (i = 0; i < m->count && !walk.err; i++)
		qtfs_dirent_next(&walk, &e);
	if (walk.err) {
		qtfs_fail(r, walk.err);
		return;
	}
	m->data.len = (u32)walk.off;
	r->off += walk.off;
}

static void qtfs_get_fixed(struct qtfs_rbuf *r, u8 *out, size_t n)
{
	const u8 *p = qtfs_take(r, n);

	if (p)
		memcpy(out, p, n);
}

static void qtfs_get_field(struct qtfs_rbuf *r, char f, struct qtfs_msg *m)
{
	switch (f) {
	case 'C': qtfs_get_caller(r, &m->caller); break;
	case 'T': m->t1.export = qtfs_get_u32(r);
		  qtfs_get_bytes16(r, &m->t1.path, QTFS_MAX_PATH); break;
	case 'U': m->t2.export = qtfs_get_u32(r);
		  qtfs_get_bytes16(r, &m->t2.path, QTFS_MAX_PATH); break;
	case 'A': qtfs_get_attr(r, &m->attr); break;
	case 'S': qtfs_get_statfs(r, &m->st); break;
	case 'h': m->handle = qtfs_get_u64(r); break;
	case 'o': m->offset = qtfs_get_u64(r); break;
	case 'Z': m->size64 = qtfs_get_u64(r); break;
	case 'r': m->rdev = qtfs_get_u64(r); break;
	case 'c': m->cookie = qtfs_get_u64(r); break;
	case 'L': m->length = qtfs_get_u64(r); break;
	case 'K': m->caps = qtfs_get_u64(r); break;
	case 'v': m->valid = qtfs_get_u32(r); break;
	case 'm': m->mode = qtfs_get_u32(r); break;
	case 'u': m->uid = qtfs_get_u32(r); break;
	case 'g': m->gid = qtfs_get_u32(r); break;
	case 'f': m->flags = qtfs_get_u32(r); break;
	case 'k': m->umask = qtfs_get_u32(r); break;
	case 'q': m->mask = qtfs_get_u32(r); break;
	case 'z': m->size = qtfs_get_u32(r); break;
	case 'w': m->whence = qtfs_get_u32(r); break;
	case 'y': m->datasync = qtfs_get_u32(r); break;
	case 'x': m->max_bytes = qtfs_get_u32(r); break;
	case 'p': m->plus = qtfs_get_u32(r); break;
	case 'e': m->export = qtfs_get_u32(r); break;
	case 'W': m->written = qtfs_get_u32(r); break;
	case 'F': m->open_flags = qtfs_get_u32(r); break;
	case 'E': m->eof = qtfs_get_u8(r); break;
	case 'i': m->min_version = qtfs_get_u16(r); break;
	case 'j': m->max_version = qtfs_get_u16(r); break;
	case 'I': m->version = qtfs_get_u16(r); break;
	case 'a': qtfs_get_time(r, &m->atime); break;
	case 'b': qtfs_get_time(r, &m->mtime); break;
	case 's': qtfs_get_bytes16(r, &m->str, 255); break;
	case 'P': qtfs_get_bytes16(r, &m->str, QTFS_MAX_PATH); break;
	case 'n': qtfs_get_bytes16(r, &m->name, QTFS_MAX_NAME); break;
	case 'V': m->value.len = qtfs_get_u32(r);
		  if (!r->err && m->value.len > QTFS_MAX_XATTR_VALUE)
			  qtfs_fail(r, -EPROTO);
		  m->value.p = qtfs_take(r, m->value.len); break;
	case 'R': m->data.p = r->p + r->off;
		  m->data.len = (u32)(r->len - r->off);
		  r->off = r->len; break;
	case 'N': qtfs_get_entries(r, m); break;
	case 'M': m->method = qtfs_get_u16(r); break;
	case 'G': qtfs_get_fixed(r, m->client_nonce, QTFS_AUTH_NONCE); break;
	case 'H': qtfs_get_fixed(r, m->server_nonce, QTFS_AUTH_NONCE); break;
	case 'Q': qtfs_get_fixed(r, m->proof, QTFS_AUTH_PROOF); break;
	default: qtfs_fail(r, -EINVAL);
	}
}

/* Range checks the Swift codec makes after decoding (docs/protocol.md). */
static int qtfs_check(u8 kind, u16 op, const struct qtfs_msg *m)
{
	if (kind == QTFS_KIND_RSP) {
		if (op == QTFS_OP_READDIR && m->eof > 1)
			return -EINVAL;
		if ((op == QTFS_OP_GETXATTR || op == QTFS_OP_LISTXATTR) &&
		    m->data.len && m->data.len != m->size)
			return -EINVAL;
		return 0;
	}
	switch (op) {
	case QTFS_OP_SETATTR: return (m->valid & ~QTFS_SET_ALL) ? -EINVAL : 0;
	case QTFS_OP_RENAME:
	case QTFS_OP_LINK:	/* EXCHANGE goes alone; NOREPLACE and WHITEOUT combine */
		return ((m->flags & ~7u) || ((m->flags & QTFS_RENAME_EXCHANGE) &&
					     m->flags != QTFS_RENAME_EXCHANGE)) ? -EINVAL : 0;
	case QTFS_OP_READ: return m->size > QTFS_MAX_IO ? -EINVAL : 0;
	case QTFS_OP_WRITE: return m->data.len > QTFS_MAX_IO ? -EINVAL : 0;
	case QTFS_OP_FSYNC: return m->datasync > 1 ? -EINVAL : 0;
	case QTFS_OP_READDIR:
		return (m->max_bytes > QTFS_MAX_IO || m->plus > 1) ? -EINVAL : 0;
	case QTFS_OP_ACCESS: return (m->mask & ~7u) ? -EINVAL : 0;
	case QTFS_OP_GETXATTR:
	case QTFS_OP_LISTXATTR: return m->size > QTFS_MAX_XATTR_VALUE ? -EINVAL : 0;
	case QTFS_OP_SETXATTR: return (m->flags & ~3u) ? -EINVAL : 0;
	case QTFS_OP_LSEEK: return m->whence > 4 ? -EINVAL : 0;
	}
	return 0;
}

int qtfs_decode(const u8 *p, size_t len, u8 kind, u16 opcode, struct qtfs_msg *m)
{
	const char *layout = qtfs_layout(kind, opcode);
	struct qtfs_rbuf r = { .p = p, .len = len };

	if (!layout)
		return -ENOSYS;
	memset(m, 0, sizeof(*m));
	for (; *layout && !r.err; layout++)
		qtfs_get_field(&r, *layout, m);
	if (r.err)
		return r.err;
	if (r.off != r.len)
		return -EPROTO;
	return qtfs_check(kind, opcode, m);
}
