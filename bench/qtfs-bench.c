/*
 * qtfs-bench: file system micro-benchmarks run against one directory.
 *
 *   qtfs-bench [-n files] [-m seq_mb] [-r reps] [-l label] WORKLOAD DIR
 *
 * Prints one line per run, whitespace separated:
 *   <label> <workload> <ops> <us_per_op> <mb_per_s or ->
 * Anything else (diagnostics) goes to stderr. Exit status 1 on any failure.
 *
 * Workloads (DIR meaning in brackets):
 *   setup    create DIR/files/f00000.. (n files of 4 KiB)        [data dir]
 *   stat     stat() every file of DIR/files                      [data dir]
 *   read4k   open + read 4 KiB + close every file of DIR/files   [data dir]
 *   create   open(O_CREAT|O_EXCL) + write 4 KiB + close n files  [empty or new dir]
 *   unlink   unlink the n files made by `create`, then rmdir     [same dir]
 *   readdir  opendir/readdir-all/closedir, r times; op = listing [large dir]
 *   seqwrite write DIR/seq.dat, m MiB in 1 MiB chunks, fsync     [data dir]
 *   seqread  read DIR/seq.dat in 1 MiB chunks to EOF             [data dir]
 *   ps       r times: per numeric entry read stat,status,cmdline; op = process [/proc]
 *   cgroup   r times: walk the tree, read every regular file; op = file [cgroup root]
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

#define CHUNK (1 << 20)
#define SMALL 4096

static long nfiles = 10000, seq_mb = 1024, reps = 0;
static const char *label = "-";
static char *buf;

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

static void make_files(const char *dir, const char *prefix, int excl)
{
	char path[4096];
	int flags = O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC);

	for (long i = 0; i < nfiles; i++) {
		file_name(path, sizeof(path), dir, prefix, i);
		int fd = open(path, flags, 0644);
		if (fd < 0)
			die("open", path);
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
	for (long i = 0; i < seq_mb; i++)
		if (write(fd, buf, CHUNK) != CHUNK)
			die("write", path);
	if (fsync(fd) < 0)
		die("fsync", path);
	if (close(fd) < 0)
		die("close", path);
	report("seqwrite", seq_mb, now() - t, (double)seq_mb * CHUNK);
}

static void w_seqread(const char *dir)
{
	char path[4096];
	long chunks = 0;
	double bytes = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/seq.dat", dir);
	double t = now();
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open", path);
	while ((n = read(fd, buf, CHUNK)) > 0) {
		bytes += n;
		chunks++;
	}
	if (n < 0)
		die("read", path);
	close(fd);
	report("seqread", chunks, now() - t, bytes);
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

static void w_ps(const char *dir)
{
	static const char *files[] = { "stat", "status", "cmdline" };
	char path[4096];
	long r = reps ? reps : 20, procs = 0;
	double bytes = 0, t = now();

	for (long i = 0; i < r; i++) {
		DIR *d = opendir(dir);
		struct dirent *e;
		if (!d)
			die("opendir", dir);
		while ((e = readdir(d))) {
			if (!numeric(e->d_name))
				continue;
			procs++;
			for (int f = 0; f < 3; f++) {
				snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, files[f]);
				long n = slurp(path); /* a process may exit mid-scan */
				if (n > 0)
					bytes += n;
			}
		}
		closedir(d);
	}
	double secs = now() - t;
	if (bytes == 0) {
		fprintf(stderr, "qtfs-bench: ps scan of %s read no data\n", dir);
		exit(1);
	}
	fprintf(stderr, "ps: %ld processes per scan, %.0f bytes per scan\n", procs / r, bytes / r);
	report("ps", procs, secs, 0);
}

static long walk(const char *dir, double *bytes, long *failed)
{
	char path[4096];
	long files = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

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
			files += walk(path, bytes, failed);
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

static void w_cgroup(const char *dir)
{
	long r = reps ? reps : 5, files = 0, failed = 0;
	double bytes = 0, t = now();

	for (long i = 0; i < r; i++)
		files += walk(dir, &bytes, &failed);
	double secs = now() - t;
	fprintf(stderr, "cgroup: %ld files per walk (%ld unreadable), %.0f bytes per walk\n",
		files / r, failed / r, bytes / r);
	if (bytes == 0) {
		fprintf(stderr, "qtfs-bench: cgroup walk of %s read no data\n", dir);
		exit(1);
	}
	report("cgroup", files, secs, 0);
}

static const struct {
	const char *name;
	void (*fn)(const char *);
} workloads[] = {
	{ "setup", w_setup },	  { "stat", w_stat },	      { "read4k", w_read4k },
	{ "create", w_create },	  { "unlink", w_unlink },     { "readdir", w_readdir },
	{ "seqwrite", w_seqwrite }, { "seqread", w_seqread }, { "ps", w_ps },
	{ "cgroup", w_cgroup },
};

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:m:r:l:")) != -1) {
		switch (c) {
		case 'n': nfiles = atol(optarg); break;
		case 'm': seq_mb = atol(optarg); break;
		case 'r': reps = atol(optarg); break;
		case 'l': label = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	if (posix_memalign((void **)&buf, 4096, CHUNK))
		return 1;
	memset(buf, 'q', CHUNK);
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		if (!strcmp(workloads[i].name, argv[optind])) {
			workloads[i].fn(argv[optind + 1]);
			return 0;
		}
	}
usage:
	fprintf(stderr, "usage: qtfs-bench [-n files] [-m seq_mb] [-r reps] [-l label] WORKLOAD DIR\n"
			"workloads: setup stat read4k create unlink readdir seqwrite seqread ps cgroup\n");
	return 2;
}
