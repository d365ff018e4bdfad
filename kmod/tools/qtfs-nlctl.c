// SPDX-License-Identifier: GPL-2.0
/*
 * qtfs-nlctl: tiny static client of the "qtfs" generic netlink family, for the VM test
 * and for hosts without qtinfo. The exchange itself is Sources/CNetlink/qtfs_nl.c,
 * shared with qtinfo.
 *   qtfs-nlctl status | stats | clear | loglevel N
 * Prints "key value" lines (an op's "answered": its latency histogram's total);
 * exits non-zero on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CNetlink.h"

/* Requests of o that got an answer: the histogram's total. */
static unsigned long long answered(const struct qtfs_nl_op *o)
{
	unsigned long long n = 0;
	int i;

	for (i = 0; i < QTFS_NL_HIST_BUCKETS; i++)
		n += o->histogram[i];
	return n;
}

static void print_reply(const struct qtfs_nl_reply *r)
{
	uint32_t i;

	if (r->has_status)
		printf("log_level %u\nlate_replies %llu\nlive_requests %llu\n", r->log_level,
		       (unsigned long long)r->late_replies, (unsigned long long)r->live_requests);
	for (i = 0; i < r->mount_count; i++)
		printf("mount %s server %s state %u inflight %u reconnects %llu export %u crypt %u\n",
		       r->mounts[i].source, r->mounts[i].server, r->mounts[i].state,
		       r->mounts[i].inflight, (unsigned long long)r->mounts[i].reconnects,
		       r->mounts[i].export_id, r->mounts[i].crypt);
	for (i = 0; i < r->op_count; i++)
		printf("op %-12s sent %llu errors %llu interrupted %llu latency_ns %llu"
		       " max_ns %llu failed %llu answered %llu\n",
		       r->ops[i].name, (unsigned long long)r->ops[i].sent,
		       (unsigned long long)r->ops[i].errors,
		       (unsigned long long)r->ops[i].interrupted,
		       (unsigned long long)r->ops[i].latency_ns,
		       (unsigned long long)r->ops[i].max_ns,
		       (unsigned long long)r->ops[i].failed, answered(&r->ops[i]));
}

int main(int argc, char **argv)
{
	struct qtfs_nl_reply r;
	enum qtfs_nl_result res;

	if (argc == 2 && !strcmp(argv[1], "status"))
		res = qtfs_nl_get_status(&r);
	else if (argc == 2 && !strcmp(argv[1], "stats"))
		res = qtfs_nl_get_stats(&r);
	else if (argc == 2 && !strcmp(argv[1], "clear"))
		res = qtfs_nl_clear_stats(&r);
	else if (argc == 3 && !strcmp(argv[1], "loglevel"))
		res = qtfs_nl_set_log_level((unsigned int)atoi(argv[2]), &r);
	else {
		fprintf(stderr, "usage: %s status|stats|clear|loglevel N\n", argv[0]);
		return 2;
	}
	if (res == QTFS_NL_OK)
		print_reply(&r);
	else
		fprintf(stderr, "%s: %s%s\n", argv[1], r.error,
			res == QTFS_NL_NO_FAMILY ? " (is qtfs.ko loaded?)" :
			res == QTFS_NL_DENIED ? " (needs CAP_NET_ADMIN)" : "");
	qtfs_nl_reply_free(&r);
	return res == QTFS_NL_OK ? 0 : 1;
}
