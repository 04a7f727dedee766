// SPDX-License-Identifier: GPL-2.0
/*
 * notify-sink PATH: stand in for systemd's notification socket.  Binds a
 * unix datagram socket at PATH and prints every datagram received, one
 * per line (newlines inside become "|"), until SIGTERM.  Used by the
 * selftests to check READY=1, STATUS=, WATCHDOG=1 and RELOADING=1.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: notify-sink PATH\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		perror("notify-sink");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		ssize_t i;

		if (n < 0)
			continue;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n')
				buf[i] = '|';
		}
		buf[n] = '\0';
		printf("%s\n", buf);
		fflush(stdout);
	}
}
