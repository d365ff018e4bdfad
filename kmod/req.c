// SPDX-License-Identifier: GPL-2.0
/*
 * Calls: a request is sent on the mount's connection (conn.c) and its caller
 * waits, killably, for the answer the receive thread decodes into it.
 *
 * Tagged, refcounted requests. A request holds two references while in flight:
 * the waiter's and the table's (conn->reqs). The receive thread drops the
 * table's when the answer arrives or the connection dies. A waiter killed by a
 * signal marks the request abandoned; the receiver then cleans up (an
 * abandoned successful OPEN/CREATE/OPENDIR has its handle released).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fcntl.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/workqueue.h>
#include "transport.h"

static qtfs_change_fn qtfs_change_handler;

/* Registered once at module init (prefetch.c), before any mount exists. */
void qtfs_req_on_change(qtfs_change_fn fn)
{
	qtfs_change_handler = fn;
}

/* Requests that change the host file system (an OPEN only with O_TRUNC). */
static bool qtfs_op_changes(u16 op, const struct qtfs_msg *m)
{
	switch (op) {
	case QTFS_OP_OPEN:
		return m->flags & O_TRUNC;
	case QTFS_OP_SETATTR: case QTFS_OP_MKNOD: case QTFS_OP_MKDIR: case QTFS_OP_UNLINK:
	case QTFS_OP_RMDIR: case QTFS_OP_SYMLINK: case QTFS_OP_RENAME: case QTFS_OP_LINK:
	case QTFS_OP_CREATE: case QTFS_OP_WRITE: case QTFS_OP_FALLOCATE:
	case QTFS_OP_SETXATTR: case QTFS_OP_REMOVEXATTR:
		return true;
	}
	return false;
}

/* Operations that change nothing: safe to send again on a new connection. */
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
	/* a read-only open of a regular file (file.c sends no other): a handle the first try
	 * may have made on the host was closed with its connection */
	case QTFS_OP_OPEN_READ:
	case QTFS_OP_LOOKUP_OPEN:	/* the same, with a LOOKUP before it */
		return true;
	case QTFS_OP_GETATTR:
		return m->handle == 0;
	}
	return false;
}

static void qtfs_req_release(struct kref *ref)
{
	struct qtfs_req *req = container_of(ref, struct qtfs_req, ref);

	kvfree(req->rsp);
	kfree(req);
	atomic64_dec(&qtfs_live_reqs);
}

struct qtfs_req *qtfs_req_alloc(struct qtfs_conn *c, u16 op)
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

	if (!req->async)
		atomic64_inc(&qtfs_late_replies);
	if (req->err || !req->out.handle ||	/* LOOKUP_OPEN opens only regular files */
	    (req->op != QTFS_OP_OPEN && req->op != QTFS_OP_OPEN_READ && req->op != QTFS_OP_LOOKUP_OPEN &&
	     req->op != QTFS_OP_CREATE && req->op != QTFS_OP_OPENDIR))
		return;
	lr = kzalloc(sizeof(*lr), GFP_KERNEL);
	if (!lr)
		return;
	INIT_WORK(&lr->work, qtfs_late_release_fn);
	lr->conn = c;
	lr->handle = req->out.handle;
	lr->gen = req->gen;
	lr->op = req->op == QTFS_OP_OPENDIR ? QTFS_OP_RELEASEDIR : QTFS_OP_RELEASE;
	queue_work(qtfs_wq, &lr->work);
}

/*
 * Completes req (already removed from conn->reqs) and drops the table's
 * reference. Takes ownership of rsp, which req->out points into.
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

static int qtfs_req_wait(struct qtfs_conn *c, struct qtfs_req *req)
{
	u32 timeout = READ_ONCE(c->opts->req_timeout);
	long left;

	qtfs_conn_lead(c, req);
	if (timeout)
		left = wait_for_completion_killable_timeout(&req->done, timeout * HZ);
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

static int qtfs_call_once(struct qtfs_conn *c, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp)
{
	struct qtfs_req *req;
	int err;

	*reqp = NULL;
	req = qtfs_req_alloc(c, op);
	if (!req)
		return -ENOMEM;
	err = qtfs_conn_submit(c, req, m, 0);	/* connects first when there is no connection */
	if (!err)
		err = qtfs_req_wait(c, req);
	if (!err) {
		qtfs_stat_answered(op, ktime_to_ns(ktime_sub(ktime_get(), req->start)));
		err = req->err;
	}
	if (!err) {
		*reqp = req;
		return 0;
	}
	if (qtfs_req_sent(req)) {	/* one that found no connection never went out */
		qtfs_stat_failed(op, err);
		if (err != -ENOENT)
			atomic64_inc(&qtfs_stats[op].errors);
	}
	qtfs_req_put(req);
	return err;
}

static void qtfs_changed(struct qtfs_conn *c)
{
	if (qtfs_change_handler)
		qtfs_change_handler(c);
}

int qtfs_call(struct qtfs_conn *c, u16 op, struct qtfs_msg *m, struct qtfs_req **reqp)
{
	bool changes = qtfs_op_changes(op, m);
	int err;

	if (changes)
		qtfs_changed(c);	/* when it starts and when it ends: see prefetch.c */
	err = qtfs_call_once(c, op, m, reqp);
	/* The connection died under the request (server restart): reconnect once. */
	if (err == -ECONNRESET && qtfs_op_retryable(op, m) && !fatal_signal_pending(current))
		err = qtfs_call_once(c, op, m, reqp);
	if (changes)
		qtfs_changed(c);
	return err;
}

int qtfs_call_simple(struct qtfs_conn *c, u16 op, struct qtfs_msg *m)
{
	struct qtfs_req *req;
	int err = qtfs_call(c, op, m, &req);

	if (!err)
		m->attr = req->out.attr;	/* a value, not a pointer into the answer */
	qtfs_req_put(req);
	return err;
}

/*
 * Sends a handle-only request (RELEASE, RELEASEDIR) without waiting: the
 * request is registered so its answer finds it, and abandoned at once. A server
 * that agreed in HELLO sends no answer: then it leaves the table once sent.
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
	if (!qtfs_conn_submit(c, req, m, gen) && READ_ONCE(c->mount.quiet_release))
		qtfs_conn_unregister(c, req);
out:
	if (req)
		qtfs_req_put(req);
	kfree(m);
}
