// SPDX-License-Identifier: GPL-2.0
/*
 * One TCP connection per mount to qtfs-server: connect, HELLO, MOUNT, then a
 * receive kthread that matches answers to requests by id. A dead connection
 * fails every request in flight and is re-established by the next request.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "qtfs.h"

#define QTFS_CLIENT_NAME "qtfs.ko"

int qtfs_sock_send(struct socket *sock, struct kvec *vec, size_t nvec, size_t total)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	size_t sent = 0;
	int n;

	iov_iter_kvec(&msg.msg_iter, WRITE, vec, nvec, total);
	while (sent < total) {
		n = sock_sendmsg(sock, &msg);
		if (n <= 0)
			return n ? n : -EPIPE;
		sent += n;
	}
	return 0;
}

int qtfs_sock_recv(struct socket *sock, void *buf, size_t len)
{
	struct kvec vec = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	size_t got = 0;
	int n;

	iov_iter_kvec(&msg.msg_iter, READ, &vec, 1, len);
	while (got < len) {
		n = sock_recvmsg(sock, &msg, MSG_WAITALL);
		if (n <= 0)
			return n ? n : -ECONNRESET;
		got += n;
	}
	return 0;
}

/*
 * A response status is a Linux errno from the peer: anything that is not one
 * (it would be taken for a pointer by ERR_PTR users) becomes EIO.
 */
int qtfs_status_errno(u32 status)
{
	if (status == 0 || status >= MAX_ERRNO || status == ERESTARTSYS ||
	    status == ERESTARTNOINTR || status == ERESTARTNOHAND || status == ERESTART_RESTARTBLOCK ||
	    status == EPROBE_DEFER || status == EIOCBQUEUED)
		return -EIO;
	return -(int)status;
}

/* Synchronous exchange used only during the handshake, before the rx thread runs. */
static int qtfs_handshake_call(struct socket *sock, u16 op, u64 id, struct qtfs_msg *m,
			       u8 **rsp, struct qtfs_msg *out)
{
	u8 hdrbuf[QTFS_HDR_SIZE];
	struct qtfs_hdr h = { .kind = QTFS_KIND_REQ, .opcode = op, .id = id };
	struct qtfs_wbuf w = { 0 };
	struct kvec vec;
	int err;

	*rsp = NULL;
	w.cap = QTFS_HDR_SIZE + 512 + m->str.len;
	w.p = kmalloc(w.cap, GFP_KERNEL);
	if (!w.p)
		return -ENOMEM;
	w.len = QTFS_HDR_SIZE;
	err = qtfs_encode(&w, QTFS_KIND_REQ, op, m);
	if (err)
		goto out_free;
	h.length = w.len - QTFS_HDR_SIZE;
	qtfs_hdr_encode(w.p, &h);
	vec = (struct kvec){ .iov_base = w.p, .iov_len = w.len };
	err = qtfs_sock_send(sock, &vec, 1, w.len);
	if (err)
		goto out_free;
	err = qtfs_sock_recv(sock, hdrbuf, sizeof(hdrbuf));
	if (err)
		goto out_free;
	err = qtfs_hdr_decode(hdrbuf, &h);
	if (err || h.kind != QTFS_KIND_RSP || h.opcode != op || h.id != id) {
		err = -EPROTO;
		goto out_free;
	}
	if (h.length) {
		*rsp = kvmalloc(h.length, GFP_KERNEL);
		err = *rsp ? qtfs_sock_recv(sock, *rsp, h.length) : -ENOMEM;
		if (err)
			goto out_free;
	}
	err = h.status ? qtfs_status_errno(h.status) : qtfs_decode(*rsp, h.length, QTFS_KIND_RSP, op, out);
out_free:
	kfree(w.p);
	return err;
}

