// SPDX-License-Identifier: GPL-2.0
/*
 * Checks the C codec (kmod/qtfs_wire.c) against the annotated vectors in
 * Tests/Vectors/ (*.vec files): decode every frame, re-encode it, compare bytes, and
 * check a few decoded values. Also runs a few built-in frames and hostile
 * inputs, and the sealed frames of Tests/Vectors/aead (seal_vectors.c, libcrypto). Usage: wire_vectors [VECTOR_DIR]. Exit 0 only if all pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qtfs/qtfs_wire.h>
#include "wire_check.h"
#include "vec_io.h"

static int passed, failed;

#define CHECK(cond, ...) do {						\
	if (cond) { passed++; } else {					\
		failed++; printf("FAIL "); printf(__VA_ARGS__); printf("\n"); \
	} } while (0)

void vec_check(int ok, const char *name, const char *why)
{
	CHECK(ok, "%s: %s", name, why);
}

/* Reads "hex hex ... # comment" lines; returns byte count or -1. */
long read_vec(const char *path, unsigned char *out, size_t cap)
{
	char line[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		char *p = line;

		if (hash)
			*hash = 0;
		for (;;) {
			unsigned int b;
			int used;

			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			if (!*p)
				break;
			if (sscanf(p, "%2x%n", &b, &used) != 1 || used != 2 || n >= cap) {
				fclose(f);
				return -1;
			}
			out[n++] = (unsigned char)b;
			p += used;
		}
	}
	fclose(f);
	return (long)n;
}

static int bytes_eq(struct qtfs_bytes b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.p, s, b.len) == 0;
}

/* Field checks for a few vectors, named after the file. */
static void check_values(const char *name, const struct qtfs_hdr *h, const struct qtfs_msg *m)
{
	if (!strcmp(name, "lookup.request.vec")) {
		CHECK(h->opcode == QTFS_OP_LOOKUP && h->kind == QTFS_KIND_REQ, "%s: header", name);
		CHECK(m->caller.uid == 1000 && m->caller.ngroups == 2, "%s: caller", name);
		CHECK(bytes_eq(m->t1.path, "srv/data/file.txt"), "%s: path", name);
	} else if (!strcmp(name, "attr-pseudo.response.vec")) {
		CHECK(m->attr.flags & QTFS_ATTR_PSEUDO, "%s: pseudo flag", name);
		CHECK(m->attr.size == 0 && (m->attr.mode & 0170000) == 0100000, "%s: size/mode", name);
	} else if (!strcmp(name, "readdir.response.vec")) {
		struct qtfs_rbuf r = { .p = m->data.p, .len = m->data.len };
		struct qtfs_dirent e;

		CHECK(m->eof == 1 && m->count == 3, "%s: eof/count", name);
		qtfs_dirent_next(&r, &e);
		CHECK(bytes_eq(e.name, ".") && !e.hasattr, "%s: first entry", name);
		qtfs_dirent_next(&r, &e);
		qtfs_dirent_next(&r, &e);
		CHECK(bytes_eq(e.name, "file.txt") && e.hasattr && e.cookie == 3, "%s: third entry", name);
	} else if (!strcmp(name, "hello.request.vec")) {
		CHECK(m->min_version == 1 && m->max_version == 1, "%s: versions", name);
	} else if (!strcmp(name, "write.request.vec")) {
		CHECK(m->data.len > 0, "%s: data", name);
	} else if (!strcmp(name, "empty.response.vec")) {
		CHECK(h->length == 0 && h->status == 0, "%s: empty", name);
	}
}

static void check_file(const char *dir, const char *name)
{
	static unsigned char in[QTFS_MAX_PAYLOAD + QTFS_HDR_SIZE], out[sizeof(in)];
	char path[4096];
	struct qtfs_hdr h;
	struct qtfs_msg m;
	long n;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = read_vec(path, in, sizeof(in));
	if (n < QTFS_HDR_SIZE) {
		CHECK(0, "%s: unreadable or shorter than a header", name);
		return;
	}
	err = qtfs_check_frame(in, n, &h, &m, out, sizeof(out));
	if (err == -1) {
		CHECK(0, "%s: bad header or length", name);
		return;
	}
	if (err == -2) {
		CHECK(0, "%s: decode %s failed", name, qtfs_op_name(h.opcode));
		return;
	}
	CHECK(err == 0, "%s: re-encoded bytes differ", name);
	/* Every proper prefix of the payload must be refused, never overread. */
	if (h.status == 0 && h.length > 0) {
		u32 cut;
		int all_refused = 1;
		const char *layout = qtfs_layout(h.kind, h.opcode);
		int open_ended = layout && strpbrk(layout, "R") != NULL;

		for (cut = 0; cut < h.length && !open_ended; cut++)
			if (qtfs_decode(in + QTFS_HDR_SIZE, cut, h.kind, h.opcode, &m) == 0)
				all_refused = 0;
		CHECK(all_refused, "%s: a truncated payload was accepted", name);
	}
	if (h.status == 0)
		qtfs_decode(in + QTFS_HDR_SIZE, h.length, h.kind, h.opcode, &m);
	check_values(name, &h, &m);
}

