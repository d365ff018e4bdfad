// SPDX-License-Identifier: GPL-2.0
/*
 * poll/select/epoll on host fifos (and other non-seekable files): the readiness
 * comes from the server. ->poll asks with POLL (notify 1), which also arms a
 * one-shot watch on the host; when it fires the server pushes a POLL_READY event
 * (docs/protocol.md), the receive thread finds the file by handle here and wakes
 * its waiters, and the kernel calls ->poll again for the current mask.
 */
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/version.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif
#include "qtfs.h"

/* Wire poll bits are Linux's poll(2) bits (POLLIN 1, POLLPRI 2, POLLOUT 4, ...). */
#define QTFS_POLL_ASK	(POLLIN | POLLPRI | POLLOUT)

static void qtfs_poll_unlist(struct qtfs_sb *sbi, struct qtfs_file *qf)
{
	spin_lock(&sbi->poll_lock);
	if (!list_empty(&qf->poll_node))
		list_del_init(&qf->poll_node);
	spin_unlock(&sbi->poll_lock);
}

/*
 * The wire bits to ask for: only what the caller waits for. Asking for more would end
 * the wait too early: a fifo open for reading and writing is always writable, so an
 * answer "POLLOUT" (to a reader that waits for POLLIN) would use up the host's one-shot
 * watch, and the later write on the host would wake nobody.
 */
static u16 qtfs_poll_ask(struct poll_table_struct *wait)
{
	u16 ask = mangle_poll(poll_requested_events(wait)) & QTFS_POLL_ASK;

	return ask ? ask : QTFS_POLL_ASK;
}

__poll_t qtfs_poll_remote(struct file *file, struct poll_table_struct *wait)
{
	struct qtfs_sb *sbi = QTFS_SB(file_inode(file)->i_sb);
	struct qtfs_file *qf = file->private_data;
	struct qtfs_req *req;
	struct qtfs_msg *m;
	__poll_t mask;
	int err;

	poll_wait(file, &qf->poll_wq, wait);
	m = qtfs_msg_alloc();
	if (!m)
		return EPOLLERR;
	m->handle = qf->handle;
	m->mask = qtfs_poll_ask(wait);
	m->datasync = 1;	/* notify: arm a watch on the host */
	/* listed before asking, so an event that overtakes the answer still wakes us */
	spin_lock(&sbi->poll_lock);
	if (list_empty(&qf->poll_node))
		list_add(&qf->poll_node, &sbi->pollers);
	spin_unlock(&sbi->poll_lock);
	err = qtfs_call(&sbi->conn, QTFS_OP_POLL, m, &req);
	kfree(m);
	if (err) {
		qtfs_poll_unlist(sbi, qf);
		return EPOLLERR;
	}
	mask = demangle_poll((u16)req->out.mask);
	qtfs_req_put(req);
	if (mask)	/* ready now: the watch's event (it fires at once) needs nobody */
		qtfs_poll_unlist(sbi, qf);
	return mask;
}

/* POLL_READY from the server (receive thread): wake whoever polls that handle. */
static void qtfs_poll_ready(struct qtfs_conn *c, const u8 *payload, u32 len)
{
	struct qtfs_sb *sbi = qtfs_conn_sb(c);
	struct qtfs_file *qf;
	u64 handle;

	if (len < 12) {
		qtfs_warn_rl("short POLL_READY event (%u bytes), ignored\n", len);
		return;
	}
	handle = get_unaligned_le64(payload);
	spin_lock(&sbi->poll_lock);
	list_for_each_entry(qf, &sbi->pollers, poll_node) {
		if (qf->handle == handle) {
			wake_up_interruptible_poll(&qf->poll_wq, EPOLLIN | EPOLLOUT | EPOLLPRI);
			list_del_init(&qf->poll_node);
			break;
		}
	}
	spin_unlock(&sbi->poll_lock);
}

/* At release: the file may no longer be found by an event. */
void qtfs_poll_release(struct qtfs_sb *sbi, struct qtfs_file *qf)
{
	qtfs_poll_unlist(sbi, qf);
}

/* The receive thread hands POLL_READY events here (conn.c's event handlers). */
void qtfs_poll_init(void)
{
	qtfs_conn_on_event(QTFS_OP_POLL_READY, qtfs_poll_ready);
}
