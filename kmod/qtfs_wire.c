// SPDX-License-Identifier: GPL-2.0
/*
 * qtfs wire protocol v1 codec. See include/qtfs/qtfs_wire.h and docs/protocol.md.
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
#endif
#include <qtfs/qtfs_wire.h>

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

/* ---- primitives ---- */

static u8 *qtfs_reserve(struct qtfs_wbuf *w, size_t n)
{
	u8 *p;

	if (w->err)
		return NULL;
	if (w->cap - w->len < n) {
		w->err = -EOVERFLOW;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

static void qtfs_le(u8 *p, u64 v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u64 qtfs_from_le(const u8 *p, int n)
{
	u64 v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void qtfs_put_n(struct qtfs_wbuf *w, u64 v, int n)
{
	u8 *p = qtfs_reserve(w, n);

	if (p)
		qtfs_le(p, v, n);
}

void qtfs_put_u8(struct qtfs_wbuf *w, u8 v) { qtfs_put_n(w, v, 1); }
void qtfs_put_u16(struct qtfs_wbuf *w, u16 v) { qtfs_put_n(w, v, 2); }
void qtfs_put_u32(struct qtfs_wbuf *w, u32 v) { qtfs_put_n(w, v, 4); }
void qtfs_put_u64(struct qtfs_wbuf *w, u64 v) { qtfs_put_n(w, v, 8); }

void qtfs_put_raw(struct qtfs_wbuf *w, const void *src, size_t n)
{
	u8 *p = qtfs_reserve(w, n);

	if (p && n)
		memcpy(p, src, n);
}

static void qtfs_put_bytes16(struct qtfs_wbuf *w, const struct qtfs_bytes *b, u32 limit)
{
	if (b->len > limit) {
		if (!w->err)
			w->err = -ENAMETOOLONG;
		return;
	}
	qtfs_put_u16(w, (u16)b->len);
	qtfs_put_raw(w, b->p, b->len);
}

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

/* ---- structures ---- */

static void qtfs_put_time(struct qtfs_wbuf *w, const struct qtfs_time *t)
{
	qtfs_put_u64(w, (u64)t->sec);
	qtfs_put_u32(w, t->nsec);
}

static void qtfs_get_time(struct qtfs_rbuf *r, struct qtfs_time *t)
{
	t->sec = (s64)qtfs_get_u64(r);
	t->nsec = qtfs_get_u32(r);
	if (t->nsec >= 1000000000u)
		qtfs_fail(r, -EINVAL);
}

static void qtfs_put_attr(struct qtfs_wbuf *w, const struct qtfs_attr *a)
{
	qtfs_put_u64(w, a->dev);
	qtfs_put_u64(w, a->ino);
	qtfs_put_u64(w, a->size);
	qtfs_put_u64(w, a->blocks);
	qtfs_put_u64(w, a->rdev);
	qtfs_put_u32(w, a->mode);
	qtfs_put_u32(w, a->nlink);
	qtfs_put_u32(w, a->uid);
	qtfs_put_u32(w, a->gid);
	qtfs_put_u32(w, a->blksize);
	qtfs_put_u32(w, a->flags);
	qtfs_put_time(w, &a->atime);
	qtfs_put_time(w, &a->mtime);
	qtfs_put_time(w, &a->ctime);
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

static void qtfs_put_caller(struct qtfs_wbuf *w, const struct qtfs_caller *c)
{
	u16 n = c->ngroups > QTFS_MAX_GROUPS ? QTFS_MAX_GROUPS : c->ngroups;
	u16 i;

	qtfs_put_u32(w, c->uid);
	qtfs_put_u32(w, c->gid);
	qtfs_put_u32(w, c->pid);
	qtfs_put_u16(w, n);
	for (i = 0; i < n; i++)
		qtfs_put_u32(w, c->groups[i]);
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

static void qtfs_put_statfs(struct qtfs_wbuf *w, const struct qtfs_statfs *s)
{
	qtfs_put_u64(w, s->blocks);
	qtfs_put_u64(w, s->bfree);
	qtfs_put_u64(w, s->bavail);
	qtfs_put_u64(w, s->files);
	qtfs_put_u64(w, s->ffree);
	qtfs_put_u32(w, s->bsize);
	qtfs_put_u32(w, s->frsize);
	qtfs_put_u32(w, s->namemax);
	qtfs_put_u64(w, s->fs_type);
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

void qtfs_dirent_put(struct qtfs_wbuf *w, const struct qtfs_dirent *e)
{
	qtfs_put_u64(w, e->cookie);
	qtfs_put_u64(w, e->ino);
	qtfs_put_u8(w, e->type);
	qtfs_put_bytes16(w, &e->name, QTFS_MAX_NAME);
	qtfs_put_u8(w, e->hasattr ? 1 : 0);
	if (e->hasattr)
		qtfs_put_attr(w, &e->attr);
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

/* ---- payloads ---- */

static int qtfs_put_field(struct qtfs_wbuf *w, char f, const struct qtfs_msg *m)
{
	switch (f) {
	case 'C': qtfs_put_caller(w, &m->caller); break;
	case 'T': qtfs_put_u32(w, m->t1.export);
		  qtfs_put_bytes16(w, &m->t1.path, QTFS_MAX_PATH); break;
	case 'U': qtfs_put_u32(w, m->t2.export);
		  qtfs_put_bytes16(w, &m->t2.path, QTFS_MAX_PATH); break;
	case 'A': qtfs_put_attr(w, &m->attr); break;
	case 'S': qtfs_put_statfs(w, &m->st); break;
	case 'h': qtfs_put_u64(w, m->handle); break;
	case 'o': qtfs_put_u64(w, m->offset); break;
	case 'Z': qtfs_put_u64(w, m->size64); break;
	case 'r': qtfs_put_u64(w, m->rdev); break;
	case 'c': qtfs_put_u64(w, m->cookie); break;
	case 'L': qtfs_put_u64(w, m->length); break;
	case 'K': qtfs_put_u64(w, m->caps); break;
	case 'v': qtfs_put_u32(w, m->valid); break;
	case 'm': qtfs_put_u32(w, m->mode); break;
	case 'u': qtfs_put_u32(w, m->uid); break;
	case 'g': qtfs_put_u32(w, m->gid); break;
	case 'f': qtfs_put_u32(w, m->flags); break;
	case 'k': qtfs_put_u32(w, m->umask); break;
	case 'q': qtfs_put_u32(w, m->mask); break;
	case 'z': qtfs_put_u32(w, m->size); break;
	case 'w': qtfs_put_u32(w, m->whence); break;
	case 'y': qtfs_put_u32(w, m->datasync); break;
	case 'x': qtfs_put_u32(w, m->max_bytes); break;
	case 'p': qtfs_put_u32(w, m->plus); break;
	case 'e': qtfs_put_u32(w, m->export); break;
	case 'W': qtfs_put_u32(w, m->written); break;
	case 'F': qtfs_put_u32(w, m->open_flags); break;
	case 'E': qtfs_put_u8(w, m->eof); break;
	case 'i': qtfs_put_u16(w, m->min_version); break;
	case 'j': qtfs_put_u16(w, m->max_version); break;
	case 'I': qtfs_put_u16(w, m->version); break;
	case 'a': qtfs_put_time(w, &m->atime); break;
	case 'b': qtfs_put_time(w, &m->mtime); break;
	case 's': qtfs_put_bytes16(w, &m->str, 255); break;
	case 'P': qtfs_put_bytes16(w, &m->str, QTFS_MAX_PATH); break;
	case 'n': qtfs_put_bytes16(w, &m->name, QTFS_MAX_NAME); break;
	case 'V': qtfs_put_u32(w, m->value.len);
		  qtfs_put_raw(w, m->value.p, m->value.len); break;
	case 'R': qtfs_put_raw(w, m->data.p, m->data.len); break;
	case 'N': qtfs_put_u32(w, m->count);
		  qtfs_put_raw(w, m->data.p, m->data.len); break;
	case 'M': qtfs_put_u16(w, m->method); break;
	case 'G': qtfs_put_raw(w, m->client_nonce, QTFS_AUTH_NONCE); break;
	case 'H': qtfs_put_raw(w, m->server_nonce, QTFS_AUTH_NONCE); break;
	case 'Q': qtfs_put_raw(w, m->proof, QTFS_AUTH_PROOF); break;
	default: return -EINVAL;
	}
	return 0;
}

int qtfs_encode(struct qtfs_wbuf *w, u8 kind, u16 opcode, const struct qtfs_msg *m)
{
	const char *layout = qtfs_layout(kind, opcode);

	if (!layout)
		return -ENOSYS;
	for (; *layout; layout++)
		if (qtfs_put_field(w, *layout, m))
			return -EINVAL;
	return w->err;
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