/* Frames built here: round trip, and hostile inputs. */
static void builtin_checks(void)
{
	unsigned char buf[512];
	struct qtfs_wbuf w = { .p = buf + QTFS_HDR_SIZE, .cap = sizeof(buf) - QTFS_HDR_SIZE };
	struct qtfs_hdr h = { .kind = QTFS_KIND_REQ, .opcode = QTFS_OP_RENAME, .id = 7 }, h2;
	struct qtfs_msg m, d;
	int err;

	memset(&m, 0, sizeof(m));
	m.caller.uid = 1000;
	m.caller.gid = 100;
	m.caller.ngroups = 1;
	m.caller.groups[0] = 27;
	m.t1.path = (struct qtfs_bytes){ (const u8 *)"a/b", 3 };
	m.t2.path = (struct qtfs_bytes){ (const u8 *)"a/c", 3 };
	m.flags = 1;
	err = qtfs_encode(&w, h.kind, h.opcode, &m);
	h.length = (u32)w.len;
	qtfs_hdr_encode(buf, &h);
	CHECK(err == 0 && w.len == 18 + 9 + 9 + 4,
	      "builtin rename: encode (err %d, len %zu)", err, w.len);
	err = qtfs_hdr_decode(buf, &h2);
	CHECK(err == 0 && h2.id == 7 && h2.length == w.len, "builtin rename: header");
	err = qtfs_decode(buf + QTFS_HDR_SIZE, w.len, h.kind, h.opcode, &d);
	CHECK(err == 0 && bytes_eq(d.t2.path, "a/c") && d.flags == 1 && d.caller.groups[0] == 27,
	      "builtin rename: decode (%d)", err);
	/* flags 3 (NOREPLACE|EXCHANGE) is invalid */
	buf[QTFS_HDR_SIZE + w.len - 4] = 3;
	CHECK(qtfs_decode(buf + QTFS_HDR_SIZE, w.len, h.kind, h.opcode, &d) == -EINVAL,
	      "builtin rename: flags 3 refused");
	/* bad magic, bad kind, oversized length */
	buf[0] ^= 1;
	CHECK(qtfs_hdr_decode(buf, &h2) != 0, "builtin: bad magic refused");
	buf[0] ^= 1;
	buf[5] = 3;
	CHECK(qtfs_hdr_decode(buf, &h2) != 0, "builtin: bad kind refused");
	buf[5] = 0;
	h.length = QTFS_MAX_PAYLOAD + 1;
	qtfs_hdr_encode(buf, &h);
	CHECK(qtfs_hdr_decode(buf, &h2) != 0, "builtin: oversized length refused");
	/* a name with NUL inside */
	{
		unsigned char p[] = { 0, 0, 0, 0, 3, 0, 'a', 0, 'b' };
		/* readlink response "P": u16 3 then a NUL byte inside */
		CHECK(qtfs_decode(p + 4, 5, QTFS_KIND_RSP, QTFS_OP_READLINK, &d) == -EINVAL,
		      "builtin: NUL in path refused");
	}
	/* a readdir count larger than the payload could hold */
	{
		unsigned char p[] = { 1, 0xff, 0xff, 0, 0 };

		CHECK(qtfs_decode(p, sizeof(p), QTFS_KIND_RSP, QTFS_OP_READDIR, &d) == -EINVAL,
		      "builtin: lying readdir count refused");
	}
	CHECK(qtfs_layout(QTFS_KIND_REQ, 41) == NULL, "builtin: reserved opcode has no layout");
	/* an AUTH_CHALLENGE answer one byte short of its two 32-byte fields */
	memset(buf, 0, 64);
	CHECK(qtfs_decode(buf, 63, QTFS_KIND_RSP, QTFS_OP_AUTH_CHALLENGE, &d) == -EPROTO,
	      "builtin: short auth challenge refused");
	CHECK(qtfs_decode(buf, 64, QTFS_KIND_RSP, QTFS_OP_AUTH_CHALLENGE, &d) == 0,
	      "builtin: auth challenge answer decodes");
}

/* The transcripts of the authentication example (docs/protocol.md): the bytes
 * qtfs_auth_transcript builds must equal auth-server/auth-client.transcript. */
static void check_transcripts(const char *dir)
{
	static const char *const file[2] = { "auth-server.transcript", "auth-client.transcript" };
	unsigned char want[256], got[QTFS_AUTH_TRANSCRIPT_LEN], nc[QTFS_AUTH_NONCE], ns[QTFS_AUTH_NONCE];
	char path[4096];
	int role, i;
	long n;

	for (i = 0; i < QTFS_AUTH_NONCE; i++) {
		nc[i] = 0x40 + i;
		ns[i] = 0x80 + i;
	}
	for (role = 1; role <= 2; role++) {
		snprintf(path, sizeof(path), "%s/%s", dir, file[role - 1]);
		n = read_vec(path, want, sizeof(want));
		if (n < 0)
			continue;	/* vectors without authentication */
		qtfs_auth_transcript(got, role, 1, QTFS_AUTH_METHOD_HMAC_SHA256, nc, ns);
		CHECK(n == (long)sizeof(got) && !memcmp(want, got, sizeof(got)),
		      "%s: transcript differs", file[role - 1]);
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "Tests/Vectors";
	struct dirent **names;
	int i, n, files = 0;

	builtin_checks();
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		printf("no vector directory %s: built-in checks only\n", dir);
	} else {
		for (i = 0; i < n; i++) {
			size_t len = strlen(names[i]->d_name);

			if (len > 4 && !strcmp(names[i]->d_name + len - 4, ".vec")) {
				check_file(dir, names[i]->d_name);
				files++;
			}
			free(names[i]);
		}
		free(names);
		check_transcripts(dir);
		printf("%d vector files checked\n", files);
		printf("%d sealed vector files checked\n", check_sealed_vectors(dir));
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed || (n >= 0 && files == 0) ? 1 : 0;
}
