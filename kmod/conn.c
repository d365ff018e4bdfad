// SPDX-License-Identifier: GPL-2.0
/*
 * One TCP connection per mount to qtfs-server: connected (sock.c) on the first
 * request, a table of the requests in flight by id, their frames sent one at a
 * time (sealed under the send lock when the connection has keys), and a receive
 * kthread that opens each frame, decodes each answer into its request and completes
 * it (req.c), unless the waiting caller reads its own answer (rx.c). Event frames go
 * to the handler registered for their opcode. A dead connection (also: a frame that
 * does not open) fails every request in flight and is re-established, with new keys,
 * by the next request.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/net.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>
#include "transport.h"

static qtfs_event_fn qtfs_event_handlers[QTFS_OP_MAX];

/* Registered once at module init, before any mount exists. */
void qtfs_conn_on_event(u16 op, qtfs_event_fn fn)
{
	if (op < QTFS_OP_MAX)
		qtfs_event_handlers[op] = fn;
}

/* Registers req in the table under a fresh id; fails if the connection is not up. */
static int qtfs_conn_register(struct qtfs_conn *c, struct qtfs_req *req)
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
		req->start = ktime_get();
		kref_get(&req->ref);	/* the table's */
		atomic_inc(&c->inflight);
		atomic64_inc(&qtfs_stats[req->op].sent);
	}
	spin_unlock(&c->lock);
	idr_preload_end();
	return id < 0 ? id : 0;
}

/* Takes req out of the table if it is still there (false: the receiver has it). */
bool qtfs_conn_unregister(struct qtfs_conn *c, struct qtfs_req *req)
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

/*
 * Puts req in flight: registered under a fresh id, then its frame sent (sock.c). gen 0: on
 * the current connection, connected first if there is none; else only on connection
 * generation gen (that of a handle). 0, or the error that stopped it; a request the
 * receiver failed meanwhile returns 0, with its error in req->err once completed.
 */
int qtfs_conn_submit(struct qtfs_conn *c, struct qtfs_req *req, const struct qtfs_msg *m, u32 gen)
{
	int err = gen ? 0 : qtfs_conn_ensure(c);

	if (!err)
		err = qtfs_conn_register(c, req);
	if (err)
		return err;
	err = gen && req->gen != gen ? -ECONNRESET : qtfs_frame_send_req(c, req, m);
	if (err && !qtfs_conn_unregister(c, req))
		err = 0;	/* already failed by the receiver: its error wins */
	return err;
}

/*
 * Fails every request in flight; the connection stays dead until the next
 * request. Called by the rx thread (which owns the socket) and at destroy.
 */
static void qtfs_conn_fail(struct qtfs_conn *c, int err)
{
	struct qtfs_req *req;
	int id;

	spin_lock(&c->lock);
	if (c->state == QTFS_CONN_UP) {
		c->state = QTFS_CONN_DEAD;
		qtfs_warn("connection to %pI4:%u lost (%d)\n", &c->opts->server, c->opts->port, err);
	}
	spin_unlock(&c->lock);
	for (;;) {
		spin_lock(&c->lock);
		id = 0;
		req = idr_get_next(&c->reqs, &id);
		if (req)
			idr_remove(&c->reqs, id);
		spin_unlock(&c->lock);
		if (!req)
			break;
		qtfs_req_finish(c, req, -ECONNRESET, NULL, 0);
	}
}

/* An event frame (server push): its opcode's handler gets the payload; others are skipped. */
static void qtfs_rx_event(struct qtfs_conn *c, const struct qtfs_hdr *h, const u8 *payload)
{
	qtfs_event_fn fn = h->opcode < QTFS_OP_MAX ? qtfs_event_handlers[h->opcode] : NULL;

	if (fn)
		fn(c, payload, h->length);
}

