/*
 * qtfs-bench: file system micro-benchmarks run against one directory.
 *
 *   qtfs-bench [-n files] [-m seq_mb] [-r reps] [-e entries] [-w] [-p pause_ms] [-l label]
 *              WORKLOAD DIR
 *
 * Prints one line per run, whitespace separated:
 *   <label> <workload> <ops> <us_per_op> <mb_per_s or ->
 * Anything else (diagnostics) goes to stderr. Exit status 1 on any failure.
 *
 * Workloads (DIR meaning in brackets):
 *   setup    create DIR/files/f00000.. (n files of 4 KiB)        [data dir]
 *   bigsetup create DIR/big/f00000.. (n empty files)              [data dir]
 *   stat     stat() every file of DIR/files                      [data dir]
 *   read4k   open + read 4 KiB + check + close every file of DIR/files [data dir]
 *   create   open(O_CREAT|O_EXCL) + write 4 KiB + close n files  [empty or new dir]
 *   unlink   unlink the n files made by `create`, then rmdir     [same dir]
 *   readdir  opendir/readdir-all/closedir, r times; op = listing [large dir]
 *   seqwrite write DIR/seq.dat, m MiB in 1 MiB chunks, fsync     [data dir]
 *   seqread  read DIR/seq.dat in 1 MiB chunks to EOF, check m MiB [data dir]
 *   lookup   stat n names spread over DIR/big's e entries        [data dir]
 *   pathstat stat DIR (any path) r times                         [a path]
 *   ps       r times: per numeric entry read stat,status,cmdline; op = process [/proc]
 *   cgroup   r times: walk the tree, read every regular file; op = file [cgroup root]
 * ps and cgroup with -w first scan once untimed, and with -p sleep pause_ms before every
 * timed scan (a tool such as top repeating its scan on a mount that stays up).
 * The bytes setup, create and seqwrite write carry a pattern (pattern.h) that read4k and
 * seqread check: a wrong byte is a failure (exit 1), not a figure.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pattern.h"

#define CHUNK (1 << 20)
#define SMALL 4096

static long nfiles = 10000, seq_mb = 1024, reps = 0, entries = 100000, pause_ms = 0;
static int warm = 0;
static const char *label = "-";
static char *buf, *scratch;
#define SEQ_FILE 0xffffff /* the pattern's file number of seq.dat (small files: their index) */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "qtfs-bench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void report(const char *name, long ops, double secs, double bytes)
{
	printf("%s %s %ld %.2f ", label, name, ops, ops ? secs * 1e6 / ops : 0.0);
	if (bytes > 0)
		printf("%.0f\n", bytes / secs / 1e6);
	else
		printf("-\n");
	fflush(stdout);
}

static void file_name(char *out, size_t len, const char *dir, const char *prefix, long i)
{
	snprintf(out, len, "%s/%s%05ld", dir, prefix, i);
}

/* Read a whole file; returns bytes read or -1 when it cannot be opened/read. */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	long total = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, CHUNK)) > 0)
		total += n;
	close(fd);
	return n < 0 ? -1 : total;
}

/* A wrong byte ends the run: a figure for data that was not read back is no figure. */
static void check(const char *got, size_t len, long file, long long offset, const char *path)
{
	long long bad = pattern_mismatch(got, len, file, offset, scratch);
	if (bad >= 0) {
		fprintf(stderr, "qtfs-bench: %s: byte at offset %lld is not what was written there "
				"(wrong data from the file system)\n", path, bad);
		exit(1);
	}
}

static void make_files(const char *dir, const char *prefix, int excl)
{
	char path[4096];
	int flags = O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC);

	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, prefix, i);
		int fd = open(path, flags, 0644);
		if (fd < 0)
			die("open", path);
		pattern_stamp(buf, SMALL, i, 0);
		if (write(fd, buf, SMALL) != SMALL)
			die("write", path);
		if (close(fd) < 0)
			die("close", path);
	}
}

static void w_setup(const char *dir)
{
	char sub[4096];

	snprintf(sub, sizeof(sub), "%s/files", dir);
	if (mkdir(sub, 0755) < 0 && errno != EEXIST)
		die("mkdir", sub);
	make_files(sub, "f", 0);
	report("setup", nfiles, 0, 0);
}

static void w_stat(const char *dir)
{
	char path[4096];
	struct stat st;
	double t = now();

	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, "files/f", i);
		if (stat(path, &st) < 0)
			die("stat", path);
	}
	report("stat", nfiles, now() - t, 0);
}

