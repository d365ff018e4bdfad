/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One frame through the C codec: decode header and payload, encode again,
 * compare. Shared by wire_vectors.c (userspace) and wire_ktest.c (in the
 * kernel, run by the VM test) so both check the same thing.
 */
#ifndef QTFS_WIRE_CHECK_H
#define QTFS_WIRE_CHECK_H
/* include <qtfs/qtfs_wire.h> first */

/* Re-encodes a decoded frame into out; returns its length or -errno. */
static long qtfs_reencode(const struct qtfs_hdr *h, const struct qtfs_msg *m,
			  unsigned char *out, size_t cap)
{
	struct qtfs_wbuf w = { .p = out + QTFS_HDR_SIZE, .cap = cap - QTFS_HDR_SIZE };
	struct qtfs_hdr oh = *h;
	int err = 0;

	if (h->status == 0 && h->kind == QTFS_KIND_RSP && h->opcode == QTFS_OP_READDIR) {
		/* Entries one by one through the entry codec, not copied raw. */
		struct qtfs_rbuf r = { .p = m->data.p, .len = m->data.len };
		struct qtfs_dirent e;
		u32 i;

		qtfs_put_u8(&w, m->eof);
		qtfs_put_u32(&w, m->count);
		for (i = 0; i < m->count; i++) {
			if (qtfs_dirent_next(&r, &e))
				return r.err;
			qtfs_dirent_put(&w, &e);
		}
		err = w.err;
	} else if (h->status == 0) {
		err = qtfs_encode(&w, h->kind, h->opcode, m);
	}
	if (err)
		return err;
	oh.length = (u32)w.len;
	qtfs_hdr_encode(out, &oh);
	return (long)(QTFS_HDR_SIZE + w.len);
}

/*
 * Checks one whole frame; m receives the decoded payload and out (cap bytes)
 * the re-encoding. Returns 0, or a negative code naming the stage:
 * -1 header, -2 payload decode, -3 re-encode differs.
 */
static int qtfs_check_frame(const unsigned char *in, size_t n, struct qtfs_hdr *h,
			    struct qtfs_msg *m, unsigned char *out, size_t cap)
{
	long o;

	if (n < QTFS_HDR_SIZE || qtfs_hdr_decode(in, h) || h->length != n - QTFS_HDR_SIZE)
		return -1;
	memset(m, 0, sizeof(*m));
	if (h->status == 0 && qtfs_decode(in + QTFS_HDR_SIZE, h->length, h->kind, h->opcode, m))
		return -2;
	o = qtfs_reencode(h, m, out, cap);
	if (o != (long)n || memcmp(in, out, n))
		return -3;
	return 0;
}

#endif /* QTFS_WIRE_CHECK_H */
