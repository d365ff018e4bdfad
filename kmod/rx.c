// SPDX-License-Identifier: GPL-2.0
/*
 * Who reads the answers of a connection. The rx kthread (conn.c) reads whatever nobody
 * else reads; a caller waiting for its own answer reads in its own thread when no one
 * else does (it "leads"), so its answer wakes it directly instead of waking the kthread,
 * which would then wake the caller: one context switch less per request. Whoever reads
 * holds rx_lock. The socket's callbacks wake the leader when there is one, else the
 * kthread, never both.
 *
 * A leader takes only frames already whole in the socket (peeked header, bytes queued),
 * reading each in one call after the peek, so a signal never leaves half a frame read; a frame larger than qtfs_lead_max, a
 * signal, a read error or a soft mount's timeout leave the rest to the kthread, and the
 * caller waits for its answer as before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "transport.h"

/* The largest frame a leader reads: an OPEN_READ answer with all its content, sealed. */
#define QTFS_LEAD_MAX	(QTFS_MAX_OPEN_CONTENT + 1024u)

/* Something to read, or an end to see: a closed or failed socket. */
static bool qtfs_rx_ended(struct sock *sk)
{
	return READ_ONCE(sk->sk_err) || (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

bool qtfs_rx_readable(struct qtfs_conn *c)
{
	struct sock *sk = c->sock->sk;

	return tcp_inq(sk) > 0 || qtfs_rx_ended(sk);
}

/* The kthread's turn: something to read and no leader. */
bool qtfs_rx_wanted(struct qtfs_conn *c)
{
	return !READ_ONCE(c->leader) && qtfs_rx_readable(c);
}

/* After the socket's own callback: wake whoever reads now. */
static void qtfs_rx_wake(struct qtfs_conn *c)
{
	smp_mb();	/* the data queued, then the leader read: pairs with qtfs_conn_lead */
	if (READ_ONCE(c->leader))
		wake_up(&c->lead_wq);
	else
		wake_up(&c->rx_wq);
}

/* The socket's own callback (data_ready, or state_change), then qtfs_rx_wake. */
static void qtfs_sk_chain(struct sock *sk, bool data)
{
	struct qtfs_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (c) {
		(data ? c->sk_data_ready : c->sk_state_change)(sk);
		qtfs_rx_wake(c);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void qtfs_sk_data_ready(struct sock *sk)
{
	qtfs_sk_chain(sk, true);
}

static void qtfs_sk_state_change(struct sock *sk)
{
	qtfs_sk_chain(sk, false);
}

/* Chains the socket's data and state callbacks to qtfs_rx_wake. */
void qtfs_rx_hook(struct qtfs_conn *c, struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	c->sk_data_ready = sk->sk_data_ready;
	c->sk_state_change = sk->sk_state_change;
	sk->sk_user_data = c;
	sk->sk_data_ready = qtfs_sk_data_ready;
	sk->sk_state_change = qtfs_sk_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
}

void qtfs_rx_unhook(struct qtfs_conn *c, struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = c->sk_data_ready;
	sk->sk_state_change = c->sk_state_change;
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * The largest frame a leader waits to see whole: one the socket's receive buffer surely
 * holds (a quarter of it: TCP advertises only part of the buffer as window), else the
 * sender would stop with the frame half queued and the leader would wait forever.
 */
static u32 qtfs_lead_max(struct sock *sk)
{
	return min_t(u32, QTFS_LEAD_MAX, READ_ONCE(sk->sk_rcvbuf) / 4);
}

/*
 * 1: a whole frame the leader may read is queued (*h: its header); 0: not yet (*queued:
 * the bytes queued); -1: leave it to the kthread (a frame over qtfs_lead_max, a bad
 * header, an end).
 */
static int qtfs_rx_frame_ready(struct qtfs_conn *c, int *queued, struct qtfs_hdr *h)
{
	struct sock *sk = c->sock->sk;
	struct kvec vec;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	u8 hdrbuf[QTFS_HDR_SIZE];

	*queued = tcp_inq(sk);
	if (*queued < QTFS_HDR_SIZE)
		return qtfs_rx_ended(sk) ? -1 : 0;
	vec = (struct kvec){ .iov_base = hdrbuf, .iov_len = QTFS_HDR_SIZE };
	if (kernel_recvmsg(c->sock, &msg, &vec, 1, QTFS_HDR_SIZE, MSG_PEEK | MSG_DONTWAIT) != QTFS_HDR_SIZE ||
	    qtfs_hdr_decode_max(hdrbuf, h, qtfs_lead_max(sk) - QTFS_HDR_SIZE))
		return -1;
	return *queued >= QTFS_HDR_SIZE + h->length;
}

/* More bytes than `queued`, or an end: the leader's wake condition. */
static bool qtfs_rx_grew(struct qtfs_conn *c, int queued)
{
	return tcp_inq(c->sock->sk) > queued || qtfs_rx_ended(c->sock->sk);
}

/* Reads frames in the caller's thread until req is answered (or it must stop). */
static void qtfs_lead(struct qtfs_conn *c, struct qtfs_req *req)
{
	unsigned int nofs = memalloc_nofs_save();	/* as in a file system's own path */
	int ready, queued, err = 0;
	struct qtfs_hdr h;

	while (!err && !completion_done(&req->done)) {
		ready = qtfs_rx_frame_ready(c, &queued, &h);
		if (ready < 0)
			break;
		if (ready > 0)
			err = qtfs_rx_one(c, &h);	/* header and payload in one read */
		else if (wait_event_killable(c->lead_wq, completion_done(&req->done) || qtfs_rx_grew(c, queued)))
			break;
	}
	memalloc_nofs_restore(nofs);
	if (err)	/* the kthread sees the socket end and fails the connection */
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
}

/*
 * Called by a caller whose request is in flight, before it waits: leads when nobody
 * reads (rx_lock free) and the mount has no request timeout (soft waits stay simple).
 */
void qtfs_conn_lead(struct qtfs_conn *c, struct qtfs_req *req)
{
	bool pending = false;

	if (READ_ONCE(c->opts->req_timeout) || !mutex_trylock(&c->rx_lock))
		return;
	if (c->sock) {
		WRITE_ONCE(c->leader, current);
		smp_mb();	/* leader set, then the queue read: pairs with qtfs_rx_wake */
		qtfs_lead(c, req);
		WRITE_ONCE(c->leader, NULL);
		smp_mb();	/* leader cleared, then the queue read: a frame nobody was woken for */
		pending = qtfs_rx_readable(c);
	}
	mutex_unlock(&c->rx_lock);
	if (pending)
		wake_up(&c->rx_wq);
}