static void w_read4k(const char *dir)
{
	char path[4096];
	double t = now();

	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, "files/f", i);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			die("open", path);
		if (read(fd, buf, SMALL) != SMALL)
			die("read", path);
		check(buf, SMALL, i, 0, path);
		close(fd);
	}
	report("read4k", nfiles, now() - t, (double)nfiles * SMALL);
}

static void w_create(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("mkdir", dir);
	double t = now();
	make_files(dir, "c", 1);
	report("create", nfiles, now() - t, (double)nfiles * SMALL);
}

static void w_unlink(const char *dir)
{
	char path[4096];
	double t = now();

	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, "c", i);
		if (unlink(path) < 0)
			die("unlink", path);
	}
	report("unlink", nfiles, now() - t, 0);
	if (rmdir(dir) < 0)
		die("rmdir", dir);
}

static void w_readdir(const char *dir)
{
	long r = reps ? reps : 10, entries = 0;
	double t = now();

	for (long i = 0; i < r; i++) {
		DIR *d = opendir(dir);
		if (!d)
			die("opendir", dir);
		errno = 0;
		while (readdir(d))
			entries++;
		if (errno)
			die("readdir", dir);
		closedir(d);
	}
	double secs = now() - t;
	fprintf(stderr, "readdir: %ld entries per listing\n", entries / r);
	report("readdir", r, secs, 0);
}

static void w_seqwrite(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/seq.dat", dir);
	double t = now();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open", path);
	for (long i = 0; i < seq_mb; i++) {
		pattern_stamp(buf, CHUNK, SEQ_FILE, (uint64_t)i * CHUNK);
		if (write(fd, buf, CHUNK) != CHUNK)
			die("write", path);
	}
	if (fsync(fd) < 0)
		die("fsync", path);
	if (close(fd) < 0)
		die("close", path);
	report("seqwrite", seq_mb, now() - t, (double)seq_mb * CHUNK);
}

/* Times open, the reads and close; the check of each chunk runs outside the timed part. */
static void w_seqread(const char *dir)
{
	char path[4096];
	long chunks = 0;
	long long bytes = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/seq.dat", dir);
	double t0 = now();
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open", path);
	double secs = now() - t0;
	for (;;) {
		double r = now();
		n = read(fd, buf, CHUNK);
		secs += now() - r;
		if (n <= 0)
			break;
		check(buf, n, SEQ_FILE, bytes, path);
		bytes += n;
		chunks++;
	}
	if (n < 0)
		die("read", path);
	double c = now();
	close(fd);
	secs += now() - c;
	if (bytes != (long long)seq_mb * CHUNK) {
		fprintf(stderr, "qtfs-bench: %s: read %lld bytes, seqwrite wrote %lld\n", path, bytes,
			(long long)seq_mb * CHUNK);
		exit(1);
	}
	report("seqread", chunks, secs, (double)bytes);
}

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Runs scan r times and returns the seconds the timed scans took: with -w one untimed scan
 * first, with -p a pause of pause_ms before every timed scan. */
static double repeat_scans(long r, void (*scan)(const char *, long *, double *, long *),
			   const char *dir, long *ops, double *bytes, long *failed)
{
	double secs = 0;

	if (warm) {
		long o = 0, f = 0;
		double b = 0;
		scan(dir, &o, &b, &f);
	}
	for (long i = 0; i < r; i++) {
		if (pause_ms)
			usleep(pause_ms * 1000);
		double t = now();
		scan(dir, ops, bytes, failed);
		secs += now() - t;
	}
	return secs;
}

static void ps_scan(const char *dir, long *procs, double *bytes, long *unused)
{
	static const char *files[] = { "stat", "status", "cmdline" };
	char path[4096];
	DIR *d = opendir(dir);
	struct dirent *e;

	(void)unused;
	if (!d)
		die("opendir", dir);
	while ((e = readdir(d))) {
		if (!numeric(e->d_name))
			continue;
		(*procs)++;
		for (int f = 0; f < 3; f++) {
			snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, files[f]);
			long n = slurp(path); /* a process may exit mid-scan */
			if (n > 0)
				*bytes += n;
		}
	}
	closedir(d);
}

static void w_ps(const char *dir)
{
	long r = reps ? reps : 20, procs = 0, unused = 0;
	double bytes = 0;
	double secs = repeat_scans(r, ps_scan, dir, &procs, &bytes, &unused);

	if (bytes == 0) {
		fprintf(stderr, "qtfs-bench: ps scan of %s read no data\n", dir);
		exit(1);
	}
	fprintf(stderr, "ps: %ld processes per scan, %.0f bytes per scan\n", procs / r, bytes / r);
	report("ps", procs, secs, 0);
}

