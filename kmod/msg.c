// SPDX-License-Identifier: GPL-2.0
/*
 * What a request says about who asks and where: the caller (fsuid, fsgid,
 * supplementary groups of a cred) and the target of a dentry (the export id
 * and base from MOUNT, then the dentry's path below the mount root). Path
 * operations are sent from here: qtfs_call_at() fills both into a message and
 * hands it to the transport (req.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include "qtfs.h"

/* A dentry's target: export + base + path of the dentry, in a __getname() buffer. */
struct qtfs_path {
	char *buf;
	struct qtfs_target t;
};

void qtfs_fill_caller_cred(struct qtfs_caller *c, const struct cred *cred)
{
	struct group_info *gi = cred->group_info;
	int i, n = gi ? gi->ngroups : 0;

	c->uid = from_kuid_munged(&init_user_ns, cred->fsuid);
	c->gid = from_kgid_munged(&init_user_ns, cred->fsgid);
	c->pid = task_tgid_nr(current);
	if (n > QTFS_MAX_GROUPS)
		n = QTFS_MAX_GROUPS;
	for (i = 0; i < n; i++)
		c->groups[i] = from_kgid_munged(&init_user_ns, gi->gid[i]);
	c->ngroups = n;
}

/* Puts the base in front of rel (which ends p->buf), with a '/' between when both are set. */
static int qtfs_path_join(struct qtfs_conn *c, struct qtfs_path *p, char *rel)
{
	size_t rlen = strlen(rel), blen;
	char *out = rel;

	spin_lock(&c->lock);
	blen = c->mount.base_len;
	if (blen + 1 + rlen > QTFS_MAX_PATH || blen + 1 > (size_t)(rel - p->buf)) {
		spin_unlock(&c->lock);
		return -ENAMETOOLONG;
	}
	if (blen && rlen) {
		out = rel - blen - 1;
		memcpy(out, c->mount.base, blen);
		out[blen] = '/';
	} else if (blen) {
		out = rel - blen;
		memcpy(out, c->mount.base, blen);
	}
	p->t.export = c->mount.export;
	spin_unlock(&c->lock);
	p->t.path.p = (const u8 *)out;
	p->t.path.len = (u32)(blen && rlen ? blen + 1 + rlen : blen + rlen);
	return 0;
}

static int qtfs_path_get(struct qtfs_sb *sbi, struct dentry *d, struct qtfs_path *p)
{
	char *rel;
	int err;

	p->buf = __getname();
	if (!p->buf)
		return -ENOMEM;
	/* The dentry's path goes at the end of buf, the base in front of it. */
	rel = dentry_path_raw(d, p->buf, PATH_MAX);
	err = IS_ERR(rel) ? PTR_ERR(rel) : qtfs_path_join(&sbi->conn, p, rel + 1);	/* no leading '/' */
	if (err) {
		__putname(p->buf);
		p->buf = NULL;
	}
	return err;
}

static void qtfs_path_put(struct qtfs_path *p)
{
	if (p->buf)
		__putname(p->buf);
	p->buf = NULL;
}

/* RENAME, LINK: t1 is from's target, t2 is to's. */
int qtfs_call_at2(struct qtfs_sb *sbi, u16 op, struct dentry *from, struct dentry *to,
		  struct qtfs_msg *m, struct qtfs_req **reqp)
{
	struct qtfs_path p1, p2;
	int err;

	err = qtfs_path_get(sbi, from, &p1);
	if (err)
		return err;
	err = qtfs_path_get(sbi, to, &p2);
	if (!err) {
		qtfs_fill_caller_cred(&m->caller, current_cred());
		m->t1 = p1.t;
		m->t2 = p2.t;
		err = qtfs_call(&sbi->conn, op, m, reqp);
		qtfs_path_put(&p2);
	}
	qtfs_path_put(&p1);
	return err;
}

/* Sends op about d as cred; *reqp as qtfs_call, or NULL to drop the answer. */
int qtfs_call_as(struct qtfs_sb *sbi, u16 op, struct dentry *d, const struct cred *cred,
		 struct qtfs_msg *m, struct qtfs_req **reqp)
{
	struct qtfs_path p;
	int err;

	err = qtfs_path_get(sbi, d, &p);
	if (err)
		return err;
	qtfs_fill_caller_cred(&m->caller, cred);
	m->t1 = p.t;
	err = reqp ? qtfs_call(&sbi->conn, op, m, reqp) : qtfs_call_simple(&sbi->conn, op, m);
	qtfs_path_put(&p);
	return err;
}

/* Sends op about d as the current task. */
int qtfs_call_at(struct qtfs_sb *sbi, u16 op, struct dentry *d, struct qtfs_msg *m,
		 struct qtfs_req **reqp)
{
	return qtfs_call_as(sbi, op, d, current_cred(), m, reqp);
}
