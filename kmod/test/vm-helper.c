// SPDX-License-Identifier: GPL-2.0
/*
 * Static multi-call helper for the VM test (busybox lacks these):
 *   runas UID GID GROUPS|- CMD...     exec CMD as UID/GID with groups "a,b" ("-": none)
 *   xset FILE NAME VALUE [create|replace]   xget FILE NAME   xlist FILE   xrm FILE NAME
 *   excl FILE                         open(O_CREAT|O_EXCL)
 *   rename2 OLD NEW noreplace|exchange
 *   mmapcat FILE                      print FILE through a read-only mmap
 *   seek FILE data|hole|end OFFSET    print lseek's answer
 *   pollread FIFO                     blocking open, poll(POLLIN), read: "revents=POLLIN data=..."
 *   pollpush FIFO                     poll waits while the fifo is empty and is woken by a
 *                                     write the host makes: "idle=0 ready=POLLIN" (it asks
 *                                     for the write with "QTFS-WRITE-FIFO" on stderr)
 *   readdir DIR                       the names readdir(3) returns, then how it ended:
 *                                     "names=a,b end=0" (0: the end; else the errno)
 *   unixecho SOCKET MSG               connect(2) to a unix stream socket, send MSG, end the
 *                                     sending side, print what comes back
 *   scmfile SOCKET FILE               to Tests/Integration/scm_peer.py's server: pass FILE
 *                                     (open read-write at offset 4) with "file", print the
 *                                     answer; then ask "give", print "back:" and what the
 *                                     file passed back reads
 * Failures print "err=N" (errno) and exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(void)
{
	printf("err=%d\n", errno);
	return 1;
}

static int runas(int argc, char **argv)
{
	gid_t groups[64];
	int n = 0;
	char *s, *tok;

	if (argc < 5)
		return 2;
	if (strcmp(argv[3], "-"))
		for (s = argv[3]; (tok = strsep(&s, ",")) && n < 64;)
			groups[n++] = (gid_t)atoi(tok);
	if (setgroups(n, groups) || setgid(atoi(argv[2])) || setuid(atoi(argv[1])))
		return fail();
	execvp(argv[4], argv + 4);
	return fail();
}

static int xattr_cmd(int argc, char **argv)
{
	char buf[65536];
	ssize_t n, i;

	if (!strcmp(argv[0], "xset") && argc >= 4) {
		int fl = argc > 4 ? (!strcmp(argv[4], "create") ? XATTR_CREATE : XATTR_REPLACE) : 0;

		return setxattr(argv[1], argv[2], argv[3], strlen(argv[3]), fl) ? fail() : 0;
	}
	if (!strcmp(argv[0], "xget") && argc >= 3) {
		n = getxattr(argv[1], argv[2], buf, sizeof(buf) - 1);
		if (n < 0)
			return fail();
		buf[n] = 0;
		printf("%s\n", buf);
		return 0;
	}
	if (!strcmp(argv[0], "xlist") && argc >= 2) {
		n = listxattr(argv[1], buf, sizeof(buf));
		if (n < 0)
			return fail();
		for (i = 0; i < n; i += strlen(buf + i) + 1)
			printf("%s\n", buf + i);
		return 0;
	}
	if (!strcmp(argv[0], "xrm") && argc >= 3)
		return removexattr(argv[1], argv[2]) ? fail() : 0;
	return 2;
}

static int mmapcat(const char *path)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return fail();
	p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail();
	fwrite(p, 1, st.st_size, stdout);
	munmap(p, st.st_size);
	close(fd);
	return 0;
}

static int seekcmd(char **argv)
{
	int whence = !strcmp(argv[2], "data") ? SEEK_DATA : !strcmp(argv[2], "hole") ? SEEK_HOLE : SEEK_END;
	int fd = open(argv[1], O_RDONLY);
	off_t r;

	if (fd < 0)
		return fail();
	r = lseek(fd, atoll(argv[3]), whence);
	if (r < 0)
		return fail();
	printf("%lld\n", (long long)r);
	return 0;
}

/* Open FILE for reading (a fifo: blocks until a writer opens), wait in poll(2) for
 * POLLIN (10 s at most), then print what one read(2) returns and the poll revents. */