/* Takes the request answered by h out of the table; -EPROTO if its opcode is not h's. */
static int qtfs_rx_match(struct qtfs_conn *c, const struct qtfs_hdr *h, struct qtfs_req **reqp)
{
	struct qtfs_req *req;
	int err = 0;

	spin_lock(&c->lock);
	req = h->id <= INT_MAX ? idr_find(&c->reqs, (int)h->id) : NULL;
	if (req && req->op != h->opcode)
		err = -EPROTO;	/* the peer mixed up requests: trust nothing more */
	else if (req)
		idr_remove(&c->reqs, (int)h->id);
	spin_unlock(&c->lock);
	if (err)
		qtfs_err_rl("answer %llu has opcode %u, not %u: closing connection\n",
			    h->id, h->opcode, req->op);
	else if (!req)
		qtfs_warn_rl("answer for unknown request %llu (op %u)\n", h->id, h->opcode);
	*reqp = err ? NULL : req;
	return err;
}

/* The answer h to a request: matched by id, decoded, and handed to its waiter (takes payload). */
static int qtfs_rx_answer(struct qtfs_conn *c, const struct qtfs_hdr *h, u8 *payload)
{
	struct qtfs_req *req;
	int err;

	err = qtfs_rx_match(c, h, &req);
	if (err || !req) {
		kvfree(payload);
		return err;
	}
	if (h->status)
		err = qtfs_status_errno(h->status);
	else
		err = qtfs_decode(payload, h->length, QTFS_KIND_RSP, req->op, &req->out);
	qtfs_req_finish(c, req, err, payload, h->length);	/* takes payload */
	return 0;
}

#define QTFS_EVENT_MAX	64	/* the largest event payload (POLL_READY, SOCK_INCOMING) */

/*
 * One frame from the server: header, payload (opened when sealed), then its handler.
 * peeked: its header, when a leader (rx.c) has seen it and all its payload queued in the
 * socket: then both are read in one call.
 */
int qtfs_rx_one(struct qtfs_conn *c, const struct qtfs_hdr *peeked)
{
	u32 event_max = QTFS_EVENT_MAX + (c->seal ? QTFS_AEAD_TAG : 0);
	u8 hdrbuf[QTFS_HDR_SIZE];
	struct qtfs_hdr h;
	u8 *payload;
	int err;

	if (peeked) {
		h = *peeked;
		err = qtfs_frame_length_ok(c->seal, &h) ? 0 : -EPROTO;
	} else {
		err = qtfs_frame_recv_hdr(c->sock, c->seal, hdrbuf, &h);
	}
	if (!err && h.kind != QTFS_KIND_RSP && h.kind != QTFS_KIND_EVENT)
		err = -EPROTO;
	if (err == -EPROTO)
		qtfs_err_rl("bad frame header from server, closing connection\n");
	if (err)
		return err;
	if (h.kind == QTFS_KIND_EVENT && h.length > event_max) {
		qtfs_err_rl("event %u with %u bytes from server, closing connection\n", h.opcode, h.length);
		return -EPROTO;
	}
	err = qtfs_frame_recv_payload(c->sock, c, c->seal, hdrbuf, &h, &payload, peeked != NULL);
	if (err)
		return err;
	if (h.kind == QTFS_KIND_RSP)
		return qtfs_rx_answer(c, &h, payload);
	qtfs_rx_event(c, &h, payload);
	kvfree(payload);
	return 0;
}

