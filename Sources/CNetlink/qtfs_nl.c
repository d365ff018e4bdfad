// One request/one reply exchange with the qtfs generic netlink family (libnl-3).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include "../../include/qtfs/qtfs_genl.h"
#include "include/CNetlink.h"

static uint64_t u64_or_0(struct nlattr *a) { return a ? nla_get_u64(a) : 0; }
static uint32_t u32_or_0(struct nlattr *a) { return a ? nla_get_u32(a) : 0; }

static void copy_string(char *dst, size_t size, struct nlattr *a)
{
    snprintf(dst, size, "%s", a ? nla_get_string(a) : "?");
}

/* Grows *array by one zeroed element of `size` bytes; NULL when out of memory. */
static void *append(void *array, uint32_t *count, size_t size)
{
    void **slot = array;
    char *grown = realloc(*slot, (*count + 1) * size);

    if (!grown)
        return NULL;
    *slot = grown;
    memset(grown + *count * size, 0, size);
    return grown + (*count)++ * size;
}

static int add_mount(struct qtfs_nl_reply *r, struct nlattr *nest)
{
    struct nlattr *tb[QTFS_A_MOUNT_MAX + 1];
    struct qtfs_nl_mount *m;

    if (nla_parse_nested(tb, QTFS_A_MOUNT_MAX, nest, NULL))
        return NL_SKIP;
    if (!(m = append(&r->mounts, &r->mount_count, sizeof(*m))))
        return NL_STOP;
    copy_string(m->source, sizeof(m->source), tb[QTFS_A_MOUNT_SOURCE]);
    copy_string(m->server, sizeof(m->server), tb[QTFS_A_MOUNT_SERVER]);
    m->state = u32_or_0(tb[QTFS_A_MOUNT_STATE]);
    m->inflight = u32_or_0(tb[QTFS_A_MOUNT_INFLIGHT]);
    m->export_id = u32_or_0(tb[QTFS_A_MOUNT_EXPORT]);
    m->reconnects = u64_or_0(tb[QTFS_A_MOUNT_RECONNECTS]);
    m->crypt = u32_or_0(tb[QTFS_A_MOUNT_CRYPT]);
    return NL_OK;
}

/* The histogram's buckets as sent (trailing empty ones are left out). */
static void copy_histogram(struct qtfs_nl_op *o, struct nlattr *a)
{
    size_t n = a ? (size_t)nla_len(a) / sizeof(uint64_t) : 0;

    if (n > QTFS_NL_HIST_BUCKETS)
        n = QTFS_NL_HIST_BUCKETS;
    if (n)
        memcpy(o->histogram, nla_data(a), n * sizeof(uint64_t));
}

/* Each QTFS_A_OP_ERRNO of the op's nest into o->errnos[code]. */
static void copy_errnos(struct qtfs_nl_op *o, struct nlattr *op_nest)
{
    struct nlattr *a, *tb[QTFS_A_ERRNO_MAX + 1];
    int rem;

    nla_for_each_nested(a, op_nest, rem) {
        if (nla_type(a) != QTFS_A_OP_ERRNO || nla_parse_nested(tb, QTFS_A_ERRNO_MAX, a, NULL))
            continue;
        uint32_t code = u32_or_0(tb[QTFS_A_ERRNO_CODE]);
        o->errnos[code < QTFS_NL_ERRNO_SLOTS ? code : 0] += u64_or_0(tb[QTFS_A_ERRNO_COUNT]);
    }
}

static int add_op(struct qtfs_nl_reply *r, struct nlattr *nest)
{
    struct nlattr *tb[QTFS_A_OP_MAX + 1];
    struct qtfs_nl_op *o;

    if (nla_parse_nested(tb, QTFS_A_OP_MAX, nest, NULL))
        return NL_SKIP;
    if (!(o = append(&r->ops, &r->op_count, sizeof(*o))))
        return NL_STOP;
    o->code = u32_or_0(tb[QTFS_A_OP_CODE]);
    copy_string(o->name, sizeof(o->name), tb[QTFS_A_OP_NAME]);
    o->sent = u64_or_0(tb[QTFS_A_OP_SENT]);
    o->errors = u64_or_0(tb[QTFS_A_OP_ERRORS]);
    o->interrupted = u64_or_0(tb[QTFS_A_OP_INTERRUPTED]);
    o->latency_ns = u64_or_0(tb[QTFS_A_OP_LATENCY_NS]);
    o->has_detail = tb[QTFS_A_OP_FAILED] != NULL;
    o->max_ns = u64_or_0(tb[QTFS_A_OP_MAX_NS]);
    o->failed = u64_or_0(tb[QTFS_A_OP_FAILED]);
    copy_histogram(o, tb[QTFS_A_OP_HISTOGRAM]);
    copy_errnos(o, nest);
    return NL_OK;
}

