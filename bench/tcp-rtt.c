/*
 * tcp-rtt: the round trip every network file system pays per request, measured alone.
 *
 *   tcp-rtt [-n rounds] [-c cpu]
 *
 * A parent and a forked child ping-pong 64-byte messages over a loopback TCP connection
 * (TCP_NODELAY, as qtfs uses), each side blocking in read(2) as a server loop and a
 * client thread do. With -c both processes are pinned to that CPU; otherwise the
 * scheduler places them (usually on different CPUs, so each wake-up crosses CPUs).
 * Prints "rtt <median µs over 10 batches>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define BATCHES 10

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int read_full(int fd, char *buf, int n)
{
	for (int got = 0; got < n;) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

static void no_delay(int fd)
{
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY");
}

static void echo_forever(int listener)
{
	char buf[MSG];
	int s = accept(listener, NULL, NULL);
	if (s < 0)
		die("accept");
	no_delay(s);
	while (read_full(s, buf, MSG) == 0)
		if (write(s, buf, MSG) != MSG)
			break;
	exit(0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long rounds = 20000;
	int cpu = -1, opt;

	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		if (opt == 'n')
			rounds = atol(optarg);
		else if (opt == 'c')
			cpu = atoi(optarg);
		else {
			fprintf(stderr, "usage: tcp-rtt [-n rounds] [-c cpu]\n");
			return 2;
		}
	}
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) /* inherited by the child */
			die("sched_setaffinity");
	}
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) < 0 || listen(listener, 1) < 0 ||
	    getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
		die("listen on 127.0.0.1");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0)
		echo_forever(listener);

	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, len) < 0)
		die("connect");
	no_delay(c);
	char buf[MSG];
	memset(buf, 'q', sizeof(buf));
	double per[BATCHES];
	for (int b = 0; b < BATCHES; b++) {
		long n = rounds / BATCHES;
		double t = now();
		for (long i = 0; i < n; i++)
			if (write(c, buf, MSG) != MSG || read_full(c, buf, MSG) < 0)
				die("ping-pong");
		per[b] = (now() - t) / n * 1e6;
	}
	close(c);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	qsort(per, BATCHES, sizeof(per[0]), cmp_double);
	printf("rtt %.1f\n", (per[BATCHES / 2 - 1] + per[BATCHES / 2]) / 2);
	return 0;
}
