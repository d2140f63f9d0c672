/* SPDX-License-Identifier: MIT */
/* Unit tests for the multistatus writer and the streamed answer: exact markup, escaping,
   well-formedness, and a real server streaming 100,000 responses to a slow client in bounded
   memory, a client that goes away, and a fill that fails. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "clock.h"
#include "dav-multistatus.h"
#include "dav-stream.h"
#include "http-server.h"
#include "test.h"
#include "worker-pool.h"

/* Parses out as XML (no DOCTYPE, no network) and counts its DAV:response elements; -1 when
   it is not well-formed. */
static int count_responses(struct strv xml)
{
	xmlDocPtr doc = xmlReadMemory(xml.ptr, (int)xml.len, NULL, NULL,
	                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return -1;
	int n = 0;
	xmlNode *root = xmlDocGetRootElement(doc);
	for (xmlNode *c = root->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
		    strcmp((const char *)c->ns->href, "DAV:") == 0 &&
		    strcmp((const char *)c->name, "response") == 0)
			n++;
	}
	xmlFreeDoc(doc);
	return n;
}

static void test_markup(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	dav_ms_begin(&b);
	dav_ms_response_begin(&b, "/dav/files/home/a b&c<d>/\xc3\xa9%");
	dav_ms_propstat_begin(&b);
	dav_ms_prop_text(&b, "DAV:", "displayname", STRV_LIT("a b&c<d> \"q\"\x01"));
	dav_ms_prop_dav_begin(&b, "resourcetype");
	buf_append_lit(&b, "<D:collection/>");
	dav_ms_prop_dav_end(&b, "resourcetype");
	dav_ms_prop_raw(&b,
	                STRV_LIT("<Z:Authors xmlns:Z=\"urn:z\" xml:lang=\"en\">Jim</Z:Authors>"));
	dav_ms_propstat_end(&b, 200);
	dav_ms_propstat_begin(&b);
	dav_ms_prop_empty(&b, "urn:x&y", "missing");
	dav_ms_prop_empty(&b, "", "bare");
	dav_ms_propstat_end(&b, 404);
	dav_ms_response_end(&b);
	dav_ms_response_status(&b, "/dav/files/home/locked", 423, "lock-token-submitted");
	dav_ms_response_status(&b, "/x", 424, NULL);
	dav_ms_end(&b);
	test_assert(!buf_overflowed(&b));
	test_assert_str_eq(
	    b.data,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<D:multistatus xmlns:D=\"DAV:\">\n"
	    "<D:response><D:href>/dav/files/home/a%20b%26c%3Cd%3E/%C3%A9%25</D:href>"
	    "<D:propstat><D:prop><D:displayname>a b&amp;c&lt;d&gt; &quot;q&quot;</D:displayname>"
	    "<D:resourcetype><D:collection/></D:resourcetype>"
	    "<Z:Authors xmlns:Z=\"urn:z\" xml:lang=\"en\">Jim</Z:Authors>"
	    "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
	    "<D:propstat><D:prop><missing xmlns=\"urn:x&amp;y\"/><bare xmlns=\"\"/></D:prop>"
	    "<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>\n"
	    "<D:response><D:href>/dav/files/home/locked</D:href>"
	    "<D:status>HTTP/1.1 423 Locked</D:status>"
	    "<D:error><D:lock-token-submitted/></D:error></D:response>\n"
	    "<D:response><D:href>/x</D:href>"
	    "<D:status>HTTP/1.1 424 Failed Dependency</D:status></D:response>\n"
	    "</D:multistatus>\n");
	test_assert_int_eq(count_responses(buf_strv(&b)), 3);

	buf_reset(&b);
	dav_error_body(&b, "propfind-finite-depth");
	test_assert_str_eq(b.data,
	                   "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                   "<D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>\n");
	test_assert_int_eq(count_responses(buf_strv(&b)), 0);
	test_assert_str_eq(http_status_reason(207), "Multi-Status");
	test_assert_str_eq(http_status_reason(422), "Unprocessable Content");
	test_assert_str_eq(http_status_reason(424), "Failed Dependency");

	/* every byte value in a name survives an href round trip through an XML parser */
	buf_reset(&b);
	char name[258];
	name[0] = '/';
	for (int i = 1; i < 256; i++)
		name[i] = (char)i;
	name[256] = '\0';
	dav_ms_begin(&b);
	dav_ms_response_status(&b, name, 200, NULL);
	dav_ms_end(&b);
	test_assert_int_eq(count_responses(buf_strv(&b)), 1);
	buf_free(&b);
}

/* ---------------------------------------------------------------- streaming */

#define HIGH_WATER (16 * 1024)
#define PER_FILL   50

static struct http_server *server;
static struct worker_pool *workers;
static unsigned short port;

/* What the current case's fill does, and what it saw; under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned total;      /* responses to write */
static unsigned fail_after; /* return ERROR once this many are written (0 = never) */
static unsigned written, fills;
static int finished; /* 0 not yet, 1 completed, 2 not completed */
static size_t peak;

static enum dav_fill_result fill(void *ctx, struct buf *out)
{
	pthread_mutex_lock(&lock);
	unsigned from = written, n = total - written < PER_FILL ? total - written : PER_FILL;
	unsigned fail = fail_after;
	fills++;
	pthread_mutex_unlock(&lock);
	if (fail != 0 && from >= fail)
		return DAV_FILL_ERROR;
	if (from == 0)
		dav_ms_begin(out);
	for (unsigned i = from; i < from + n; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/dav/files/home/big/file %06u.txt", i);
		dav_ms_response_begin(out, path);
		dav_ms_propstat_begin(out);
		dav_ms_prop_text(out, "DAV:", "getcontentlength", STRV_LIT("4096"));
		dav_ms_propstat_end(out, 200);
		dav_ms_response_end(out);
	}
	pthread_mutex_lock(&lock);
	written = from + n;
	pthread_mutex_unlock(&lock);
	if (from + n < total)
		return DAV_FILL_MORE;
	dav_ms_end(out);
	return DAV_FILL_DONE;
}

static void finish(void *ctx, bool completed)
{
	pthread_mutex_lock(&lock);
	finished = completed ? 1 : 2;
	pthread_mutex_unlock(&lock);
}

static void handle(void *ctx)
{
	struct http_request *req = ctx;
	static const struct dav_stream_settings set = {HIGH_WATER, &peak};
	http_response_status(req, 207);
	http_response_header(req, "Content-Type", "application/xml; charset=utf-8");
	dav_stream_start(req, workers, &set, fill, finish, NULL);
}

static void on_request(struct http_request *req, void *ctx)
{
	/* as tandemd does it: the handler runs on a worker */
	if (worker_pool_submit(workers, handle, req) < 0)
		http_response_simple(req, 503, NULL, NULL, 0);
}

static void start_case(unsigned n, unsigned fail)
{
	pthread_mutex_lock(&lock);
	total = n;
	fail_after = fail;
	written = fills = 0;
	finished = 0;
	peak = 0;
	pthread_mutex_unlock(&lock);
}

static int state(unsigned *written_r)
{
	pthread_mutex_lock(&lock);
	int f = finished;
	if (written_r != NULL)
		*written_r = written;
	pthread_mutex_unlock(&lock);
	return f;
}

static int wait_finished(void)
{
	uint64_t deadline = clock_mono_ms() + 20000;
	int f;
	while ((f = state(NULL)) == 0 && clock_mono_ms() < deadline)
		usleep(10 * 1000);
	return f;
}

static int client_send(const char *request)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rcvbuf = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct timeval tv = {.tv_sec = 20};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	test_assert(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	size_t len = strlen(request);
	test_assert(send(fd, request, len, MSG_NOSIGNAL) == (ssize_t)len);
	return fd;
}

static int client_connect(void)
{
	return client_send("PROPFIND /dav/files/home/big/ HTTP/1.1\r\nHost: x\r\nDepth: 1\r\n"
	                   "Connection: close\r\n\r\n");
}

/* Reads until EOF into all (head and chunked body as received). */
static void read_all(int fd, struct buf *all)
{
	char chunk[65536];
	ssize_t n;
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		buf_append(all, chunk, (size_t)n);
}

/* The body of a chunked response in raw; -1 when the chunking is broken or unfinished. */
static int dechunk(struct strv raw, struct buf *body)
{
	const char *end = memmem(raw.ptr, raw.len, "\r\n\r\n", 4);
	if (end == NULL)
		return -1;
	const char *p = end + 4, *stop = raw.ptr + raw.len;
	for (;;) {
		char *line_end;
		unsigned long size = strtoul(p, &line_end, 16);
		if (line_end + 2 > stop || line_end[0] != '\r' || line_end[1] != '\n')
			return -1;
		p = line_end + 2;
		if (size == 0)
			return p + 2 == stop ? 0 : -1;
		if ((size_t)(stop - p) < size + 2)
			return -1;
		buf_append(body, p, size);
		p += size + 2;
	}
}

static void test_stream_slow_client(void)
{
	struct buf all, body;
	unsigned w;
	buf_init(&all, 64 << 20);
	buf_init(&body, 64 << 20);
	start_case(100000, 0);
	int fd = client_connect();
	/* the client reads nothing for a while: the server must stop producing */
	usleep(500 * 1000);
	test_assert_int_eq(state(&w), 0);
	test_assert(w < 100000 / 2);
	read_all(fd, &all);
	close(fd);
	test_assert_int_eq(wait_finished(), 1);
	test_assert(strncmp(all.data, "HTTP/1.1 207 Multi-Status\r\n", 27) == 0);
	test_assert(strstr(all.data, "Transfer-Encoding: chunked\r\n") != NULL);
	test_assert_int_eq(dechunk(buf_strv(&all), &body), 0);
	test_assert(body.len > 10 * 1024 * 1024);
	test_assert_int_eq(count_responses(buf_strv(&body)), 100000);
	test_assert(strstr(body.data, "<D:href>/dav/files/home/big/file%20099999.txt</D:href>") !=
	            NULL);
	/* what was ever queued: the high-water mark plus one fill's piece */
	test_assert(peak > 0);
	test_assert(peak <= HIGH_WATER + PER_FILL * 200);
	buf_free(&all);
	buf_free(&body);
}

static void test_stream_client_leaves(void)
{
	char head[4096];
	unsigned w;
	start_case(100000, 0);
	int fd = client_connect();
	test_assert(recv(fd, head, sizeof(head), 0) > 0);
	close(fd);
	test_assert_int_eq(wait_finished(), 2);
	state(&w);
	test_assert(w < 100000);
	/* nothing runs after finish */
	pthread_mutex_lock(&lock);
	unsigned f = fills;
	pthread_mutex_unlock(&lock);
	usleep(100 * 1000);
	pthread_mutex_lock(&lock);
	test_assert_int_eq(fills, f);
	pthread_mutex_unlock(&lock);
}

static void test_stream_fill_fails(void)
{
	struct buf all, body;
	buf_init(&all, 64 << 20);
	buf_init(&body, 64 << 20);
	start_case(1000, 200);
	int fd = client_connect();
	read_all(fd, &all);
	close(fd);
	test_assert_int_eq(wait_finished(), 2);
	test_assert(strncmp(all.data, "HTTP/1.1 207 Multi-Status\r\n", 27) == 0);
	/* the body is cut: no last chunk, not well-formed */
	test_assert_int_eq(dechunk(buf_strv(&all), &body), -1);
	test_assert(strstr(all.data, "file%20000199.txt") != NULL);
	test_assert(strstr(all.data, "</D:multistatus>") == NULL);
	buf_free(&all);
	buf_free(&body);
}

static void test_stream_small(void)
{
	struct buf all, body;
	buf_init(&all, 1 << 20);
	buf_init(&body, 1 << 20);
	start_case(3, 0);
	int fd = client_connect();
	read_all(fd, &all);
	close(fd);
	test_assert_int_eq(wait_finished(), 1);
	test_assert_int_eq(dechunk(buf_strv(&all), &body), 0);
	test_assert_int_eq(count_responses(buf_strv(&body)), 3);
	buf_free(&all);
	buf_free(&body);
}

static void test_stream_head(void)
{
	struct buf all;
	buf_init(&all, 1 << 20);
	start_case(1000, 0);
	int fd = client_send("HEAD /dav/files/home/big/ HTTP/1.1\r\nHost: x\r\n"
	                     "Connection: close\r\n\r\n");
	read_all(fd, &all);
	close(fd);
	test_assert_int_eq(wait_finished(), 2);
	test_assert(strncmp(all.data, "HTTP/1.1 207 Multi-Status\r\n", 27) == 0);
	test_assert(strstr(all.data, "\r\n\r\n") == all.data + all.len - 4);
	pthread_mutex_lock(&lock);
	test_assert_int_eq(fills, 0);
	pthread_mutex_unlock(&lock);
	buf_free(&all);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"markup and escaping", test_markup},
	    {"stream to a slow client", test_stream_slow_client},
	    {"stream to a client that leaves", test_stream_client_leaves},
	    {"stream whose fill fails", test_stream_fill_fails},
	    {"small stream", test_stream_small},
	    {"HEAD calls no fill", test_stream_head},
	    {NULL, NULL},
	};
	struct http_server_settings set = {.threads = 1, .on_request = on_request};
	const char *error;
	http_limits_default(&set.limits);
	workers = worker_pool_create(2, "dav-test");
	server = http_server_create(&set);
	if (http_server_listen(server, "127.0.0.1:0", &error) < 0 ||
	    http_server_start(server, &error) < 0) {
		fprintf(stderr, "server: %s\n", error);
		return 1;
	}
	const char *a = http_server_address(server, 0);
	port = (unsigned short)strtoul(strrchr(a, ':') + 1, NULL, 10);
	int code = test_run(cases);
	http_server_shutdown(server, 5000);
	http_server_destroy(&server);
	worker_pool_destroy(&workers);
	xmlCleanupParser();
	return code;
}