/* HELLO then MOUNT of the mount source; records export id, base and root attr. */
static int qtfs_handshake(struct qtfs_conn *c, struct socket *sock)
{
	struct qtfs_sb *sbi = c->sbi;
	struct qtfs_msg *m, *out;
	u8 *rsp = NULL;
	char *base;
	int err = -ENOMEM;

	m = qtfs_msg_alloc();
	out = qtfs_msg_alloc();
	if (!m || !out)
		goto out_free;
	m->min_version = 1;
	m->max_version = 1;
	m->caps = QTFS_CAP_AUTH;	/* AUTH_CAPABLE */
	m->str = (struct qtfs_bytes){ (const u8 *)QTFS_CLIENT_NAME, strlen(QTFS_CLIENT_NAME) };
	err = qtfs_handshake_call(sock, QTFS_OP_HELLO, 1, m, &rsp, out);
	if (err)
		goto out_free;
	if (out->version != 1 || out->max_bytes < 4096 + 64) {
		err = -EPROTO;
		goto out_free;
	}
	/* READ/WRITE data plus their fixed fields must fit the server's payload limit */
	WRITE_ONCE(c->io_chunk, min_t(u32, QTFS_IO_CHUNK, rounddown(out->max_bytes - 64, 4096)));
	kvfree(rsp);
	rsp = NULL;
	err = qtfs_auth_policy(&sbi->opts, out->caps);
	if (err > 0)
		err = qtfs_authenticate(sock, &sbi->opts, out->version, m, out, qtfs_handshake_call);
	if (err)
		goto out_free;
	memset(m, 0, sizeof(*m));
	qtfs_fill_caller_cred(&m->caller, sbi->mounter);
	m->str = (struct qtfs_bytes){ (const u8 *)sbi->source, strlen(sbi->source) };
	err = qtfs_handshake_call(sock, QTFS_OP_MOUNT, 4, m, &rsp, out);
	if (err)
		goto out_free;
	base = kmemdup_nul(out->str.p ? (const char *)out->str.p : "", out->str.len, GFP_KERNEL);
	err = -ENOMEM;
	if (!base)
		goto out_free;
	spin_lock(&c->lock);
	kfree(c->base);
	c->base = base;
	c->base_len = out->str.len;
	c->export = out->export;
	c->root_attr = out->attr;
	spin_unlock(&c->lock);
	err = 0;
out_free:
	kvfree(rsp);
	kfree(out);
	kfree(m);
	return err;
}

static int qtfs_connect(struct qtfs_conn *c, struct socket **sockp)
{
	struct qtfs_opts *o = &c->sbi->opts;
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(o->port),
		.sin_addr.s_addr = o->server,
	};
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (err)
		return err;
	sock->sk->sk_sndtimeo = o->conn_timeout * HZ;
	sock->sk->sk_rcvtimeo = o->conn_timeout * HZ;
	sock->sk->sk_allocation = GFP_NOFS;
	err = kernel_connect(sock, (struct sockaddr *)&sin, sizeof(sin), 0);
	if (err)
		goto out_release;
	tcp_sock_set_nodelay(sock->sk);
	err = qtfs_handshake(c, sock);
	if (err)
		goto out_release;
	/* From now on waits are bounded by the requests, not the socket. */
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	*sockp = sock;
	return 0;
out_release:
	sock_release(sock);
	return err;
}

/*
 * Fails every request in flight; the connection stays dead until the next
 * request. Called by the rx thread (which owns the socket) and at destroy.
 */