/* Files below dir; a subdirectory removed meanwhile (a live cgroup going away) is skipped. */
static long walk(const char *dir, double *bytes, long *failed, int top)
{
	char path[4096];
	long files = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d && !top && errno == ENOENT)
		return 0;
	if (!d)
		die("opendir", dir);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unsigned char type = e->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (lstat(path, &st) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			files += walk(path, bytes, failed, 0);
		} else if (type == DT_REG) {
			long n = slurp(path); /* write-only control files fail: counted */
			files++;
			if (n < 0)
				(*failed)++;
			else
				*bytes += n;
		}
	}
	closedir(d);
	return files;
}

static void cgroup_scan(const char *dir, long *files, double *bytes, long *failed)
{
	*files += walk(dir, bytes, failed, 1);
}

static void w_cgroup(const char *dir)
{
	long r = reps ? reps : 5, files = 0, failed = 0;
	double bytes = 0;
	double secs = repeat_scans(r, cgroup_scan, dir, &files, &bytes, &failed);

	fprintf(stderr, "cgroup: %ld files per walk (%ld unreadable), %.0f bytes per walk\n",
		files / r, failed / r, bytes / r);
	if (bytes == 0) {
		fprintf(stderr, "qtfs-bench: cgroup walk of %s read no data\n", dir);
		exit(1);
	}
	report("cgroup", files, secs, 0);
}

/* Empty files DIR/big/f00000.. for lookup: a directory as large as a mail spool or a
 * container image's /usr/share. */
static void w_bigsetup(const char *dir)
{
	char sub[2048], path[4096];

	snprintf(sub, sizeof(sub), "%s/big", dir);
	if (mkdir(sub, 0755) < 0 && errno != EEXIST)
		die("mkdir", sub);
	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), sub, "f", i);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			die("open", path);
		close(fd);
	}
	report("bigsetup", nfiles, 0, 0);
}

/* A few lookups in a huge directory: what a directory prefetch costs when a program wants
 * only some names (op = one stat by path). */
static void w_lookup(const char *dir)
{
	char path[4096];
	struct stat st;
	long step = entries / nfiles;
	double t = now();

	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, "big/f", i * step + step / 2);
		if (stat(path, &st) < 0)
			die("stat", path);
	}
	report("lookup", nfiles, now() - t, 0);
}

/* The same path stat'ed again and again, as a monitor polls one cgroup file. */
static void w_pathstat(const char *path)
{
	long r = reps ? reps : 1000;
	struct stat st;
	double t = now();

	for (long i = 0; i < r; i++)
		if (stat(path, &st) < 0)
			die("stat", path);
	report("pathstat", r, now() - t, 0);
}

static const struct {
	const char *name;
	void (*fn)(const char *);
} workloads[] = {
	{ "setup", w_setup },	  { "stat", w_stat },	      { "read4k", w_read4k },
	{ "create", w_create },	  { "unlink", w_unlink },     { "readdir", w_readdir },
	{ "seqwrite", w_seqwrite }, { "seqread", w_seqread }, { "ps", w_ps },
	{ "cgroup", w_cgroup },	  { "bigsetup", w_bigsetup }, { "lookup", w_lookup },
	{ "pathstat", w_pathstat },
};

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:m:r:e:wp:l:")) != -1) {
		switch (c) {
		case 'n': nfiles = atol(optarg); break;
		case 'm': seq_mb = atol(optarg); break;
		case 'r': reps = atol(optarg); break;
		case 'e': entries = atol(optarg); break;
		case 'w': warm = 1; break;
		case 'p': pause_ms = atol(optarg); break;
		case 'l': label = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	if (nfiles <= 0 || (!strcmp(argv[optind], "lookup") && entries < nfiles))
		goto usage;
	if (posix_memalign((void **)&buf, 4096, CHUNK) ||
	    posix_memalign((void **)&scratch, 4096, CHUNK + PATTERN_BLOCK))
		return 1;
	pattern_init((char *[]){ buf, scratch }, 2, CHUNK);
	pattern_init((char *[]){ scratch + CHUNK }, 1, PATTERN_BLOCK);
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		if (!strcmp(workloads[i].name, argv[optind])) {
			workloads[i].fn(argv[optind + 1]);
			return 0;
		}
	}
usage:
	fprintf(stderr, "usage: qtfs-bench [-n files] [-m seq_mb] [-r reps] [-e entries] [-w] "
			"[-p pause_ms] [-l label] WORKLOAD DIR\n"
			"workloads: setup bigsetup stat read4k create unlink readdir seqwrite seqread "
			"lookup pathstat ps cgroup\n");
	return 2;
}
