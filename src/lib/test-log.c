/* SPDX-License-Identifier: MIT */
/* Unit tests for logfmt logging: format, escaping, truncation, reopen and threads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

#define FILE_MAX  (1024 * 1024)
#define LINES_MAX 8192

static char log_path[64];
static char rotated_path[80];
static char contents[FILE_MAX];
static const char *lines[LINES_MAX];
static size_t line_count;

static void open_temp_log(const char *node, enum log_level level)
{
	const char *error = NULL;
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/tandem-test-log-XXXXXX");
	fd = mkstemp(log_path);
	test_assert(fd >= 0);
	close(fd);
	snprintf(rotated_path, sizeof(rotated_path), "%s.1", log_path);
	test_assert(log_init(node, level, log_path, &error) == 0);
}

static void close_temp_log(void)
{
	log_deinit();
	unlink(log_path);
	unlink(rotated_path);
}

/* Checks the fixed shape of a line (without its '\n') and returns what follows the
   timestamp, e.g. "level=info comp=x msg=\"...\"". */
static const char *after_ts(const char *line)
{
	static const char shape[] = "0000-00-00T00:00:00.000Z ";
	size_t len = strlen(line);

	if (len < 30 || memcmp(line, "ts=", 3) != 0 || line[len - 1] != '"') {
		test__fail(__FILE__, __LINE__, line);
		return "";
	}
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		char c = line[3 + i];

		if (shape[i] == '0' ? c < '0' || c > '9' : c != shape[i]) {
			test__fail(__FILE__, __LINE__, line);
			return "";
		}
	}
	return line + 3 + sizeof(shape) - 1;
}