static int on_reply(struct nl_msg *msg, void *arg)
{
    struct qtfs_nl_reply *r = arg;
    struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
    struct nlattr *a;
    int rem, rc = NL_OK;

    nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem) {
        switch (nla_type(a)) {
        case QTFS_A_LOG_LEVEL: r->has_status = 1; r->log_level = nla_get_u32(a); break;
        case QTFS_A_LATE_REPLIES: r->late_replies = nla_get_u64(a); break;
        case QTFS_A_LIVE_REQUESTS: r->live_requests = nla_get_u64(a); break;
        case QTFS_A_MOUNT: rc = add_mount(r, a); break;
        case QTFS_A_OP: rc = add_op(r, a); break;
        }
        if (rc == NL_STOP)
            return NL_STOP;
    }
    return NL_OK;
}

static enum qtfs_nl_result fail(struct qtfs_nl_reply *r, enum qtfs_nl_result res, const char *what, int err)
{
    snprintf(r->error, sizeof(r->error), "%s: %s", what, nl_geterror(err));
    return res;
}

static enum qtfs_nl_result exchange(struct nl_sock *sk, uint8_t cmd, int64_t level, struct qtfs_nl_reply *r)
{
    struct nl_msg *msg;
    int family, err;

    if ((err = genl_connect(sk)) < 0)
        return fail(r, QTFS_NL_NO_SOCKET, "generic netlink socket", err);
    family = genl_ctrl_resolve(sk, QTFS_GENL_NAME);
    if (family < 0)
        return fail(r, QTFS_NL_NO_FAMILY, "family " QTFS_GENL_NAME, family);
    nl_socket_disable_auto_ack(sk);   /* every command answers with one reply */
    nl_socket_enable_msg_peek(sk);    /* statistics can outgrow the default buffer */
    nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, r);
    msg = nlmsg_alloc();
    if (!msg)
        return fail(r, QTFS_NL_FAILED, "message", -NLE_NOMEM);
    if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd, QTFS_GENL_VERSION) ||
        (level >= 0 && nla_put_u32(msg, QTFS_A_LOG_LEVEL, (uint32_t)level) < 0)) {
        nlmsg_free(msg);
        return fail(r, QTFS_NL_FAILED, "message", -NLE_NOMEM);
    }
    err = nl_send_auto(sk, msg);
    nlmsg_free(msg);
    if (err >= 0)
        err = nl_recvmsgs_default(sk);
    if (err == -NLE_PERM)
        return fail(r, QTFS_NL_DENIED, "request", err);
    return err < 0 ? fail(r, QTFS_NL_FAILED, "request", err) : QTFS_NL_OK;
}

static enum qtfs_nl_result call(uint8_t cmd, int64_t level, struct qtfs_nl_reply *r)
{
    struct nl_sock *sk;
    enum qtfs_nl_result res;

    memset(r, 0, sizeof(*r));
    sk = nl_socket_alloc();
    if (!sk)
        return fail(r, QTFS_NL_NO_SOCKET, "generic netlink socket", -NLE_NOMEM);
    res = exchange(sk, cmd, level, r);
    nl_socket_free(sk);
    return res;
}

enum qtfs_nl_result qtfs_nl_get_status(struct qtfs_nl_reply *out) { return call(QTFS_CMD_GET_STATUS, -1, out); }
enum qtfs_nl_result qtfs_nl_get_stats(struct qtfs_nl_reply *out) { return call(QTFS_CMD_GET_STATS, -1, out); }
enum qtfs_nl_result qtfs_nl_clear_stats(struct qtfs_nl_reply *out) { return call(QTFS_CMD_CLEAR_STATS, -1, out); }

enum qtfs_nl_result qtfs_nl_set_log_level(uint32_t level, struct qtfs_nl_reply *out)
{
    return call(QTFS_CMD_SET_LOG_LEVEL, level, out);
}

void qtfs_nl_reply_free(struct qtfs_nl_reply *out)
{
    free(out->mounts);
    free(out->ops);
    out->mounts = NULL;
    out->ops = NULL;
    out->mount_count = out->op_count = 0;
}