static int pollread(const char *file)
{
	struct pollfd p = { .events = POLLIN };
	char buf[256];
	ssize_t n;
	int r;

	p.fd = open(file, O_RDONLY);
	if (p.fd < 0)
		return fail();
	r = poll(&p, 1, 10000);
	if (r < 0)
		return fail();
	if (r == 0) {
		printf("poll timed out\n");
		return 1;
	}
	n = read(p.fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return fail();
	buf[n] = 0;
	printf("revents=%s data=%s", (p.revents & POLLIN) ? "POLLIN" : "other", buf);
	close(p.fd);
	return 0;
}

/*
 * Readiness pushed by the server: an empty fifo is not ready, and a write made on the host
 * (asked for on stderr, which reaches the host through the serial console) wakes a poll
 * that is waiting. A write from this machine would wake it locally, without the server.
 * "late" when poll returned only at its timeout: poll calls ->poll once more then, which
 * finds the data without any wake-up having come.
 */
static int pollpush(const char *file)
{
	struct pollfd p = { .events = POLLIN };
	struct timespec t0, t1;
	int idle, ready;
	long ms;

	p.fd = open(file, O_RDWR);	/* both ends: the open does not wait */
	if (p.fd < 0)
		return fail();
	idle = poll(&p, 1, 300);
	fprintf(stderr, "QTFS-WRITE-FIFO\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ready = poll(&p, 1, 20000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("idle=%d ready=%s%s\n", idle, ready == 1 && (p.revents & POLLIN) ? "POLLIN" : "none",
	       ms >= 15000 ? " late" : "");
	close(p.fd);
	return 0;
}

/* Lists DIR without sorting or stopping at an error, which ls would hide. */
static int readdircmd(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	const char *sep = "";

	if (!d)
		return fail();
	printf("names=");
	for (errno = 0; (e = readdir(d)); errno = 0) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			printf("%s%s", sep, e->d_name);
			sep = ",";
		}
	}
	printf(" end=%d\n", errno);
	closedir(d);
	return 0;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s < 0 || strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	return connect(s, (struct sockaddr *)&a, sizeof(a)) ? -1 : s;
}

static int unixecho(const char *path, const char *msg)
{
	char buf[256];
	ssize_t n, got = 0;
	int s = unix_connect(path);

	if (s < 0 || write(s, msg, strlen(msg)) < 0 || shutdown(s, SHUT_WR))
		return fail();
	while ((n = read(s, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	if (n < 0)
		return fail();
	buf[got] = 0;
	printf("%s\n", buf);
	return 0;
}

/* One message of scm_peer.py's protocol: TEXT with FD (-1: none). */
static int send_with_fd(int s, const char *text, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(s, &m, 0) < 0 ? -1 : 0;
}

/* Receives one message into buf; returns the fd that came with it, or -1. */
static int recv_with_fd(int s, char *buf, size_t size)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(s, &m, 0);
	int fd = -1;

	buf[n > 0 ? n : 0] = 0;
	c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int scmfile(const char *path, const char *file)
{
	char buf[256], data[64];
	int fd = open(file, O_RDWR), s = unix_connect(path), back;
	ssize_t n;

	if (fd < 0 || s < 0 || lseek(fd, 4, SEEK_SET) != 4 || send_with_fd(s, "file", fd))
		return fail();
	close(fd);
	recv_with_fd(s, buf, sizeof(buf));
	printf("%s\n", buf);
	if (send_with_fd(s, "give", -1))
		return fail();
	back = recv_with_fd(s, buf, sizeof(buf));
	n = back >= 0 ? read(back, data, sizeof(data) - 1) : -1;
	data[n > 0 ? n : 0] = 0;
	printf("%s:%s\n", buf, back >= 0 ? data : "no-fd");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	argv++;
	argc--;
	if (!strcmp(cmd, "runas"))
		return runas(argc, argv);
	if (cmd[0] == 'x')
		return xattr_cmd(argc, argv);
	if (!strcmp(cmd, "excl") && argc >= 2) {
		int fd = open(argv[1], O_CREAT | O_EXCL | O_WRONLY, 0644);

		return fd < 0 ? fail() : (close(fd), 0);
	}
	if (!strcmp(cmd, "rename2") && argc >= 4)
		return renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2],
				 !strcmp(argv[3], "exchange") ? RENAME_EXCHANGE :
				 !strcmp(argv[3], "whiteout") ? RENAME_WHITEOUT : RENAME_NOREPLACE) ?
			fail() : 0;
	if (!strcmp(cmd, "mmapcat") && argc >= 2)
		return mmapcat(argv[1]);
	if (!strcmp(cmd, "seek") && argc >= 4)
		return seekcmd(argv);
	if (!strcmp(cmd, "pollread") && argc >= 2)
		return pollread(argv[1]);
	if (!strcmp(cmd, "pollpush") && argc >= 2)
		return pollpush(argv[1]);
	if (!strcmp(cmd, "readdir") && argc >= 2)
		return readdircmd(argv[1]);
	if (!strcmp(cmd, "unixecho") && argc >= 3)
		return unixecho(argv[1], argv[2]);
	if (!strcmp(cmd, "scmfile") && argc >= 3)
		return scmfile(argv[1], argv[2]);
	fprintf(stderr, "usage: see the comment at the top of vm-helper.c\n");
	return 2;
}
