/* SPDX-License-Identifier: GPL-2.0 */
/* Little-endian bytes of the wire codec (qtfs_wire.c, qtfs_wire_put.c, qtfs_wire_get.c). */
#ifndef QTFS_WIRE_LE_H
#define QTFS_WIRE_LE_H

static inline void qtfs_le(u8 *p, u64 v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline u64 qtfs_from_le(const u8 *p, int n)
{
	u64 v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#endif /* QTFS_WIRE_LE_H */
