// SPDX-License-Identifier: GPL-2.0
/*
 * Directory attribute prefetch for uncached lookups, as qtfs-fuse does it
 * (docs/client.md): when a directory sees its second LOOKUP miss within the
 * lifetime, its whole listing with attributes is read once (OPENDIR + READDIR
 * plus) and the next lookups in it are answered from that snapshot, with no round
 * trip, while it is younger than min(entry, attr timeout). Any change sent through
 * this mount (a modifying request starting or ending) makes every snapshot stale;
 * a snapshot answers only the credentials it was read with. Pseudo files and
 * `proc` mounts never use it; `noprefetch` turns it off. A name the snapshot cannot
 * answer is looked up here too (LOOKUP), so inode.c asks this file for every name.
 * A directory too big to snapshot is left alone: at once when its size says so,
 * else for a while once reading it found out. One whose listing a change made stale
 * is not read again for a lifetime: a create or unlink loop would otherwise read the
 * whole directory every second miss.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/slab.h>
#include <linux/bsearch.h>
#include <linux/sort.h>
#include <linux/stringhash.h>
#include "qtfs.h"

#define QTFS_SNAP_MAX_ENTRIES	16384
#define QTFS_SNAP_MAX_READS	64
#define QTFS_SNAP_READ_BYTES	(256u * 1024u)
/*
 * The fewest bytes an entry adds to a directory's size as Linux file systems report it
 * (tmpfs 20, ext4 and xfs 12 or more, usually more than 20; proc and sys say 0).
 */
#define QTFS_SNAP_BYTES_PER_ENTRY	20
/* How long a directory found too big by reading is not read again: that cost the host a stat per entry. */
#define QTFS_SNAP_TOO_BIG_PAUSE		(60 * HZ)

static void qtfs_snap_clear(struct qtfs_snap *s)
{
	kvfree(s->ents);
	kvfree(s->names);
	if (s->groups)
		put_group_info(s->groups);
	memset(s, 0, sizeof(*s));
}

void qtfs_prefetch_destroy(struct qtfs_sb *sbi)
{
	int i;

	for (i = 0; i < QTFS_SNAP_SLOTS; i++)
		qtfs_snap_clear(&sbi->snaps[i]);
}

/*
 * A request that changes the host starts or ends (req.c calls this through the hook
 * registered below): every snapshot of the mount, and every OPEN_READ content kept
 * by file.c, is stale from now on.
 */
static void qtfs_prefetch_changed(struct qtfs_conn *c)
{
	atomic64_inc(&qtfs_conn_sb(c)->change_gen);
}

void qtfs_prefetch_init(void)
{
	qtfs_req_on_change(qtfs_prefetch_changed);
}

static int qtfs_snap_cmp(const void *a, const void *b)
{
	const struct qtfs_snap_ent *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(x->name, y->name, x->name_len);
}

static unsigned long qtfs_snap_life(struct qtfs_sb *sbi)
{
	return msecs_to_jiffies(min(sbi->opts.entry_timeout_ms, sbi->opts.attr_timeout_ms));
}

static bool qtfs_snap_same_caller(const struct qtfs_snap *s, const struct cred *c)
{
	return uid_eq(s->uid, c->fsuid) && gid_eq(s->gid, c->fsgid) && s->groups == c->group_info;
}

/* 0 and *a: listed; -ENOENT: not in the listing; 1: the snapshot cannot say. */
static int qtfs_snap_answer(struct qtfs_sb *sbi, struct qtfs_snap *s, const struct qstr *name,
			    struct qtfs_attr *a)
{
	struct qtfs_snap_ent key = { .hash = name->hash, .name_len = name->len,
				     .name = (const char *)name->name };
	struct qtfs_snap_ent *e;

	if (!s->fetched || time_after_eq(jiffies, s->fetched + qtfs_snap_life(sbi)) ||
	    s->gen != atomic64_read(&sbi->change_gen) ||
	    !qtfs_snap_same_caller(s, current_cred()))
		return 1;
	e = bsearch(&key, s->ents, s->count, sizeof(*e), qtfs_snap_cmp);
	if (!e)
		return -ENOENT;
	if (!e->usable)
		return 1;
	*a = e->attr;
	return 0;
}

/* The slot of directory (hdev, hino), or the least recently fetched one, reset. */
static struct qtfs_snap *qtfs_snap_slot(struct qtfs_sb *sbi, struct qtfs_inode *qi)
{
	struct qtfs_snap *s, *victim = NULL;
	int i;

	for (i = 0; i < QTFS_SNAP_SLOTS; i++) {
		s = &sbi->snaps[i];
		if (s->hino == qi->hino && s->hdev == qi->hdev)
			return s;
		if (!s->fetching && (!victim || time_before(s->first_miss, victim->first_miss)))
			victim = s;
	}
	if (!victim)
		return NULL;
	qtfs_snap_clear(victim);
	victim->hdev = qi->hdev;
	victim->hino = qi->hino;
	return victim;
}