void qtfs_conn_fail(struct qtfs_conn *c, int err)
{
	struct qtfs_req *req;
	int id;

	spin_lock(&c->lock);
	if (c->state == QTFS_CONN_UP) {
		c->state = QTFS_CONN_DEAD;
		qtfs_warn("connection to %pI4:%u lost (%d)\n", &c->sbi->opts.server,
			  c->sbi->opts.port, err);
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

/* An event frame (server push): POLL_READY wakes pollers; others are skipped. */
static int qtfs_rx_event(struct qtfs_conn *c, const struct qtfs_hdr *h)
{
	u8 payload[64];

	if (h->length > sizeof(payload)) {
		qtfs_err_rl("event %u with %u bytes from server, closing connection\n", h->opcode, h->length);
		return -EPROTO;
	}
	if (h->length && qtfs_sock_recv(c->sock, payload, h->length))
		return -EPROTO;
	if (h->opcode == QTFS_OP_POLL_READY)
		qtfs_poll_ready(c->sbi, payload, h->length);
	return 0;
}

static int qtfs_rx_one(struct qtfs_conn *c)
{
	u8 hdrbuf[QTFS_HDR_SIZE];
	struct qtfs_req *req;
	struct qtfs_hdr h;
	u8 *payload = NULL;
	int err;

	err = qtfs_sock_recv(c->sock, hdrbuf, sizeof(hdrbuf));
	if (err)
		return err;
	err = qtfs_hdr_decode(hdrbuf, &h);
	if (!err && h.kind == QTFS_KIND_EVENT)
		return qtfs_rx_event(c, &h);
	if (err || h.kind != QTFS_KIND_RSP) {
		qtfs_err_rl("bad frame header from server, closing connection\n");
		return -EPROTO;
	}
	if (h.length) {
		payload = kvmalloc(h.length, GFP_KERNEL);
		if (!payload)
			return -ENOMEM;
		err = qtfs_sock_recv(c->sock, payload, h.length);
		if (err)
			goto out_free;
	}
	spin_lock(&c->lock);
	req = h.id <= INT_MAX ? idr_find(&c->reqs, (int)h.id) : NULL;
	if (req && req->op != h.opcode)
		err = -EPROTO;	/* the peer mixed up requests: trust nothing more */
	else if (req)
		idr_remove(&c->reqs, (int)h.id);
	spin_unlock(&c->lock);
	if (err) {
		qtfs_err_rl("answer %llu has opcode %u, not %u: closing connection\n",
			    h.id, h.opcode, req->op);
		goto out_free;
	}
	if (!req) {
		qtfs_warn_rl("answer for unknown request %llu (op %u)\n", h.id, h.opcode);
		goto out_free;
	}
	qtfs_req_finish(c, req, h.status ? qtfs_status_errno(h.status) : 0, payload, h.length);
	return 0;
out_free:
	kvfree(payload);
	return err;
}

int qtfs_rx_thread(void *arg)
{
	struct qtfs_conn *c = arg;
	int err = 0;

	while (!kthread_should_stop()) {
		err = qtfs_rx_one(c);
		if (err)
			break;
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
	mutex_lock(&c->send_lock);
	if (c->sock) {
		sock_release(c->sock);
		c->sock = NULL;
	}
	mutex_unlock(&c->send_lock);
}

int qtfs_conn_ensure(struct qtfs_conn *c)
{
	struct socket *sock;
	struct task_struct *rx;
	int err = 0;

	if (READ_ONCE(c->state) == QTFS_CONN_UP)
		return 0;
	if (mutex_lock_killable(&c->setup_lock))
		return -EINTR;
	if (c->state == QTFS_CONN_UP)
		goto out_unlock;
	qtfs_conn_teardown(c);
	err = qtfs_connect(c, &sock);
	if (err)
		goto out_unlock;
	mutex_lock(&c->send_lock);
	c->sock = sock;
	mutex_unlock(&c->send_lock);
	rx = kthread_create(qtfs_rx_thread, c, "qtfs-rx");
	if (IS_ERR(rx)) {
		err = PTR_ERR(rx);
		goto out_teardown;
	}
	get_task_struct(rx);
	c->rx = rx;
	spin_lock(&c->lock);
	if (c->state == QTFS_CONN_DEAD)
		c->reconnects++;
	c->gen++;
	c->state = QTFS_CONN_UP;
	spin_unlock(&c->lock);
	wake_up_process(rx);
	qtfs_info("connected to %pI4:%u (export %u)\n", &c->sbi->opts.server,
		  c->sbi->opts.port, c->export);
	goto out_unlock;
out_teardown:
	qtfs_conn_teardown(c);
out_unlock:
	mutex_unlock(&c->setup_lock);
	return err;
}

int qtfs_conn_init(struct qtfs_conn *c, struct qtfs_sb *sbi)
{
	c->sbi = sbi;
	mutex_init(&c->setup_lock);
	mutex_init(&c->send_lock);
	spin_lock_init(&c->lock);
	idr_init(&c->reqs);
	c->state = QTFS_CONN_DOWN;
	atomic_set(&c->inflight, 0);
	return 0;
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
	kfree(c->base);
	c->base = NULL;
}
