// SPDX-License-Identifier: GPL-2.0
/*
 * Two TCP listeners on 127.0.0.1 for tests/host.sh, never accepting:
 * "open" (backlog 4096: the kernel completes handshakes, a probe
 * answers) and "full" (backlog 0: once one connection waits, SYNs are
 * dropped and a probe hangs until its timeout).  Prints "OPEN FULL"
 * (the ports) and waits to be killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int listener(int backlog, unsigned int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, backlog) || getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("tcp_sink");
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int main(void)
{
	unsigned int open_port, full_port;

	if (listener(4096, &open_port) < 0 || listener(0, &full_port) < 0)
		return 1;
	printf("%u %u\n", open_port, full_port);
	fflush(stdout);
	for (;;)
		pause();
}
