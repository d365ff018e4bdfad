// SPDX-License-Identifier: GPL-2.0
/*
 * qtfs-nlctl: tiny client of the "qtfs" generic netlink family (libnl-3).
 *   qtfs-nlctl status | stats | clear | loglevel N
 * Prints "key value" lines; exits non-zero on any error. A model for qtinfo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include "../qtfs_genl.h"

static void print_mount(struct nlattr *nest)
{
	struct nlattr *tb[QTFS_A_MOUNT_MAX + 1];

	if (nla_parse_nested(tb, QTFS_A_MOUNT_MAX, nest, NULL))
		return;
	printf("mount %s server %s state %u inflight %u reconnects %llu export %u\n",
	       tb[QTFS_A_MOUNT_SOURCE] ? nla_get_string(tb[QTFS_A_MOUNT_SOURCE]) : "?",
	       tb[QTFS_A_MOUNT_SERVER] ? nla_get_string(tb[QTFS_A_MOUNT_SERVER]) : "?",
	       tb[QTFS_A_MOUNT_STATE] ? nla_get_u32(tb[QTFS_A_MOUNT_STATE]) : 0,
	       tb[QTFS_A_MOUNT_INFLIGHT] ? nla_get_u32(tb[QTFS_A_MOUNT_INFLIGHT]) : 0,
	       tb[QTFS_A_MOUNT_RECONNECTS] ?
			(unsigned long long)nla_get_u64(tb[QTFS_A_MOUNT_RECONNECTS]) : 0ULL,
	       tb[QTFS_A_MOUNT_EXPORT] ? nla_get_u32(tb[QTFS_A_MOUNT_EXPORT]) : 0);
}

static unsigned long long u64_or_0(struct nlattr *a)
{
	return a ? (unsigned long long)nla_get_u64(a) : 0ULL;
}

static void print_op(struct nlattr *nest)
{
	struct nlattr *tb[QTFS_A_OP_MAX + 1];

	if (nla_parse_nested(tb, QTFS_A_OP_MAX, nest, NULL))
		return;
	printf("op %-12s sent %llu errors %llu interrupted %llu latency_ns %llu\n",
	       tb[QTFS_A_OP_NAME] ? nla_get_string(tb[QTFS_A_OP_NAME]) : "?",
	       u64_or_0(tb[QTFS_A_OP_SENT]), u64_or_0(tb[QTFS_A_OP_ERRORS]),
	       u64_or_0(tb[QTFS_A_OP_INTERRUPTED]), u64_or_0(tb[QTFS_A_OP_LATENCY_NS]));
}

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem;

	(void)arg;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		switch (nla_type(a)) {
		case QTFS_A_LOG_LEVEL:
			printf("log_level %u\n", nla_get_u32(a));
			break;
		case QTFS_A_LATE_REPLIES:
			printf("late_replies %llu\n", (unsigned long long)nla_get_u64(a));
			break;
		case QTFS_A_LIVE_REQUESTS:
			printf("live_requests %llu\n", (unsigned long long)nla_get_u64(a));
			break;
		case QTFS_A_MOUNT:
			print_mount(a);
			break;
		case QTFS_A_OP:
			print_op(a);
			break;
		}
	}
	return NL_OK;
}

int main(int argc, char **argv)
{
	struct nl_sock *sk;
	struct nl_msg *msg;
	int family, cmd, err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s status|stats|clear|loglevel N\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "status"))
		cmd = QTFS_CMD_GET_STATUS;
	else if (!strcmp(argv[1], "stats"))
		cmd = QTFS_CMD_GET_STATS;
	else if (!strcmp(argv[1], "clear"))
		cmd = QTFS_CMD_CLEAR_STATS;
	else if (!strcmp(argv[1], "loglevel") && argc == 3)
		cmd = QTFS_CMD_SET_LOG_LEVEL;
	else {
		fprintf(stderr, "unknown command %s\n", argv[1]);
		return 2;
	}
	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk)) {
		fprintf(stderr, "cannot open a generic netlink socket\n");
		return 1;
	}
	family = genl_ctrl_resolve(sk, QTFS_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "family %s not found (is qtfs.ko loaded?)\n", QTFS_GENL_NAME);
		return 1;
	}
	nl_socket_disable_auto_ack(sk);	/* every command answers with a reply */
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, NULL);
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
				 QTFS_GENL_VERSION))
		return 1;
	if (cmd == QTFS_CMD_SET_LOG_LEVEL)
		nla_put_u32(msg, QTFS_A_LOG_LEVEL, (unsigned int)atoi(argv[2]));
	err = nl_send_auto(sk, msg);
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	nlmsg_free(msg);
	nl_socket_free(sk);
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], nl_geterror(err));
		return 1;
	}
	return 0;
}