/* Counts the READDIR answers' entries (all of them, up to the limit). */
static u32 qtfs_snap_count(struct qtfs_req **reads, int n, size_t *name_bytes)
{
	struct qtfs_dirent e;
	u32 count = 0;
	int i;

	*name_bytes = 0;
	for (i = 0; i < n; i++) {
		struct qtfs_rbuf r = { .p = reads[i]->out.data.p, .len = reads[i]->out.data.len };
		u32 k;

		for (k = 0; k < reads[i]->out.count && !qtfs_dirent_next(&r, &e); k++) {
			count++;
			*name_bytes += e.name.len;
		}
	}
	return count;
}

/* Builds the sorted snapshot of the READDIR answers into s (not yet published). */
static int qtfs_snap_build(struct qtfs_snap *s, const struct dentry *dir,
			   struct qtfs_req **reads, int n)
{
	size_t name_bytes, off = 0;
	struct qtfs_dirent e;
	u32 count = qtfs_snap_count(reads, n, &name_bytes), j = 0;
	int i;

	s->ents = kvmalloc_array(count ?: 1, sizeof(*s->ents), GFP_KERNEL);
	s->names = kvmalloc(name_bytes ?: 1, GFP_KERNEL);
	if (!s->ents || !s->names)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct qtfs_rbuf r = { .p = reads[i]->out.data.p, .len = reads[i]->out.data.len };
		u32 k;

		for (k = 0; k < reads[i]->out.count && j < count && !qtfs_dirent_next(&r, &e); k++) {
			struct qtfs_snap_ent *se = &s->ents[j++];

			memcpy(s->names + off, e.name.p, e.name.len);
			se->name = s->names + off;
			se->name_len = e.name.len;
			se->hash = full_name_hash(dir, se->name, se->name_len);
			se->usable = e.hasattr && !(e.attr.flags & QTFS_ATTR_PSEUDO) &&
				     !memchr(e.name.p, '/', e.name.len);
			se->attr = e.attr;
			off += e.name.len;
		}
	}
	s->count = j;
	sort(s->ents, s->count, sizeof(*s->ents), qtfs_snap_cmp, NULL);
	return 0;
}

static u64 qtfs_snap_last_cookie(const struct qtfs_msg *out)
{
	struct qtfs_rbuf r = { .p = out->data.p, .len = out->data.len };
	struct qtfs_dirent e;
	u64 cookie = 0;
	u32 k;

	for (k = 0; k < out->count && !qtfs_dirent_next(&r, &e); k++)
		cookie = e.cookie;
	return cookie;
}

/* READDIR plus of handle until the end; 0 with the answers in reads[0..*n). */
static int qtfs_snap_read_all(struct qtfs_conn *c, u64 handle, struct qtfs_msg *m,
			      struct qtfs_req **reads, int *n)
{
	struct qtfs_req *req;
	u32 entries = 0;
	int err;

	do {
		memset(m, 0, sizeof(*m));
		m->handle = handle;
		m->cookie = *n ? qtfs_snap_last_cookie(&reads[*n - 1]->out) : 0;
		m->max_bytes = min(QTFS_SNAP_READ_BYTES, READ_ONCE(c->mount.io_chunk));
		m->plus = 1;
		err = qtfs_call(c, QTFS_OP_READDIR, m, &req);
		if (err)
			break;
		reads[(*n)++] = req;
		entries += req->out.count;
		if (req->out.eof)
			break;
		err = -E2BIG;	/* too large to snapshot: plain lookups */
	} while (req->out.count && *n < QTFS_SNAP_MAX_READS && entries < QTFS_SNAP_MAX_ENTRIES);
	if (*n && reads[*n - 1]->out.eof)
		err = 0;
	return err;
}

/* OPENDIR + READDIR plus until the end; 0 with the answers in reads[0..*n). */
static int qtfs_snap_read(struct qtfs_sb *sbi, struct dentry *dir, struct qtfs_req **reads, int *n)
{
	struct qtfs_req *req;
	struct qtfs_msg *m = qtfs_msg_alloc();
	u64 handle;
	u32 gen;
	int err;

	*n = 0;
	if (!m)
		return -ENOMEM;
	err = qtfs_call_at(sbi, QTFS_OP_OPENDIR, dir, m, &req);
	if (err)
		goto out;
	handle = req->out.handle;
	gen = req->gen;
	qtfs_req_put(req);
	err = qtfs_snap_read_all(&sbi->conn, handle, m, reads, n);
	qtfs_call_async(&sbi->conn, QTFS_OP_RELEASEDIR, handle, gen);
out:
	kfree(m);
	return err;
}

static int qtfs_snap_fetch(struct qtfs_sb *sbi, struct dentry *dir, struct qtfs_snap *s)
{
	struct qtfs_req **reads = kcalloc(QTFS_SNAP_MAX_READS, sizeof(*reads), GFP_KERNEL);
	int i, n = 0, err = -ENOMEM;

	if (!reads)
		return err;
	err = qtfs_snap_read(sbi, dir, reads, &n);
	if (!err)
		err = qtfs_snap_build(s, dir, reads, n);
	for (i = 0; i < n; i++)
		qtfs_req_put(reads[i]);
	kfree(reads);
	return err;
}

