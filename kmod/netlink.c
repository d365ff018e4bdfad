// SPDX-License-Identifier: GPL-2.0
/* Generic netlink family "qtfs" (include/qtfs/qtfs_genl.h): status, statistics, log level. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/genetlink.h>
#include "qtfs.h"

atomic64_t qtfs_late_replies;
atomic64_t qtfs_live_reqs;

static struct genl_family qtfs_genl_family;

#define QTFS_GENL_REPLY_MAX	(1024 * 1024)

static const struct nla_policy qtfs_genl_policy[QTFS_A_MAX + 1] = {
	[QTFS_A_LOG_LEVEL] = NLA_POLICY_MAX(NLA_U32, QTFS_LOG_DEBUG),
};

static int qtfs_put_mount(struct sk_buff *skb, struct qtfs_sb *sbi)
{
	struct qtfs_conn *c = &sbi->conn;
	struct nlattr *nest = nla_nest_start(skb, QTFS_A_MOUNT);
	char server[32];

	if (!nest)
		return -EMSGSIZE;
	snprintf(server, sizeof(server), "%pI4:%u", &sbi->opts.server, sbi->opts.port);
	if (nla_put_string(skb, QTFS_A_MOUNT_SOURCE, sbi->source) ||
	    nla_put_string(skb, QTFS_A_MOUNT_SERVER, server) ||
	    nla_put_u32(skb, QTFS_A_MOUNT_STATE, READ_ONCE(c->state)) ||
	    nla_put_u32(skb, QTFS_A_MOUNT_INFLIGHT, atomic_read(&c->inflight)) ||
	    nla_put_u64_64bit(skb, QTFS_A_MOUNT_RECONNECTS, READ_ONCE(c->reconnects),
			      QTFS_A_MOUNT_PAD) ||
	    nla_put_u32(skb, QTFS_A_MOUNT_EXPORT, READ_ONCE(c->mount.export)) ||
	    nla_put_u32(skb, QTFS_A_MOUNT_CRYPT, READ_ONCE(c->suite))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* The histogram up to its last non-empty bucket (none: nothing answered). */
static int qtfs_put_histogram(struct sk_buff *skb, struct qtfs_opstat *s)
{
	u64 counts[QTFS_HIST_MAX_BUCKETS];
	int i, used = 0;

	for (i = 0; i < QTFS_HIST_MAX_BUCKETS; i++) {
		counts[i] = atomic64_read(&s->hist[i]);
		if (counts[i])
			used = i + 1;
	}
	return used ? nla_put(skb, QTFS_A_OP_HISTOGRAM, used * sizeof(u64), counts) : 0;
}

