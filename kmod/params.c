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
	Opt_entry_timeout, Opt_attr_timeout_s, Opt_entry_timeout_s, Opt_conn_timeout,
	Opt_req_timeout, Opt_key, Opt_key_file, Opt_prefetch, Opt_noprefetch, Opt_crypt, Opt_fuse_only,
};

enum { Crypt_aead, Crypt_none };

static const struct constant_table qtfs_crypt_modes[] = {
	{ "aead", Crypt_aead },
	{ "none", Crypt_none },
	{}
};

const struct fs_parameter_spec qtfs_param_specs[] = {
	fsparam_string("server", Opt_server),
	fsparam_u32("port", Opt_port),
	fsparam_flag("proc", Opt_proc),
	fsparam_string("local_proc", Opt_local_proc),
	fsparam_u32("attr_timeout_ms", Opt_attr_timeout),
	fsparam_u32("entry_timeout_ms", Opt_entry_timeout),
	fsparam_string("attr_timeout", Opt_attr_timeout_s),	/* seconds, as qtfs-fuse */
	fsparam_string("entry_timeout", Opt_entry_timeout_s),
	fsparam_u32("conn_timeout", Opt_conn_timeout),
	fsparam_u32("req_timeout", Opt_req_timeout),
	fsparam_string("key_hex", Opt_key),	/* 32..128 hex digits: authenticate */
	fsparam_string("key", Opt_key_file),	/* qtfs-fuse's key file: refused with a hint */
	fsparam_flag("prefetch", Opt_prefetch),
	fsparam_flag("noprefetch", Opt_noprefetch),
	fsparam_enum("crypt", Opt_crypt, qtfs_crypt_modes),	/* sealed frames (seal.c) */
	/* qtfs-fuse options with no meaning here: accepted so fstab lines work for both */
	fsparam_u32("conns", Opt_fuse_only),
	fsparam_flag("writeback", Opt_fuse_only),
	fsparam_flag("no_writeback", Opt_fuse_only),
	fsparam_flag("allow_other", Opt_fuse_only),
	fsparam_flag("debug", Opt_fuse_only),
	fsparam_string("fsname", Opt_fuse_only),
	{}
};

/* "1", "0.25", "2.5": seconds with up to 3 decimals, into milliseconds. */
static int qtfs_parse_ms(const char *s, u32 *ms)
{
	unsigned int sec = 0, frac = 0, scale = 1000;
	int n = 0;

	if (sscanf(s, "%u%n", &sec, &n) != 1 || sec > 86400)
		return -EINVAL;
	s += n;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
		}
	}
	if (*s)
		return -EINVAL;
	*ms = sec * 1000 + frac;
	return 0;
}

/* "A.B.C.D" or "A.B.C.D:PORT" (the form qtfs-fuse takes). */
static int qtfs_parse_server(struct fs_context *fc, struct qtfs_opts *o, const char *s)
{
	const char *end;
	unsigned int port;

	if (!in4_pton(s, -1, (u8 *)&o->server, ':', &end))
		return invalfc(fc, "server must be an IPv4 address: %s", s);
	o->server_set = true;
	if (*end == ':') {
		if (kstrtouint(end + 1, 10, &port) || port < 1 || port > 65535)
			return invalfc(fc, "bad port in server=%s", s);
		o->port = port;
		o->port_set = true;
	} else if (*end) {
		return invalfc(fc, "server must be an IPv4 address: %s", s);
	}
	return 0;
}

/* key_hex=HEX: 32..128 hex digits (16..64 bytes), as in the key file qtfs-server reads. */
static int qtfs_parse_key(struct fs_context *fc, struct qtfs_opts *o, const char *hex)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 < QTFS_AUTH_KEY_MIN || n / 2 > QTFS_AUTH_KEY_MAX ||
	    hex2bin(o->key, hex, n / 2)) {
		memzero_explicit(o->key, sizeof(o->key));
		return invalfc(fc, "key_hex must be 32 to 128 hex digits (16 to 64 bytes); mount.qtfs makes it from key=KEYFILE");
	}
	o->key_len = n / 2;
	return 0;
}

/* The timeouts: attribute and entry cache times (ms, or seconds with _s), connect, request. */
static int qtfs_parse_timeout(struct fs_context *fc, struct qtfs_opts *o, int opt, u32 n, const char *text)
{
	switch (opt) {
	case Opt_attr_timeout:
		o->attr_timeout_ms = n;
		break;
	case Opt_entry_timeout:
		o->entry_timeout_ms = n;
		break;
	case Opt_attr_timeout_s:
		if (qtfs_parse_ms(text, &o->attr_timeout_ms))
			return invalfc(fc, "attr_timeout takes seconds: %s", text);
		break;
	case Opt_entry_timeout_s:
		if (qtfs_parse_ms(text, &o->entry_timeout_ms))
			return invalfc(fc, "entry_timeout takes seconds: %s", text);
		break;
	case Opt_conn_timeout:
		if (n < 1 || n > 3600)
			return invalfc(fc, "conn_timeout must be 1..3600 seconds");
		o->conn_timeout = n;
		break;
	case Opt_req_timeout:
		if (n > 86400)
			return invalfc(fc, "req_timeout must be 0..86400 seconds");
		o->req_timeout = n;
		break;
	}
	return 0;
}

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
		return qtfs_parse_server(fc, o, param->string);
	case Opt_port:
		if (result.uint_32 < 1 || result.uint_32 > 65535)
			return invalfc(fc, "port out of range: %u", result.uint_32);
		o->port = result.uint_32;
		o->port_set = true;
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
	case Opt_key:
		opt = qtfs_parse_key(fc, o, param->string);
		memzero_explicit(param->string, strlen(param->string));
		return opt;
	case Opt_prefetch:
	case Opt_noprefetch:
		o->noprefetch = opt == Opt_noprefetch;
		break;
	case Opt_crypt:
		o->crypt_none = result.uint_32 == Crypt_none;
		o->crypt_set = true;
		break;
	case Opt_key_file:
		return invalfc(fc, "key=KEYFILE is read by mount.qtfs (qtfs-fuse); the module takes key_hex=HEX");
	case Opt_fuse_only:
		break;
	default:
		return qtfs_parse_timeout(fc, o, opt, result.uint_32, param->string);
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
	if (o->local_proc && strcmp(o->local_proc, QTFS_DEF_LOCAL_PROC)) {
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
	if (o->noprefetch)
		seq_puts(m, ",noprefetch");
	if (o->crypt_none)
		seq_puts(m, ",crypt=none");
	return 0;
}

/*
 * Checks between options, once all are parsed: crypt=aead needs a key; crypt=none with
 * a key is the administrator's choice for a trusted link, and said loudly.
 */
int qtfs_check_opts(struct fs_context *fc, const struct qtfs_opts *o, const char *source)
{
	if (o->crypt_set && !o->crypt_none && !o->key_len)
		return invalfc(fc, "crypt=aead needs a key: key_hex=HEX (mount.qtfs: key=KEYFILE)");
	if (o->crypt_none && o->key_len)
		pr_warn("mount of %s with crypt=none: frames to %pI4:%u travel in plaintext, readable and alterable on the way\n",
			source, &o->server, o->port);
	return 0;
}

void qtfs_opts_free(struct qtfs_opts *o)
{
	kfree(o->local_proc);
	o->local_proc = NULL;
	memzero_explicit(o->key, sizeof(o->key));
	o->key_len = 0;
}
