// SPDX-License-Identifier: GPL-2.0
/* Mount options: fs_parameter table, parsing, and show_options (non-defaults only). */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/inet.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "qtfs.h"

enum {
	Opt_server, Opt_port, Opt_proc, Opt_local_proc, Opt_attr_timeout,
	Opt_entry_timeout, Opt_conn_timeout, Opt_req_timeout,
};

const struct fs_parameter_spec qtfs_param_specs[] = {
	fsparam_string("server", Opt_server),
	fsparam_u32("port", Opt_port),
	fsparam_flag("proc", Opt_proc),
	fsparam_string("local_proc", Opt_local_proc),
	fsparam_u32("attr_timeout_ms", Opt_attr_timeout),
	fsparam_u32("entry_timeout_ms", Opt_entry_timeout),
	fsparam_u32("conn_timeout", Opt_conn_timeout),
	fsparam_u32("req_timeout", Opt_req_timeout),
	{}
};

int qtfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct qtfs_sb *sbi = fc->s_fs_info;
	struct qtfs_opts *o = &sbi->opts;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, qtfs_param_specs, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_server:
		if (!in4_pton(param->string, -1, (u8 *)&o->server, -1, NULL))
			return invalfc(fc, "server must be an IPv4 address: %s", param->string);
		break;
	case Opt_port:
		if (result.uint_32 < 1 || result.uint_32 > 65535)
			return invalfc(fc, "port out of range: %u", result.uint_32);
		o->port = result.uint_32;
		break;
	case Opt_proc:
		o->proc = true;
		break;
	case Opt_local_proc:
		if (param->string[0] != '/')
			return invalfc(fc, "local_proc must be an absolute path");
		kfree(o->local_proc);
		o->local_proc = param->string;
		param->string = NULL;
		break;
	case Opt_attr_timeout:
		o->attr_timeout_ms = result.uint_32;
		break;
	case Opt_entry_timeout:
		o->entry_timeout_ms = result.uint_32;
		break;
	case Opt_conn_timeout:
		if (result.uint_32 < 1 || result.uint_32 > 3600)
			return invalfc(fc, "conn_timeout must be 1..3600 seconds");
		o->conn_timeout = result.uint_32;
		break;
	case Opt_req_timeout:
		if (result.uint_32 > 86400)
			return invalfc(fc, "req_timeout must be 0..86400 seconds");
		o->req_timeout = result.uint_32;
		break;
	}
	return 0;
}

int qtfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct qtfs_opts *o = &QTFS_SB(root->d_sb)->opts;

	seq_printf(m, ",server=%pI4", &o->server);
	if (o->port != QTFS_DEFAULT_PORT)
		seq_printf(m, ",port=%u", o->port);
	if (o->proc)
		seq_puts(m, ",proc");
	if (o->local_proc) {
		seq_puts(m, ",local_proc=");
		seq_escape(m, o->local_proc, " \t\n\\,");
	}
	if (o->attr_timeout_ms != QTFS_DEF_ATTR_MS)
		seq_printf(m, ",attr_timeout_ms=%u", o->attr_timeout_ms);
	if (o->entry_timeout_ms != QTFS_DEF_ENTRY_MS)
		seq_printf(m, ",entry_timeout_ms=%u", o->entry_timeout_ms);
	if (o->conn_timeout != QTFS_DEF_CONN_TIMEOUT)
		seq_printf(m, ",conn_timeout=%u", o->conn_timeout);
	if (o->req_timeout != QTFS_DEF_REQ_TIMEOUT)
		seq_printf(m, ",req_timeout=%u", o->req_timeout);
	return 0;
}

void qtfs_opts_free(struct qtfs_opts *o)
{
	kfree(o->local_proc);
	o->local_proc = NULL;
}