/* Reads a whole log file and splits it into lines; every line must end in '\n'. */
static void slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;
	ssize_t n;
	char *p;

	line_count = 0;
	test_assert(fd >= 0);
	if (fd < 0)
		return;
	while ((n = read(fd, contents + len, sizeof(contents) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	contents[len] = '\0';
	test_assert(len == 0 || contents[len - 1] == '\n');
	for (p = contents; *p != '\0' && line_count < LINES_MAX;) {
		char *nl = strchr(p, '\n');

		if (nl == NULL)
			break;
		*nl = '\0';
		lines[line_count++] = p;
		p = nl + 1;
	}
}

static void test_format(void)
{
	open_temp_log("OX-1", LOG_INFO);
	log_info("http", "listening on %s", "0.0.0.0:8080");
	log_set_request_id("5f3a-9");
	log_error("dav", "PUT failed: %d", 507);
	log_set_request_id(NULL);
	log_warn(NULL, "no component");
	slurp(log_path);
	test_assert_int_eq(line_count, 3);
	if (line_count == 3) {
		test_assert_str_eq(
		    after_ts(lines[0]),
		    "level=info node=OX-1 comp=http msg=\"listening on 0.0.0.0:8080\"");
		test_assert_str_eq(
		    after_ts(lines[1]),
		    "level=error node=OX-1 comp=dav req=5f3a-9 msg=\"PUT failed: 507\"");
		test_assert_str_eq(after_ts(lines[2]),
		                   "level=warn node=OX-1 comp=- msg=\"no component\"");
	}
	close_temp_log();

	/* no node: the field is left out */
	open_temp_log(NULL, LOG_INFO);
	log_info("x", "y");
	slurp(log_path);
	test_assert_int_eq(line_count, 1);
	if (line_count == 1)
		test_assert_str_eq(after_ts(lines[0]), "level=info comp=x msg=\"y\"");
	close_temp_log();
}

static int side_effects;

static const char *counted(void)
{
	side_effects++;
	return "arg";
}

static void test_levels(void)
{
	enum log_level level = LOG_ERROR;

	open_temp_log("n", LOG_WARN);
	test_assert(!log_enabled(LOG_INFO));
	test_assert(log_enabled(LOG_WARN));
	side_effects = 0;
	log_debug("c", "%s", counted());
	test_assert_int_eq(side_effects, 0);
	log_info("c", "hidden");
	log_warn("c", "shown");
	log_set_level(LOG_DEBUG);
	log_debug("c", "%s", counted());
	test_assert_int_eq(side_effects, 1);
	slurp(log_path);
	test_assert_int_eq(line_count, 2);
	if (line_count == 2) {
		test_assert_str_eq(after_ts(lines[0]), "level=warn node=n comp=c msg=\"shown\"");
		test_assert_str_eq(after_ts(lines[1]), "level=debug node=n comp=c msg=\"arg\"");
	}
	close_temp_log();

	test_assert(log_parse_level("debug", &level) == 0 && level == LOG_DEBUG);
	test_assert(log_parse_level("WARN", &level) == 0 && level == LOG_WARN);
	test_assert(log_parse_level("error", &level) == 0 && level == LOG_ERROR);
	test_assert(log_parse_level("info", &level) == 0 && level == LOG_INFO);
	test_assert(log_parse_level("verbose", &level) < 0);
	test_assert(log_parse_level("", &level) < 0);
}

static void test_escaping(void)
{
	open_temp_log("node one", LOG_INFO);
	log_set_request_id("evil\" req=forged\n");
	log_info("comp", "quote\" back\\slash\nnew\rret\ttab\x01\x7f end \xc3\xa9");
	log_set_request_id(NULL);
	slurp(log_path);
	test_assert_int_eq(line_count, 1);
	if (line_count == 1)
		test_assert_str_eq(
		    after_ts(lines[0]),
		    "level=info node=\"node one\" comp=comp "
		    "req=\"evil\\\" req=forged\\n\" "
		    "msg=\"quote\\\" back\\\\slash\\nnew\\rret\\ttab\\x01\\x7f end \xc3\xa9\"");
	close_temp_log();
}

static void test_errno(void)
{
	open_temp_log(NULL, LOG_INFO);
	errno = ENOENT;
	log_info("io", "open: %m");
	test_assert_int_eq(errno, ENOENT);
	slurp(log_path);
	test_assert_int_eq(line_count, 1);
	if (line_count == 1)
		test_assert_str_eq(after_ts(lines[0]),
		                   "level=info comp=io msg=\"open: No such file or directory\"");
	close_temp_log();
}

static void test_truncation(void)
{
	static char big[20000];
	size_t len;

	open_temp_log("n", LOG_INFO);
	memset(big, 'x', sizeof(big) - 1);
	log_info("c", "%s", big);
	/* two-byte characters: the cut must not split one */
	for (size_t i = 0; i + 1 < sizeof(big) - 1; i += 2) {
		big[i] = '\xc3';
		big[i + 1] = '\xa9';
	}
	big[sizeof(big) - 2] = '\0';
	log_info("c", "%s", big);
	/* escapes expand the message; it must still be cut cleanly */
	memset(big, '\n', sizeof(big) - 1);
	log_info("c", "%s", big);
	slurp(log_path);
	test_assert_int_eq(line_count, 3);
	for (size_t i = 0; i < line_count; i++) {
		len = strlen(lines[i]);
		test_assert(len + 1 <= 8192);
		test_assert(len > 8000);
		test_assert(len > 5 && memcmp(lines[i] + len - 4, "\xe2\x80\xa6\"", 4) == 0);
		after_ts(lines[i]);
	}
	if (line_count == 3) {
		len = strlen(lines[1]);
		test_assert(memcmp(lines[1] + len - 6, "\xc3\xa9", 2) == 0);
		len = strlen(lines[2]);
		test_assert(memcmp(lines[2] + len - 6, "\\n", 2) == 0);
	}
	close_temp_log();
}

static void test_reopen(void)
{
	const char *error = NULL;

	open_temp_log("n", LOG_INFO);
	log_info("c", "before");
	test_assert(rename(log_path, rotated_path) == 0);
	log_info("c", "still old");
	test_assert(log_reopen(&error) == 0);
	log_info("c", "after");
	slurp(rotated_path);
	test_assert_int_eq(line_count, 2);
	slurp(log_path);
	test_assert_int_eq(line_count, 1);
	if (line_count == 1)
		test_assert_str_eq(after_ts(lines[0]), "level=info node=n comp=c msg=\"after\"");

	/* the old name cannot be created: reopen fails and logging carries on */
	test_assert(unlink(log_path) == 0);
	test_assert(mkdir(log_path, 0700) == 0);
	error = NULL;
	test_assert(log_reopen(&error) < 0);
	test_assert(error != NULL && strstr(error, log_path) != NULL);
	rmdir(log_path);
	close_temp_log();

	/* logging to stderr: nothing to reopen */
	test_assert(log_init(NULL, LOG_INFO, NULL, &error) == 0);
	test_assert(log_reopen(&error) == 0);
	log_deinit();

	error = NULL;
	test_assert(log_init(NULL, LOG_INFO, "/nonexistent-dir/x.log", &error) < 0);
	test_assert(error != NULL && strstr(error, "/nonexistent-dir/x.log") != NULL);
}

#define THREADS          8
#define LINES_PER_THREAD 400

static void *log_thread(void *arg)
{
	char req[16];
	int id = (int)(long)arg;

	snprintf(req, sizeof(req), "t%d", id);
	log_set_request_id(req);
	for (int i = 0; i < LINES_PER_THREAD; i++)
		log_info("thr", "thread %d line %d padding padding padding padding", id, i);
	log_set_request_id(NULL);
	return NULL;
}

static void check_thread_lines(int *per_thread)
{
	for (size_t i = 0; i < line_count; i++) {
		int id = -1, id2 = -2, n = -1;

		if (sscanf(after_ts(lines[i]),
		           "level=info comp=thr req=t%d msg=\"thread %d line %d", &id, &id2,
		           &n) != 3 ||
		    id != id2 || id < 0 || id >= THREADS) {
			test__fail(__FILE__, __LINE__, lines[i]);
			continue;
		}
		per_thread[id]++;
	}
}

static void test_threads(void)
{
	pthread_t threads[THREADS];
	int per_thread[THREADS] = {0};
	const char *error;

	open_temp_log(NULL, LOG_INFO);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&threads[i], NULL, log_thread, (void *)i);
	/* rotate while the threads are writing: every line lands whole in one of the files */
	usleep(1000);
	test_assert(rename(log_path, rotated_path) == 0);
	test_assert(log_reopen(&error) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	slurp(log_path);
	check_thread_lines(per_thread);
	slurp(rotated_path);
	check_thread_lines(per_thread);
	for (int i = 0; i < THREADS; i++)
		test_assert_int_eq(per_thread[i], LINES_PER_THREAD);
	close_temp_log();
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"line format", test_format},
	    {"levels", test_levels},
	    {"escaping keeps one line", test_escaping},
	    {"errno and %m", test_errno},
	    {"long messages are truncated", test_truncation},
	    {"reopen after rotation", test_reopen},
	    {"threads and rotation", test_threads},
	    {NULL, NULL},
	};

	return test_run(cases);
}
