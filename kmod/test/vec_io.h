/* SPDX-License-Identifier: GPL-2.0 */
/* What wire_vectors.c lends the other userspace vector checks (seal_vectors.c). */
#ifndef QTFS_VEC_IO_H
#define QTFS_VEC_IO_H
#include <stddef.h>

/* The hex bytes of a .vec file (comments dropped) into out; their count or -1. */
long read_vec(const char *path, unsigned char *out, size_t cap);
/* Counts a check; prints "FAIL name: why" when !ok. */
void vec_check(int ok, const char *name, const char *why);
/* Tests/Vectors/aead: returns the number of sealed vector files checked (seal_vectors.c). */
int check_sealed_vectors(const char *vec_dir);
#endif
