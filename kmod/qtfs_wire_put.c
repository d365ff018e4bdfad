// SPDX-License-Identifier: GPL-2.0
/*
 * qtfs wire protocol v1 codec: the encoder. qtfs_encode() walks a message's layout
 * string (qtfs_wire.c lists the layouts and their characters) and writes each field
 * into a bounded buffer; a field that does not fit leaves the buffer's error set.
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

static void qtfs_put_time(struct qtfs_wbuf *w, const struct qtfs_time *t)
{
	qtfs_put_u64(w, (u64)t->sec);
	qtfs_put_u32(w, t->nsec);
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
