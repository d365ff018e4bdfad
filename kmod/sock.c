// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP socket under a connection: whole-buffer send and receive, one frame
 * (header and encoded payload) at a time, sealed after authentication (seal.c), and
 * the synchronous handshake that opens every connection: HELLO with the suites we
 * accept, authentication when either side asks for it (auth.c computes the proofs;
 * its nonces and proofs make the session keys), MOUNT of the mount source (sealed).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "transport.h"

#define QTFS_CLIENT_NAME "qtfs.ko"

/* Sends all of buf; an error after part of it leaves the stream unusable. */
int qtfs_sock_send(struct socket *sock, const void *buf, size_t len)
{
	struct kvec vec = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	size_t sent = 0;
	int n;

	iov_iter_kvec(&msg.msg_iter, WRITE, &vec, 1, len);
	while (sent < len) {
		n = sock_sendmsg(sock, &msg);
		if (n <= 0)
			return n ? n : -EPIPE;
		sent += n;
	}
	return 0;
}

/* Fills all of the nvec buffers (len bytes in all) from sock. */
static int qtfs_sock_recvv(struct socket *sock, struct kvec *vec, size_t nvec, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	size_t got = 0;
	int n;

	iov_iter_kvec(&msg.msg_iter, READ, vec, nvec, len);
	while (got < len) {
		n = sock_recvmsg(sock, &msg, MSG_WAITALL);
		if (n <= 0)
			return n ? n : -ECONNRESET;
		got += n;
	}
	return 0;
}

