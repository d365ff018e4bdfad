// SPDX-License-Identifier: GPL-2.0
/*
 * Tagged, refcounted requests. A request holds two references while in flight:
 * the waiter's and the table's (conn->reqs). The receive thread drops the
 * table's when the answer arrives or the connection dies. A waiter killed by a
 * signal marks the request abandoned; the receiver then cleans up (an
 * abandoned successful OPEN/CREATE/OPENDIR has its handle released).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include "qtfs.h"

struct qtfs_msg *qtfs_msg_alloc(void)
{
	return kzalloc(sizeof(struct qtfs_msg), GFP_KERNEL);
}

void qtfs_fill_caller(struct qtfs_caller *c)
{
	qtfs_fill_caller_cred(c, current_cred());
}

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

static void qtfs_req_release(struct kref *ref)
{
	struct qtfs_req *req = container_of(ref, struct qtfs_req, ref);

	kvfree(req->rsp);
	kfree(req);
	atomic64_dec(&qtfs_live_reqs);
}

static struct qtfs_req *qtfs_req_alloc(struct qtfs_conn *c, u16 op)
{
	struct qtfs_req *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return NULL;
	atomic64_inc(&qtfs_live_reqs);
	kref_init(&req->ref);
	init_completion(&req->done);
	req->conn = c;
	req->op = op;
	return req;
}

void qtfs_req_put(struct qtfs_req *req)
{
	if (req)
		kref_put(&req->ref, qtfs_req_release);
}

struct qtfs_late_release {
	struct work_struct work;
	struct qtfs_conn *conn;
	u64 handle;
	u32 gen;
	u16 op;
};

static void qtfs_late_release_fn(struct work_struct *work)
{
	struct qtfs_late_release *lr = container_of(work, struct qtfs_late_release, work);

	qtfs_call_async(lr->conn, lr->op, lr->handle, lr->gen);
	kfree(lr);
}

/*
 * An answer nobody waits for. A successful OPEN/CREATE/OPENDIR holds a host
 * handle: release it, from a work item (the rx thread must never block
 * sending, or it could deadlock with a server blocked sending to us).
 * conn_destroy flushes qtfs_wq before the connection goes away.
 */
static void qtfs_req_cleanup_abandoned(struct qtfs_conn *c, struct qtfs_req *req)
{
	struct qtfs_late_release *lr;
	struct qtfs_msg *m;

	if (!req->async)
		atomic64_inc(&qtfs_late_replies);
	if (req->err || (req->op != QTFS_OP_OPEN && req->op != QTFS_OP_OPEN_READ &&
			 req->op != QTFS_OP_CREATE && req->op != QTFS_OP_OPENDIR))
		return;
	m = qtfs_msg_alloc();
	lr = kzalloc(sizeof(*lr), GFP_KERNEL);
	if (m && lr && !qtfs_decode(req->rsp, req->rsp_len, QTFS_KIND_RSP, req->op, m)) {
		INIT_WORK(&lr->work, qtfs_late_release_fn);
		lr->conn = c;
		lr->handle = m->handle;
		lr->gen = req->gen;
		lr->op = req->op == QTFS_OP_OPENDIR ? QTFS_OP_RELEASEDIR : QTFS_OP_RELEASE;
		queue_work(qtfs_wq, &lr->work);
		lr = NULL;
	}
	kfree(lr);
	kfree(m);
}

/*
 * Completes req (already removed from conn->reqs) and drops the table's
 * reference. Takes ownership of rsp.
 */
void qtfs_req_finish(struct qtfs_conn *c, struct qtfs_req *req, int err, u8 *rsp, u32 len)
{
	bool abandoned;

	req->err = err;
	req->rsp = rsp;
	req->rsp_len = len;
	spin_lock(&c->lock);
	req->completed = true;
	abandoned = req->abandoned;
	spin_unlock(&c->lock);
	atomic_dec(&c->inflight);
	if (abandoned)
		qtfs_req_cleanup_abandoned(c, req);
	else
		complete(&req->done);
	qtfs_req_put(req);
}

static size_t qtfs_msg_bound(u16 op, const struct qtfs_msg *m)
{
	return 512 + sizeof(m->caller.groups) + m->t1.path.len + m->t2.path.len +
		m->str.len + m->name.len + m->value.len + m->data.len;
}

/* Registers req in the table under a fresh id; fails if the connection is not up. */
static int qtfs_req_register(struct qtfs_conn *c, struct qtfs_req *req)
{
	int id;

	idr_preload(GFP_KERNEL);
	spin_lock(&c->lock);
	if (c->state != QTFS_CONN_UP) {
		spin_unlock(&c->lock);
		idr_preload_end();
		return -ECONNRESET;
	}
	id = idr_alloc_cyclic(&c->reqs, req, 1, 0, GFP_NOWAIT);
	if (id >= 0) {
		req->id = id;
		req->gen = c->gen;
		kref_get(&req->ref);	/* the table's */
		atomic_inc(&c->inflight);
	}
	spin_unlock(&c->lock);
	idr_preload_end();
	return id < 0 ? id : 0;
}

static bool qtfs_req_unregister(struct qtfs_conn *c, struct qtfs_req *req)
{
	bool found;

	spin_lock(&c->lock);
	found = idr_find(&c->reqs, req->id) == req;
	if (found)
		idr_remove(&c->reqs, req->id);
	spin_unlock(&c->lock);
	if (found) {
		atomic_dec(&c->inflight);
		qtfs_req_put(req);
	}
	return found;
}

