/* SPDX-License-Identifier: MIT */
/* Test application on the HTTP core: echo, streamed upload to disk, sendfile, chunked stream,
   worker-thread answers and early refusal, driven by tests/integration; over HTTP and, with
   -a, over AJP13. */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http-server.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "random.h"
#include "worker-pool.h"

static const char *dir = "/tmp";
static struct worker_pool *workers;

struct upload {
	int fd;
	uint64_t size;
	uint32_t hash; /* FNV-1a of the body, so tests can check every byte arrived */
	bool failed;
};

struct stream {
	unsigned left;
	size_t size;
	char fill;
};

static uint64_t query_u64(const struct http_request *req, const char *name, uint64_t def)
{
	struct strv q = http_request_head(req)->query, pair;
	size_t nlen = strlen(name);
	while (q.len > 0) {
		strv_split(q, '&', &pair, &q);
		if (pair.len > nlen && memcmp(pair.ptr, name, nlen) == 0 && pair.ptr[nlen] == '=') {
			uint64_t v;
			if (strv_to_u64(strv_make(pair.ptr + nlen + 1, pair.len - nlen - 1), &v) ==
			    0)
				return v;
		}
	}
	return def;
}

static int upload_sink(void *ctx, const char *data, size_t len)
{
	struct upload *up = ctx;
	for (size_t i = 0; i < len; i++)
		up->hash = (up->hash ^ (unsigned char)data[i]) * 16777619u;
	up->size += len;
	while (len > 0) {
		ssize_t n = write(up->fd, data, len);
		if (n < 0) {
			up->failed = true;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void close_fd(void *ctx)
{
	close((int)(intptr_t)ctx);
}

static void on_head(struct http_request *req, void *ctx)
{
	const struct http_request_head *h = http_request_head(req);
	if (strv_eq_cstr(h->path, "/reject")) {
		http_response_error(req, 401, "TEST-0401", "refused before reading the body");
		return;
	}
	if (strv_eq_cstr(h->path, "/upload")) {
		struct pool *pool = http_request_pool(req);
		struct upload *up = pool_calloc(pool, 1, sizeof(*up));
		up->hash = 2166136261u;
		char *path = pool_printf(pool, "%s/upload.bin", dir);
		up->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (up->fd < 0) {
			http_response_error(req, 500, "TEST-0500", "cannot open upload file");
			return;
		}
		pool_add_cleanup(pool, close_fd, (void *)(intptr_t)up->fd);
		http_request_set_body_sink(req, upload_sink, up);
		http_request_set_context(req, up);
	}
}

static ssize_t stream_produce(void *ctx, char *buf, size_t size)
{
	struct stream *s = ctx;
	if (s->left == 0)
		return 0;
	s->left--;
	size_t n = s->size < size ? s->size : size;
	memset(buf, s->fill++, n);
	return (ssize_t)n;
}

static void slow_job(void *ctx)
{
	struct http_request *req = ctx;
	usleep((useconds_t)query_u64(req, "ms", 100) * 1000);
	int status = (int)query_u64(req, "status", 200);
	if (status == 204) {
		http_response_status(req, 204);
		http_response_send(req);
		return;
	}
	http_response_simple(req, status, "text/plain", "slow\n", 5);
}

static void on_request(struct http_request *req, void *ctx)
{
	const struct http_request_head *h = http_request_head(req);
	struct strv path = h->path;

	if (strv_eq_cstr(path, "/hello")) {
		http_response_simple(req, 200, "text/plain", "hello\n", 6);
	} else if (strv_eq_cstr(path, "/echo")) {
		struct strv body = http_request_body(req);
		http_response_header(
		    req, "X-Method",
		    pool_strndup(http_request_pool(req), h->method.ptr, h->method.len));
		http_response_simple(req, 200, "application/octet-stream", body.ptr, body.len);
	} else if (strv_eq_cstr(path, "/upload")) {
		struct upload *up = http_request_get_context(req);
		if (up->failed) {
			http_response_error(req, 507, "TEST-0507", "write failed");
			return;
		}
		http_response_status(req, 200);
		buf_printf(http_response_body(req), "{\"size\":%llu,\"fnv\":%u}\n",
		           (unsigned long long)up->size, up->hash);
		http_response_send(req);
	} else if (strv_eq_cstr(path, "/file")) {
		char *fpath = pool_printf(http_request_pool(req), "%s/upload.bin", dir);
		int fd = open(fpath, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			http_response_error(req, 404, "TEST-0404", "no file");
			return;
		}
		http_response_file(req, fd, 0, (uint64_t)st.st_size);
		http_response_send(req);
	} else if (strv_eq_cstr(path, "/stream")) {
		struct stream *s = pool_calloc(http_request_pool(req), 1, sizeof(*s));
		s->left = (unsigned)query_u64(req, "n", 3);
		s->size = (size_t)query_u64(req, "size", 10);
		s->fill = 'a';
		http_response_stream(req, stream_produce, s);
		http_response_send(req);
	} else if (strv_eq_cstr(path, "/slow")) {
		worker_pool_submit(workers, slow_job, req);
	} else {
		http_response_error(req, 404, "TEST-0404", "no such path");
	}
}

int main(int argc, char **argv)
{
	struct http_server_settings set = {.on_head = on_head, .on_request = on_request};
	const char *listen_addr = "127.0.0.1:0", *ajp_addr = NULL;
	int opt;

	http_limits_default(&set.limits);
	set.threads = 2;
	while ((opt = getopt(argc, argv, "l:a:d:t:b:B:H:I:T:")) != -1) {
		switch (opt) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'a': /* an AJP13 listener too, without a secret */
			ajp_addr = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			set.threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			set.limits.max_body = strtoull(optarg, NULL, 10);
			break;
		case 'B':
			set.limits.max_buffered_body = strtoull(optarg, NULL, 10);
			break;
		case 'H':
			set.limits.header_timeout_ms = strtoull(optarg, NULL, 10);
			break;
		case 'I':
			set.limits.idle_timeout_ms = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			set.limits.body_timeout_ms = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(
			    stderr,
			    "usage: http-test-server [-l addr] [-a ajp_addr] [-d dir] [-t threads] "
			    "[-b max_body] [-B max_buffered] [-H|-I|-T timeout_ms]\n");
			return 2;
		}
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	random_init();
	const char *error;
	if (log_init("test", LOG_INFO, NULL, &error) < 0)
		return 1;
	struct http_server *server = http_server_create(&set);
	if (http_server_listen(server, listen_addr, &error) < 0 ||
	    (ajp_addr != NULL && http_server_listen_ajp(server, ajp_addr, NULL, &error) < 0) ||
	    http_server_start(server, &error) < 0) {
		fprintf(stderr, "http-test-server: %s\n", error);
		return 1;
	}
	workers = worker_pool_create(4, "test");
	printf("listening on %s\n", http_server_address(server, 0));
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	unsigned cut = http_server_shutdown(server, 10000);
	worker_pool_destroy(&workers);
	http_server_destroy(&server);
	log_deinit();
	printf("stopped, %u cut\n", cut);
	return 0;
}