int qtfs_sock_recv(struct socket *sock, void *buf, size_t len)
{
	struct kvec vec = { .iov_base = buf, .iov_len = len };

	return qtfs_sock_recvv(sock, &vec, 1, len);
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

/* An upper bound of the encoded payload of m: fixed fields plus every variable one. */
static size_t qtfs_msg_bound(const struct qtfs_msg *m)
{
	return 512 + sizeof(m->caller.groups) + m->t1.path.len + m->t2.path.len +
		m->str.len + m->name.len + m->value.len + m->data.len;
}

/* Encodes (kind, op, id, m) as one frame into w (a new buffer: kvfree w->p). */
static int qtfs_frame_build(struct qtfs_wbuf *w, u8 kind, u16 op, u64 id, const struct qtfs_msg *m)
{
	struct qtfs_hdr h = { .kind = kind, .opcode = op, .id = id };
	int err;

	/* room for the tag: a sealed frame is sealed in place */
	*w = (struct qtfs_wbuf){ .cap = QTFS_HDR_SIZE + qtfs_msg_bound(m) + QTFS_AEAD_TAG };
	w->p = kvmalloc(w->cap, GFP_KERNEL);
	if (!w->p)
		return -ENOMEM;
	w->len = QTFS_HDR_SIZE;
	err = qtfs_encode(w, kind, op, m);
	if (err)
		return err;
	h.length = w->len - QTFS_HDR_SIZE;
	qtfs_hdr_encode(w->p, &h);
	return 0;
}

/* Seals w's frame when seal is set, then sends it. Call in send order. */
static int qtfs_frame_send(struct socket *sock, struct qtfs_seal *seal, struct qtfs_wbuf *w)
{
	int err;

	if (seal) {
		if (w->len + QTFS_AEAD_TAG > w->cap)
			return -EOVERFLOW;
		err = qtfs_seal_frame(seal, w->p, w->len - QTFS_HDR_SIZE);
		if (err)
			return err;
		w->len += QTFS_AEAD_TAG;
	}
	return qtfs_sock_send(sock, w->p, w->len);
}

int qtfs_frame_send_req(struct qtfs_conn *c, const struct qtfs_req *req, const struct qtfs_msg *m)
{
	struct qtfs_wbuf w;
	int err;

	err = qtfs_frame_build(&w, QTFS_KIND_REQ, req->op, req->id, m);
	if (err)
		goto out_free;
	mutex_lock(&c->send_lock);
	if (c->state != QTFS_CONN_UP || c->gen != req->gen)
		err = -ECONNRESET;
	else	/* sealed here, under the lock: the counter must follow the send order */
		err = qtfs_frame_send(c->sock, c->seal, &w);
	/* A partial frame poisons the stream: let the receiver fail everything. */
	if (err && err != -ECONNRESET)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_unlock(&c->send_lock);
out_free:
	kvfree(w.p);
	return err;
}

int qtfs_frame_recv_hdr(struct socket *sock, const struct qtfs_seal *seal, u8 *hdrbuf,
			struct qtfs_hdr *h)
{
	u32 tag = seal ? QTFS_AEAD_TAG : 0;
	int err = qtfs_sock_recv(sock, hdrbuf, QTFS_HDR_SIZE);

	if (err)
		return err;
	if (qtfs_hdr_decode_max(hdrbuf, h, QTFS_MAX_PAYLOAD + tag) || !qtfs_frame_length_ok(seal, h))
		return -EPROTO;
	return 0;
}

/* A sealed frame carries at least its tag (the largest payload is checked by decoding). */
bool qtfs_frame_length_ok(const struct qtfs_seal *seal, const struct qtfs_hdr *h)
{
	return h->length >= (seal ? QTFS_AEAD_TAG : 0);
}

/*
 * The payload of the frame whose header h is (opened when sealed; NULL when empty).
 * with_hdr: the header is still in the socket too (peeked by a leader, rx.c): it is read
 * into hdrbuf in the same call as the payload.
 */
int qtfs_frame_recv_payload(struct socket *sock, const struct qtfs_conn *c, struct qtfs_seal *seal,
			    u8 *hdrbuf, struct qtfs_hdr *h, u8 **payloadp, bool with_hdr)
{
	u64 counter = seal ? qtfs_seal_rx_counter(seal) : 0;
	struct kvec vec[2] = { { .iov_base = hdrbuf, .iov_len = QTFS_HDR_SIZE }, { .iov_len = h->length } };
	u8 *p;
	int err;

	*payloadp = NULL;
	if (!h->length)
		return with_hdr ? qtfs_sock_recv(sock, hdrbuf, QTFS_HDR_SIZE) : 0;
	p = kvmalloc(h->length, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	vec[1].iov_base = p;
	err = with_hdr ? qtfs_sock_recvv(sock, vec, 2, QTFS_HDR_SIZE + h->length)
		       : qtfs_sock_recvv(sock, &vec[1], 1, h->length);
	if (!err && seal) {
		err = qtfs_unseal_frame(seal, hdrbuf, p, h->length);	/* in place */
		if (err)
			qtfs_warn_rl("frame %llu from server %pI4:%u does not open (%d): altered, dropped, reordered, replayed or injected on the way; closing the connection\n",
				     counter, &c->opts->server, c->opts->port, err);
		h->length -= QTFS_AEAD_TAG;
	}
	if (err || !h->length) {
		kvfree(p);
		p = NULL;
	}
	*payloadp = p;
	return err;
}

/* Synchronous exchange used only during the handshake, before the rx thread runs. */
static int qtfs_handshake_call(struct socket *sock, const struct qtfs_conn *c, struct qtfs_seal *seal,
			       u16 op, u64 id, const struct qtfs_msg *m, u8 **rsp, struct qtfs_msg *out)
{
	u8 hdrbuf[QTFS_HDR_SIZE];
	struct qtfs_wbuf w;
	struct qtfs_hdr h;
	int err;

	*rsp = NULL;
	err = qtfs_frame_build(&w, QTFS_KIND_REQ, op, id, m);
	if (!err)
		err = qtfs_frame_send(sock, seal, &w);
	kvfree(w.p);
	if (!err)
		err = qtfs_frame_recv_hdr(sock, seal, hdrbuf, &h);
	if (err)
		return err;
	if (h.kind != QTFS_KIND_RSP || h.opcode != op || h.id != id)
		return -EPROTO;
	err = qtfs_frame_recv_payload(sock, c, seal, hdrbuf, &h, rsp, false);
	if (err)
		return err;
	return h.status ? qtfs_status_errno(h.status) : qtfs_decode(*rsp, h.length, QTFS_KIND_RSP, op, out);
}

/* As qtfs_handshake_call before sealing, for answers needed only in out's fixed fields. */
static int qtfs_handshake_call_fixed(struct socket *sock, const struct qtfs_conn *c, u16 op, u64 id,
				     const struct qtfs_msg *m, struct qtfs_msg *out)
{
	u8 *rsp;
	int err = qtfs_handshake_call(sock, c, NULL, op, id, m, &rsp, out);

	kvfree(rsp);
	return err;
}

/*
 * AUTH_CHALLENGE with a fresh nonce; the server's proof is checked before we send
 * ours in AUTH_RESPONSE. m and out are scratch messages. -EACCES: a proof did not match.
 * With a suite, *sealp gets the keys made from both nonces and both proofs.
 */
static int qtfs_sock_authenticate(struct socket *sock, const struct qtfs_conn *c, u16 version,
				  u8 suite, struct qtfs_msg *m, struct qtfs_msg *out,
				  struct qtfs_seal **sealp)
{
	const struct qtfs_opts *o = c->opts;
	u8 nc[QTFS_AUTH_NONCE], ns[QTFS_AUTH_NONCE], ps[QTFS_AUTH_PROOF];
	int err;

	qtfs_auth_challenge(m);
	memcpy(nc, m->client_nonce, sizeof(nc));
	err = qtfs_handshake_call_fixed(sock, c, QTFS_OP_AUTH_CHALLENGE, 2, m, out);
	if (err)
		return err;
	memcpy(ns, out->server_nonce, sizeof(ns));
	memcpy(ps, out->proof, sizeof(ps));
	memset(m, 0, sizeof(*m));
	err = qtfs_auth_prove(o, version, nc, out, m->proof);
	if (err)
		goto out;
	err = qtfs_handshake_call_fixed(sock, c, QTFS_OP_AUTH_RESPONSE, 3, m, out);
	if (err == -EACCES)
		qtfs_err("server %pI4:%u refused our key: the key files differ\n", &o->server, o->port);
	if (!err && suite) {
		*sealp = qtfs_seal_session(o, suite, nc, ns, ps, m->proof);
		err = PTR_ERR_OR_ZERO(*sealp);
		if (err)
			*sealp = NULL;
	}
out:
	memzero_explicit(m->proof, sizeof(m->proof));
	return err;
}

/* A HELLO answered EACCES: the server refused what we offered about sealing. */
static void qtfs_hello_refused(const struct qtfs_opts *o)
{
	if (!o->key_len)
		qtfs_err("server %pI4:%u requires authentication and sealed frames: mount with key_hex=HEX (mount.qtfs: key=KEYFILE)\n",
			 &o->server, o->port);
	else if (o->crypt_none)
		qtfs_err("server %pI4:%u refuses plaintext frames (qtfs-server --crypt aead): mount without crypt=none\n",
			 &o->server, o->port);
	else
		qtfs_err("server %pI4:%u refused our HELLO (suites offered: %#llx): its log says why\n",
			 &o->server, o->port, qtfs_seal_offer(o));
}

/*
 * HELLO: the version, the server's payload limit (the I/O chunk), capabilities and the
 * suite; then authentication, which makes the keys (*sealp) when a suite was chosen.
 */
static int qtfs_hello(struct socket *sock, const struct qtfs_conn *c, struct qtfs_msg *m,
		      struct qtfs_msg *out, struct qtfs_mount_info *mi, struct qtfs_seal **sealp)
{
	const struct qtfs_opts *o = c->opts;
	u64 offer = qtfs_seal_offer(o);
	int err, suite;

	m->min_version = 1;
	m->max_version = 1;
	/* AUTH_CAPABLE, the suites we accept, and no answers to RELEASE (they are dropped) */
	m->caps = QTFS_CAP_AUTH | offer | QTFS_CAP_QUIET_RELEASE;
	m->str = (struct qtfs_bytes){ (const u8 *)QTFS_CLIENT_NAME, strlen(QTFS_CLIENT_NAME) };
	err = qtfs_handshake_call_fixed(sock, c, QTFS_OP_HELLO, 1, m, out);
	if (err == -EACCES)
		qtfs_hello_refused(o);
	if (err)
		return err;
	if (out->version != 1 || out->max_bytes < 4096 + 64)
		return -EPROTO;
	/* READ/WRITE data plus their fixed fields must fit the server's payload limit */
	mi->io_chunk = min_t(u32, QTFS_IO_CHUNK, rounddown(out->max_bytes - 64, 4096));
	mi->quiet_release = out->caps & QTFS_CAP_QUIET_RELEASE;
	err = qtfs_auth_policy(o, out->caps);
	suite = err < 0 ? err : qtfs_seal_choice(o, offer, out->caps);
	if (suite < 0)
		return suite;
	if (err > 0)
		err = qtfs_sock_authenticate(sock, c, out->version, suite, m, out, sealp);
	return err;
}

/* MOUNT of the source as the mounter: export id, base and root attributes into mi. */
static int qtfs_mount(struct socket *sock, const struct qtfs_conn *c, struct qtfs_seal *seal,
		      struct qtfs_msg *m, struct qtfs_msg *out, struct qtfs_mount_info *mi)
{
	u8 *rsp;
	int err;

	memset(m, 0, sizeof(*m));
	m->caller = c->mounter;
	m->caller.pid = task_tgid_nr(current);
	m->str = (struct qtfs_bytes){ (const u8 *)c->source, strlen(c->source) };
	err = qtfs_handshake_call(sock, c, seal, QTFS_OP_MOUNT, 4, m, &rsp, out);
	if (!err) {
		mi->base = kmemdup_nul(out->str.p ? (const char *)out->str.p : "", out->str.len,
				       GFP_KERNEL);
		mi->base_len = out->str.len;
		mi->export = out->export;
		mi->root_attr = out->attr;
		if (!mi->base)
			err = -ENOMEM;
	}
	kvfree(rsp);
	return err;
}

static int qtfs_handshake(struct socket *sock, const struct qtfs_conn *c, struct qtfs_mount_info *mi,
			  struct qtfs_seal **sealp)
{
	struct qtfs_msg *m = qtfs_msg_alloc(), *out = qtfs_msg_alloc();
	int err = -ENOMEM;

	if (m && out)
		err = qtfs_hello(sock, c, m, out, mi, sealp);
	if (!err)
		err = qtfs_mount(sock, c, *sealp, m, out, mi);
	kfree(out);
	kfree(m);
	return err;
}

/* A TCP connection to the mount's server, its waits bounded by conn_timeout until set up. */
static int qtfs_tcp_dial(const struct qtfs_opts *o, struct socket **sockp)
{
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
	if (err) {
		sock_release(sock);
		return err;
	}
	tcp_sock_set_nodelay(sock->sk);
	*sockp = sock;
	return 0;
}

/*
 * Connects to the mount's server and runs the handshake; on success mi holds MOUNT's
 * answer and *sealp the connection's keys (NULL: plaintext, as configured on both ends).
 */
int qtfs_sock_connect(const struct qtfs_conn *c, struct socket **sockp, struct qtfs_mount_info *mi,
		      struct qtfs_seal **sealp)
{
	struct socket *sock;
	int err;

	*sealp = NULL;
	err = qtfs_tcp_dial(c->opts, &sock);
	if (err)
		return err;
	err = qtfs_handshake(sock, c, mi, sealp);
	if (err) {
		qtfs_seal_free(*sealp);
		*sealp = NULL;
		kfree(mi->base);
		mi->base = NULL;
		sock_release(sock);
		return err;
	}
	/* From now on waits are bounded by the requests, not the socket. */
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	*sockp = sock;
	return 0;
}
