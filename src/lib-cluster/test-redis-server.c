/* SPDX-License-Identifier: MIT */
/* A redis-server child process for unit tests (see test-redis-server.h). */
#include "test-redis-server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "redis.h"

static pid_t redis_pid = -1;
static uint16_t redis_port;
static redisContext *admin;
static const char *const *extra_args;

void test_redis_set_args(const char *const *args)
{
	extra_args = args;
}

uint16_t test_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		printf("Bail out! cannot find a free port: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	return ntohs(sa.sin_port);
}

void test_sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint16_t test_redis_port(void)
{
	return redis_port;
}

void test_redis_start(void)
{
	char port[16];
	/* as in the daemons: a write to a connection Redis (or a stop) closed must fail with
	   EPIPE, not kill the test */
	signal(SIGPIPE, SIG_IGN);
	if (redis_port == 0)
		redis_port = test_free_port();
	snprintf(port, sizeof(port), "%u", redis_port);
	fflush(stdout);
	redis_pid = fork();
	if (redis_pid < 0) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (redis_pid == 0) {
		/* dies with the test, even when the test crashes */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		const char *argv[64] = {"redis-server", "--port",      port, "--bind",
		                        "127.0.0.1",    "--save",      "",   "--appendonly",
		                        "no",           "--daemonize", "no"};
		size_t argc = 11;
		for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && argc < 63; i++)
			argv[argc++] = extra_args[i];
		argv[argc] = NULL;
		execvp("redis-server", (char *const *)argv);
		fprintf(stderr, "cannot run redis-server: %s\n", strerror(errno));
		_exit(127);
	}
	uint64_t deadline = clock_mono_ms() + 10000;
	while (clock_mono_ms() < deadline) {
		int status;
		if (waitpid(redis_pid, &status, WNOHANG) == redis_pid) {
			redis_pid = -1;
			printf("Bail out! redis-server did not start (exit %d): is it installed? "
			       "Run scripts/deps.sh\n",
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			exit(1);
		}
		struct timeval tv = {0, 200000};
		redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
		if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK) {
			redisReply *r = redisCommand(c, "PING");
			bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
			if (r != NULL)
				freeReplyObject(r);
			if (ok) {
				struct timeval cmd_tv = {5, 0};
				redisSetTimeout(c, cmd_tv);
				if (admin != NULL)
					redisFree(admin);
				admin = c;
				return;
			}
		}
		if (c != NULL)
			redisFree(c);
		test_sleep_ms(20);
	}
	printf("Bail out! redis-server on port %u does not answer PING\n", redis_port);
	kill(redis_pid, SIGKILL);
	exit(1);
}

void test_redis_signal(int sig)
{
	if (redis_pid <= 0)
		return;
	kill(redis_pid, sig);
	if (sig == SIGSTOP || sig == SIGCONT)
		return;
	waitpid(redis_pid, NULL, 0);
	redis_pid = -1;
}

struct redis_pool *test_redis_pool(unsigned timeout_ms)
{
	char url[64];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%u", redis_port);
	struct redis_url u;
	const char *error;
	if (redis_url_parse(url, &u, &error) < 0) {
		printf("Bail out! %s\n", error);
		exit(1);
	}
	struct redis_settings set;
	redis_settings_default(&set);
	set.timeout_ms = timeout_ms;
	return redis_pool_create(&u, &set);
}

redisReply *test_redis_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(admin, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		printf("Bail out! admin connection: %s\n", admin->errstr);
		exit(1);
	}
	return r;
}

void test_redis_stop(void)
{
	if (admin != NULL)
		redisFree(admin);
	admin = NULL;
	test_redis_signal(SIGTERM);
}
