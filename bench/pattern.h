// The bytes qtfs-bench writes and checks: every 4 KiB block is a fixed pseudo-random block
// whose first 8 bytes are replaced by a tag made of the file's number and the block's
// offset, so a read that returns zeros, another file's data or a block from the wrong
// place fails the check instead of counting as throughput.
#ifndef QTFS_BENCH_PATTERN_H
#define QTFS_BENCH_PATTERN_H
#include <stdint.h>
#include <string.h>

#define PATTERN_BLOCK 4096

static unsigned char pattern_block[PATTERN_BLOCK];

/* Fills the fixed block (a 64-bit LCG) and copies it over every block of `bufs`. */
static void pattern_init(char *const *bufs, int nbufs, size_t len)
{
	uint64_t x = 0x71746673ULL;
	for (size_t i = 0; i < PATTERN_BLOCK; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		pattern_block[i] = (unsigned char)(x >> 56);
	}
	for (int b = 0; b < nbufs; b++)
		for (size_t o = 0; o < len; o += PATTERN_BLOCK)
			memcpy(bufs[b] + o, pattern_block, PATTERN_BLOCK);
}

static uint64_t pattern_tag(uint64_t file, uint64_t offset)
{
	return (file << 40) ^ offset ^ 0x5154465342454e43ULL;
}

/* Writes the tags of file `file` at `offset` (block aligned) into a pattern_init'ed buffer. */
static void pattern_stamp(char *b, size_t len, uint64_t file, uint64_t offset)
{
	for (size_t o = 0; o < len; o += PATTERN_BLOCK) {
		uint64_t tag = pattern_tag(file, offset + o);
		memcpy(b + o, &tag, sizeof(tag));
	}
}

/* Compares `len` bytes read at `offset` of file `file` with what was written; `scratch`
 * (pattern_init'ed, len + PATTERN_BLOCK bytes) is overwritten. Returns the offset of the
 * first wrong byte, or -1 when all match. */
static long long pattern_mismatch(const char *got, size_t len, uint64_t file, uint64_t offset,
				  char *scratch)
{
	uint64_t base = offset & ~(uint64_t)(PATTERN_BLOCK - 1);
	size_t skip = offset - base;
	const char *want = scratch + skip;

	pattern_stamp(scratch, skip + len, file, base);
	if (!memcmp(got, want, len))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			return (long long)(offset + i);
	return -1;
}
#endif
