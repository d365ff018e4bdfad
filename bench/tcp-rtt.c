/*
 * tcp-rtt: the round trip every network file system pays per request, measured alone.
 *
 *   tcp-rtt [-n rounds] [-c cpu]
 *   tcp-rtt -s port                 echo server on 127.0.0.1:port, one client at a time
 *   tcp-rtt [-n rounds] -a ip:port  ping-pong against such a server (the kmod VM guest
 *                                   reaches the host's at 10.0.2.2)
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

/* Echoes one client's messages until it closes. */
static void echo_client(int listener)
{
	char buf[MSG];
	int s = accept(listener, NULL, NULL);
	if (s < 0)
		die("accept");
	no_delay(s);
	while (read_full(s, buf, MSG) == 0)
		if (write(s, buf, MSG) != MSG)
			break;
	close(s);
}

static int listen_loopback(int port, struct sockaddr_in *addr, socklen_t *len)
{
	int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0);
	*addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	*len = sizeof(*addr);
	if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(listener, (struct sockaddr *)addr, *len) < 0 || listen(listener, 1) < 0 ||
	    getsockname(listener, (struct sockaddr *)addr, len) < 0)
		die("listen on 127.0.0.1");
	return listener;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median µs per round trip over BATCHES batches of rounds/BATCHES ping-pongs on c. */
static double ping_pong(int c, long rounds)
{
	char buf[MSG];
	double per[BATCHES];

	no_delay(c);
	memset(buf, 'q', sizeof(buf));
	for (int b = 0; b < BATCHES; b++) {
		long n = rounds / BATCHES;
		double t = now();
		for (long i = 0; i < n; i++)
			if (write(c, buf, MSG) != MSG || read_full(c, buf, MSG) < 0)
				die("ping-pong");
		per[b] = (now() - t) / n * 1e6;
	}
	qsort(per, BATCHES, sizeof(per[0]), cmp_double);
	return (per[BATCHES / 2 - 1] + per[BATCHES / 2]) / 2;
}

static int connect_to(const char *ip_port)
{
	char ip[64];
	int port, c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET };

	if (sscanf(ip_port, "%63[^:]:%d", ip, &port) != 2 || inet_pton(AF_INET, ip, &addr.sin_addr) != 1) {
		fprintf(stderr, "tcp-rtt: -a wants IP:PORT, not %s\n", ip_port);
		exit(2);
	}
	addr.sin_port = htons(port);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
	return c;
}

int main(int argc, char **argv)
{
	long rounds = 20000;
	int cpu = -1, serve_port = -1, opt;
	const char *server = NULL;

	while ((opt = getopt(argc, argv, "n:c:s:a:")) != -1) {
		if (opt == 'n')
			rounds = atol(optarg);
		else if (opt == 'c')
			cpu = atoi(optarg);
		else if (opt == 's')
			serve_port = atoi(optarg);
		else if (opt == 'a')
			server = optarg;
		else {
			fprintf(stderr, "usage: tcp-rtt [-n rounds] [-c cpu] | -s port | [-n rounds] -a ip:port\n");
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
	struct sockaddr_in addr;
	socklen_t len;
	if (serve_port >= 0) {
		int listener = listen_loopback(serve_port, &addr, &len);
		for (;;)
			echo_client(listener);
	}
	if (server) {
		printf("rtt %.1f\n", ping_pong(connect_to(server), rounds));
		return 0;
	}
	int listener = listen_loopback(0, &addr, &len);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		echo_client(listener);
		exit(0);
	}
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, len) < 0)
		die("connect");
	double rtt = ping_pong(c, rounds);
	close(c);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	printf("rtt %.1f\n", rtt);
	return 0;
}