static int qtfs_rx_thread(void *arg)
{
	struct qtfs_conn *c = arg;
	int err = 0;

	while (!err && !kthread_should_stop()) {
		wait_event_interruptible(c->rx_wq, kthread_should_stop() || qtfs_rx_wanted(c));
		mutex_lock(&c->rx_lock);
		while (!err && !kthread_should_stop() && qtfs_rx_readable(c))
			err = qtfs_rx_one(c, NULL);
		if (err)	/* a leader must not read on after a bad frame */
			kernel_sock_shutdown(c->sock, SHUT_RDWR);
		mutex_unlock(&c->rx_lock);
	}
	qtfs_conn_fail(c, err);
	/* Stay until teardown stops us, so kthread_stop() always has a thread. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* Stops the rx thread and frees the socket. Caller holds setup_lock. */
static void qtfs_conn_teardown(struct qtfs_conn *c)
{
	if (c->sock)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	if (c->rx) {
		kthread_stop(c->rx);
		put_task_struct(c->rx);
		c->rx = NULL;
	}
	mutex_lock(&c->rx_lock);	/* a leader is done with the socket */
	mutex_lock(&c->send_lock);
	if (c->sock) {
		qtfs_rx_unhook(c, c->sock);
		sock_release(c->sock);
		c->sock = NULL;
	}
	qtfs_seal_free(c->seal);	/* the keys die with the connection */
	c->seal = NULL;
	mutex_unlock(&c->send_lock);
	mutex_unlock(&c->rx_lock);
}

/*
 * A new socket is up: record MOUNT's answer and the connection's keys, start receiving,
 * open the next generation.
 */
static int qtfs_conn_start(struct qtfs_conn *c, struct socket *sock, struct qtfs_mount_info *mi,
			   struct qtfs_seal *seal)
{
	struct task_struct *rx;

	qtfs_rx_hook(c, sock);
	mutex_lock(&c->rx_lock);
	mutex_lock(&c->send_lock);
	c->sock = sock;
	c->seal = seal;
	WRITE_ONCE(c->suite, qtfs_seal_suite(seal));
	mutex_unlock(&c->send_lock);
	mutex_unlock(&c->rx_lock);
	rx = kthread_create(qtfs_rx_thread, c, "qtfs-rx");
	if (IS_ERR(rx))
		return PTR_ERR(rx);
	get_task_struct(rx);
	c->rx = rx;
	spin_lock(&c->lock);
	swap(c->mount.base, mi->base);	/* mi takes the old base away to be freed */
	c->mount.base_len = mi->base_len;
	c->mount.export = mi->export;
	c->mount.root_attr = mi->root_attr;
	WRITE_ONCE(c->mount.io_chunk, mi->io_chunk);
	WRITE_ONCE(c->mount.quiet_release, mi->quiet_release);
	if (c->state == QTFS_CONN_DEAD)
		c->reconnects++;
	c->gen++;
	c->state = QTFS_CONN_UP;
	spin_unlock(&c->lock);
	wake_up_process(rx);
	qtfs_info("connected to %pI4:%u (export %u, frames %s)\n", &c->opts->server, c->opts->port,
		  c->mount.export, seal ? qtfs_suite_name(c->suite) : "in plaintext");
	return 0;
}

int qtfs_conn_ensure(struct qtfs_conn *c)
{
	struct qtfs_mount_info mi = { 0 };
	struct qtfs_seal *seal;
	struct socket *sock;
	int err = 0;

	if (READ_ONCE(c->state) == QTFS_CONN_UP)
		return 0;
	if (mutex_lock_killable(&c->setup_lock))
		return -EINTR;
	if (c->state == QTFS_CONN_UP)
		goto out_unlock;
	qtfs_conn_teardown(c);
	err = qtfs_sock_connect(c, &sock, &mi, &seal);
	if (err)
		goto out_unlock;
	err = qtfs_conn_start(c, sock, &mi, seal);
	if (err)
		qtfs_conn_teardown(c);
	kfree(mi.base);
out_unlock:
	mutex_unlock(&c->setup_lock);
	return err;
}

void qtfs_conn_init(struct qtfs_conn *c, const struct qtfs_opts *opts)
{
	c->opts = opts;
	mutex_init(&c->setup_lock);
	mutex_init(&c->send_lock);
	mutex_init(&c->rx_lock);
	init_waitqueue_head(&c->rx_wq);
	init_waitqueue_head(&c->lead_wq);
	spin_lock_init(&c->lock);
	idr_init(&c->reqs);
	c->state = QTFS_CONN_DOWN;
	atomic_set(&c->inflight, 0);
}

void qtfs_conn_destroy(struct qtfs_conn *c)
{
	mutex_lock(&c->setup_lock);
	spin_lock(&c->lock);
	if (c->state == QTFS_CONN_UP)
		c->state = QTFS_CONN_DEAD;
	spin_unlock(&c->lock);
	qtfs_conn_teardown(c);
	qtfs_conn_fail(c, -ESHUTDOWN);
	c->state = QTFS_CONN_DOWN;
	mutex_unlock(&c->setup_lock);
	flush_workqueue(qtfs_wq);	/* late releases queued by the rx thread */
	idr_destroy(&c->reqs);
	kfree(c->mount.base);
	c->mount.base = NULL;
}