/* Encodes and sends the frame of req. */
static int qtfs_req_send(struct qtfs_conn *c, struct qtfs_req *req, const struct qtfs_msg *m)
{
	struct qtfs_hdr h = { .kind = QTFS_KIND_REQ, .opcode = req->op, .id = req->id };
	struct qtfs_wbuf w = { 0 };
	struct kvec vec;
	int err;

	w.cap = QTFS_HDR_SIZE + qtfs_msg_bound(req->op, m);
	w.p = kvmalloc(w.cap, GFP_KERNEL);
	if (!w.p)
		return -ENOMEM;
	w.len = QTFS_HDR_SIZE;
	err = qtfs_encode(&w, QTFS_KIND_REQ, req->op, m);
	if (err)
		goto out_free;
	h.length = w.len - QTFS_HDR_SIZE;
	qtfs_hdr_encode(w.p, &h);
	vec.iov_base = w.p;
	vec.iov_len = w.len;
	mutex_lock(&c->send_lock);
	if (c->state != QTFS_CONN_UP || c->gen != req->gen)
		err = -ECONNRESET;
	else
		err = qtfs_sock_send(c->sock, &vec, 1, w.len);
	/* A partial frame poisons the stream: let the receiver fail everything. */
	if (err && err != -ECONNRESET)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_unlock(&c->send_lock);
out_free:
	kvfree(w.p);
	return err;
}

static int qtfs_req_wait(struct qtfs_sb *sbi, struct qtfs_req *req)
{
	struct qtfs_conn *c = &sbi->conn;
	long left;

	if (sbi->opts.req_timeout)
		left = wait_for_completion_killable_timeout(&req->done, sbi->opts.req_timeout * HZ);
	else
		left = wait_for_completion_killable(&req->done) ? -ERESTARTSYS : 1;
	if (left > 0)
		return 0;
	spin_lock(&c->lock);
	if (req->completed) {	/* the answer won the race */
		spin_unlock(&c->lock);
		wait_for_completion(&req->done);
		return 0;
	}
	req->abandoned = true;
	spin_unlock(&c->lock);
	atomic64_inc(&qtfs_stats[req->op].interrupted);
	return left == 0 ? -ETIMEDOUT : -EINTR;
}

static int qtfs_call_once(struct qtfs_sb *sbi, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp)
{
	struct qtfs_conn *c = &sbi->conn;
	struct qtfs_req *req;
	int err;

	*reqp = NULL;
	err = qtfs_conn_ensure(c);
	if (err)
		return err;
	req = qtfs_req_alloc(c, op);
	if (!req)
		return -ENOMEM;
	req->start = ktime_get();
	atomic64_inc(&qtfs_stats[op].sent);
	err = qtfs_req_register(c, req);
	if (err)
		goto out_put;
	err = qtfs_req_send(c, req, m);
	if (err) {
		if (qtfs_req_unregister(c, req))
			goto out_put;
		/* already failed by the receiver: its error wins */
	}
	err = qtfs_req_wait(sbi, req);
	if (err)
		goto out_put;
	qtfs_stat_answered(op, ktime_to_ns(ktime_sub(ktime_get(), req->start)));
	err = req->err;
	if (!err)
		err = qtfs_decode(req->rsp, req->rsp_len, QTFS_KIND_RSP, op, &req->out);
	if (err)
		goto out_put;
	*reqp = req;
	return 0;
out_put:
	if (err)
		qtfs_stat_failed(op, err);
	if (err && err != -ENOENT)
		atomic64_inc(&qtfs_stats[op].errors);
	qtfs_req_put(req);
	return err;
}

/* Path operations that change nothing: safe to send again on a new connection. */
static bool qtfs_op_retryable(u16 op, const struct qtfs_msg *m)
{
	switch (op) {
	case QTFS_OP_LOOKUP:
	case QTFS_OP_READLINK:
	case QTFS_OP_STATFS:
	case QTFS_OP_ACCESS:
	case QTFS_OP_GETXATTR:
	case QTFS_OP_LISTXATTR:
	case QTFS_OP_OPENDIR:
		return true;
	case QTFS_OP_GETATTR:
		return m->handle == 0;
	}
	return false;
}

int qtfs_call(struct qtfs_sb *sbi, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp)
{
	int err;

	qtfs_prefetch_changed(sbi, op, m);	/* before and after: see prefetch.c */
	err = qtfs_call_once(sbi, op, m, reqp);
	/* The connection died under the request (server restart): reconnect once. */
	if (err == -ECONNRESET && qtfs_op_retryable(op, m) && !fatal_signal_pending(current))
		err = qtfs_call_once(sbi, op, m, reqp);
	qtfs_prefetch_changed(sbi, op, m);
	return err;
}

int qtfs_call_simple(struct qtfs_sb *sbi, u16 op, struct qtfs_msg *m)
{
	struct qtfs_req *req;
	int err = qtfs_call(sbi, op, m, &req);

	qtfs_req_put(req);
	return err;
}

/*
 * Sends a handle-only request (RELEASE, RELEASEDIR) without waiting: the
 * request is registered so its answer finds it, and abandoned at once.
 */
void qtfs_call_async(struct qtfs_conn *c, u16 op, u64 handle, u32 gen)
{
	struct qtfs_msg *m;
	struct qtfs_req *req;

	if (READ_ONCE(c->gen) != gen || READ_ONCE(c->state) != QTFS_CONN_UP)
		return;	/* the server closed the handle with the old connection */
	m = qtfs_msg_alloc();
	req = qtfs_req_alloc(c, op);
	if (!m || !req)
		goto out;
	req->abandoned = true;
	req->async = true;
	m->handle = handle;
	atomic64_inc(&qtfs_stats[op].sent);
	if (qtfs_req_register(c, req) || req->gen != gen)
		goto out_unreg;
	if (qtfs_req_send(c, req, m))
		goto out_unreg;
	goto out;
out_unreg:
	qtfs_req_unregister(c, req);
out:
	if (req)
		qtfs_req_put(req);
	kfree(m);
}