/* Moves a fetched listing into slot s (snap_lock held). */
static void qtfs_snap_publish(struct qtfs_snap *s, struct qtfs_snap *fresh, s64 gen)
{
	swap(s->ents, fresh->ents);
	swap(s->names, fresh->names);
	swap(s->groups, fresh->groups);
	s->count = fresh->count;
	s->gen = gen;
	s->uid = current_fsuid();
	s->gid = current_fsgid();
	s->groups = get_group_info(current_cred()->group_info);
	s->fetched = jiffies ?: 1;
}

/* Fetches the listing of d's directory into slot s (snap_lock held, dropped meanwhile). */
static int qtfs_snap_refetch(struct qtfs_sb *sbi, struct qtfs_snap *s, struct dentry *d,
			     struct qtfs_attr *a)
{
	struct qtfs_snap fresh = { 0 };
	int ans = 1, err;
	s64 gen;

	s->fetching = true;
	gen = atomic64_read(&sbi->change_gen);
	mutex_unlock(&sbi->snap_lock);

	err = qtfs_snap_fetch(sbi, d->d_parent, &fresh);

	mutex_lock(&sbi->snap_lock);
	s->fetching = false;
	s->misses = 0;
	if (err == -E2BIG)
		s->too_big_at = jiffies ?: 1;
	if (!err && gen == atomic64_read(&sbi->change_gen)) {
		qtfs_snap_publish(s, &fresh, gen);
		ans = qtfs_snap_answer(sbi, s, &d->d_name, a);
	}
	kvfree(fresh.ents);	/* the old listing, or the unused new one */
	kvfree(fresh.names);
	if (fresh.groups)
		put_group_info(fresh.groups);
	return ans;
}

/*
 * No listing now: the directory's size says it is over the limit, reading it lately
 * found so, or a change cut its last listing less than a lifetime ago.
 */
static bool qtfs_snap_paused(struct inode *dir, const struct qtfs_snap *s, unsigned long life)
{
	if (i_size_read(dir) / QTFS_SNAP_BYTES_PER_ENTRY > QTFS_SNAP_MAX_ENTRIES)
		return true;
	if (s->too_big_at && time_before(jiffies, s->too_big_at + QTFS_SNAP_TOO_BIG_PAUSE))
		return true;
	return s->cut_at && time_before(jiffies, s->cut_at + life);
}

/*
 * The answer for lookup d in dir from a snapshot, fetching it on the second miss:
 * 0 with *a (found), -ENOENT (not there), or 1 (ask the server with LOOKUP).
 */
int qtfs_lookup_cached(struct inode *dir, struct dentry *d, struct qtfs_attr *a)
{
	struct qtfs_sb *sbi = QTFS_SB(dir->i_sb);
	unsigned long life = qtfs_snap_life(sbi);
	struct qtfs_snap *s;
	int ans = 1;

	if (sbi->opts.noprefetch || sbi->opts.proc || !life || qtfs_pseudo(dir))
		return 1;
	mutex_lock(&sbi->snap_lock);
	s = qtfs_snap_slot(sbi, QTFS_I(dir));
	if (!s)
		goto out_unlock;
	ans = qtfs_snap_answer(sbi, s, &d->d_name, a);
	if (ans != 1 || s->fetching)
		goto out_unlock;
	if (s->fetched && s->gen != atomic64_read(&sbi->change_gen)) {
		s->fetched = 0;		/* cut by a change made through this mount */
		s->cut_at = jiffies ?: 1;
	}
	if (qtfs_snap_paused(dir, s, life))
		goto out_unlock;
	if (!s->misses || time_after_eq(jiffies, s->first_miss + life)) {
		s->first_miss = jiffies;
		s->misses = 0;
	}
	if (++s->misses >= 2)
		ans = qtfs_snap_refetch(sbi, s, d, a);
out_unlock:
	mutex_unlock(&sbi->snap_lock);
	return ans;
}

/* LOOKUP of name d in dir: 0 with *a, -ENOENT (no such name), or another -errno. */
int qtfs_lookup_call(struct inode *dir, struct dentry *d, struct qtfs_attr *a)
{
	struct qtfs_msg *m = qtfs_msg_alloc();
	int err;

	if (!m)
		return -ENOMEM;
	/* no request object comes back up: the answer's attributes land in m */
	err = qtfs_call_at(QTFS_SB(dir->i_sb), QTFS_OP_LOOKUP, d, m, NULL);
	if (!err)
		*a = m->attr;
	kfree(m);
	return err;
}

/*
 * The attributes of name d in dir: from dir's listing snapshot when it has one that
 * can answer, else by LOOKUP. 0 with *a, -ENOENT (no such name), or another -errno.
 */
int qtfs_lookup_attr(struct inode *dir, struct dentry *d, struct qtfs_attr *a)
{
	int err = qtfs_lookup_cached(dir, d, a);

	return err <= 0 ? err : qtfs_lookup_call(dir, d, a);
}