/* One QTFS_A_OP_ERRNO per errno seen, and QTFS_A_OP_FAILED: their sum. */
static int qtfs_put_errnos(struct sk_buff *skb, struct qtfs_opstat *s)
{
	struct nlattr *nest;
	u64 n, failed = 0;
	int e;

	for (e = 0; e < QTFS_ERRNO_SLOTS; e++) {
		n = atomic64_read(&s->errnos[e]);
		if (!n)
			continue;
		failed += n;
		nest = nla_nest_start(skb, QTFS_A_OP_ERRNO);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_u32(skb, QTFS_A_ERRNO_CODE, e) ||
		    nla_put_u64_64bit(skb, QTFS_A_ERRNO_COUNT, n, QTFS_A_ERRNO_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return nla_put_u64_64bit(skb, QTFS_A_OP_FAILED, failed, QTFS_A_OP_PAD);
}

static int qtfs_put_op(struct sk_buff *skb, u16 op)
{
	struct qtfs_opstat *s = &qtfs_stats[op];
	struct nlattr *nest = nla_nest_start(skb, QTFS_A_OP);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, QTFS_A_OP_CODE, op) ||
	    nla_put_string(skb, QTFS_A_OP_NAME, qtfs_op_name(op)) ||
	    nla_put_u64_64bit(skb, QTFS_A_OP_SENT, atomic64_read(&s->sent), QTFS_A_OP_PAD) ||
	    nla_put_u64_64bit(skb, QTFS_A_OP_ERRORS, atomic64_read(&s->errors), QTFS_A_OP_PAD) ||
	    nla_put_u64_64bit(skb, QTFS_A_OP_INTERRUPTED, atomic64_read(&s->interrupted),
			      QTFS_A_OP_PAD) ||
	    nla_put_u64_64bit(skb, QTFS_A_OP_LATENCY_NS, atomic64_read(&s->lat_ns),
			      QTFS_A_OP_PAD) ||
	    nla_put_u64_64bit(skb, QTFS_A_OP_MAX_NS, atomic64_read(&s->max_ns), QTFS_A_OP_PAD) ||
	    qtfs_put_histogram(skb, s) || qtfs_put_errnos(skb, s)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Builds and sends the reply of cmd in size bytes; fill() adds its attributes. */
static int qtfs_genl_reply_sized(struct genl_info *info, u8 cmd,
				 int (*fill)(struct sk_buff *skb), size_t size)
{
	struct sk_buff *skb = genlmsg_new(size, GFP_KERNEL);
	void *hdr;
	int err;

	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put_reply(skb, info, &qtfs_genl_family, 0, cmd);
	err = -EMSGSIZE;
	if (!hdr)
		goto out_free;
	err = fill(skb);
	if (err)
		goto out_free;
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
out_free:
	nlmsg_free(skb);
	return err;
}

/*
 * As qtfs_genl_reply_sized, in a buffer grown until the reply fits: statistics
 * with histograms and errno counts of many opcodes outgrow one page (the
 * largest possible, every opcode with every errno, is about 250 KiB).
 */
static int qtfs_genl_reply(struct genl_info *info, u8 cmd,
			   int (*fill)(struct sk_buff *skb))
{
	size_t size = NLMSG_GOODSIZE;
	int err;

	for (;;) {
		err = qtfs_genl_reply_sized(info, cmd, fill, size);
		if (err != -EMSGSIZE || size > QTFS_GENL_REPLY_MAX / 4)
			return err;
		size *= 4;
	}
}

static int qtfs_fill_status(struct sk_buff *skb)
{
	struct qtfs_sb *sbi;
	int err = 0;

	if (nla_put_u32(skb, QTFS_A_LOG_LEVEL, qtfs_log_level) ||
	    nla_put_u64_64bit(skb, QTFS_A_LATE_REPLIES, atomic64_read(&qtfs_late_replies),
			      QTFS_A_PAD) ||
	    nla_put_u64_64bit(skb, QTFS_A_LIVE_REQUESTS, atomic64_read(&qtfs_live_reqs),
			      QTFS_A_PAD))
		return -EMSGSIZE;
	mutex_lock(&qtfs_mounts_lock);
	list_for_each_entry(sbi, &qtfs_mounts, node) {
		err = qtfs_put_mount(skb, sbi);
		if (err)
			break;	/* the reply holds as many mounts as fit */
	}
	mutex_unlock(&qtfs_mounts_lock);
	return 0;
}

static int qtfs_fill_stats(struct sk_buff *skb)
{
	u16 op;

	for (op = 1; op < QTFS_OP_MAX; op++)
		if (atomic64_read(&qtfs_stats[op].sent) && qtfs_put_op(skb, op))
			return -EMSGSIZE;
	return 0;
}

static int qtfs_fill_none(struct sk_buff *skb)
{
	return 0;
}

static int qtfs_cmd_status(struct sk_buff *skb, struct genl_info *info)
{
	return qtfs_genl_reply(info, QTFS_CMD_GET_STATUS, qtfs_fill_status);
}

static int qtfs_cmd_stats(struct sk_buff *skb, struct genl_info *info)
{
	return qtfs_genl_reply(info, QTFS_CMD_GET_STATS, qtfs_fill_stats);
}

static int qtfs_cmd_clear(struct sk_buff *skb, struct genl_info *info)
{
	qtfs_stats_clear();
	atomic64_set(&qtfs_late_replies, 0);
	return qtfs_genl_reply(info, QTFS_CMD_CLEAR_STATS, qtfs_fill_none);
}

static int qtfs_cmd_loglevel(struct sk_buff *skb, struct genl_info *info)
{
	if (!info->attrs[QTFS_A_LOG_LEVEL])
		return -EINVAL;
	WRITE_ONCE(qtfs_log_level, nla_get_u32(info->attrs[QTFS_A_LOG_LEVEL]));
	return qtfs_genl_reply(info, QTFS_CMD_SET_LOG_LEVEL, qtfs_fill_status);
}

static const struct genl_small_ops qtfs_genl_ops[] = {
	{ .cmd = QTFS_CMD_GET_STATUS, .doit = qtfs_cmd_status, .flags = GENL_ADMIN_PERM },
	{ .cmd = QTFS_CMD_GET_STATS, .doit = qtfs_cmd_stats, .flags = GENL_ADMIN_PERM },
	{ .cmd = QTFS_CMD_CLEAR_STATS, .doit = qtfs_cmd_clear, .flags = GENL_ADMIN_PERM },
	{ .cmd = QTFS_CMD_SET_LOG_LEVEL, .doit = qtfs_cmd_loglevel, .flags = GENL_ADMIN_PERM },
};

static struct genl_family qtfs_genl_family __ro_after_init = {
	.name = QTFS_GENL_NAME,
	.version = QTFS_GENL_VERSION,
	.maxattr = QTFS_A_MAX,
	.policy = qtfs_genl_policy,
	.module = THIS_MODULE,
	.small_ops = qtfs_genl_ops,
	.n_small_ops = ARRAY_SIZE(qtfs_genl_ops),
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	.resv_start_op = QTFS_CMD_MAX + 1,
#endif
};

int qtfs_genl_init(void)
{
	return genl_register_family(&qtfs_genl_family);
}

void qtfs_genl_exit(void)
{
	genl_unregister_family(&qtfs_genl_family);
}
