/* SPDX-License-Identifier: MIT */
/* Structured logfmt logging with one write(2) per line so concurrent lines never interleave. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "mem.h"

#define LOG_LINE_MAX 8192
/* Kept free at the end of a line for the ellipsis, closing quote and newline. */
#define LOG_TAIL_RESERVE 8
#define LOG_NODE_MAX     64

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static struct {
	/* The fd number never changes while logging to a file: log_reopen dup2()s the new file
	   onto it, so writers need no lock and always hit either the old or the new file. */
	atomic_int fd;
	atomic_int level;
	char node[LOG_NODE_MAX]; /* read unlocked: log_init runs before threads start */
	char *path;
	pthread_mutex_t lock; /* serialises init/reopen/deinit, never taken by writers */
} log_state = {
    .fd = STDERR_FILENO,
    .level = LOG_INFO,
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static __thread const char *log_request_id;
static log_tee_fn *log_tee;
static void *log_tee_ctx;

void log_set_tee(log_tee_fn *fn, void *ctx)
{
	log_tee = fn;
	log_tee_ctx = ctx;
}
static __thread char log_error_buf[512];

static const char *set_error(const char *what, const char *path, int err)
{
	snprintf(log_error_buf, sizeof(log_error_buf), "%s(%s): %s", what, path, strerror(err));
	return log_error_buf;
}

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int log_init(const char *node, enum log_level level, const char *path, const char **error_r)
{
	int fd = STDERR_FILENO, old_fd;

	if (path != NULL) {
		fd = open_log(path);
		if (fd < 0) {
			*error_r = set_error("open", path, errno);
			return -1;
		}
	}
	pthread_mutex_lock(&log_state.lock);
	snprintf(log_state.node, sizeof(log_state.node), "%s", node == NULL ? "" : node);
	mem_free(&log_state.path);
	if (path != NULL)
		log_state.path = mem_strdup(path);
	atomic_store(&log_state.level, (int)level);
	old_fd = atomic_exchange(&log_state.fd, fd);
	if (old_fd != STDERR_FILENO && old_fd != fd)
		close(old_fd);
	pthread_mutex_unlock(&log_state.lock);
	return 0;
}

void log_deinit(void)
{
	int old_fd;

	/* Only for shutdown: a thread still logging could write to the closed fd number. */
	pthread_mutex_lock(&log_state.lock);
	old_fd = atomic_exchange(&log_state.fd, STDERR_FILENO);
	if (old_fd != STDERR_FILENO)
		close(old_fd);
	mem_free(&log_state.path);
	log_state.node[0] = '\0';
	pthread_mutex_unlock(&log_state.lock);
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_state.level, (int)level);
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load_explicit(&log_state.level, memory_order_relaxed);
}

int log_reopen(const char **error_r)
{
	int ret = -1, fd;

	pthread_mutex_lock(&log_state.lock);
	if (log_state.path == NULL) {
		ret = 0;
		goto out;
	}
	fd = open_log(log_state.path);
	if (fd < 0) {
		*error_r = set_error("open", log_state.path, errno);
		goto out;
	}
	if (dup2(fd, atomic_load(&log_state.fd)) < 0) {
		*error_r = set_error("dup2", log_state.path, errno);
		close(fd);
		goto out;
	}
	close(fd);
	ret = 0;
out:
	pthread_mutex_unlock(&log_state.lock);
	return ret;
}

int log_parse_level(const char *s, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_request_id(const char *id)
{
	log_request_id = id;
}

/* Appends s escaped for a quoted logfmt value; returns false if it had to stop early. Each
   escape is appended whole so a cut line never ends in a dangling backslash. */
static bool append_escaped(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4] = {'\\', 0, 0, 0};
		size_t n = 2;

		/* a run that needs no escape goes in one append (or up to the cap) */
		size_t run = i;
		while (run < len && (unsigned char)s[run] >= 0x20 && s[run] != '"' &&
		       s[run] != '\\' && s[run] != 0x7f)
			run++;
		if (run > i) {
			size_t room = b->max_len - b->len;
			if (run - i > room) {
				buf_append(b, s + i, room);
				return false;
			}
			buf_append(b, s + i, run - i);
			i = run - 1;
			continue;
		}

		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default: /* the other controls and DEL */
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 0xf];
			n = 4;
			break;
		}
		if (b->max_len - b->len < n)
			return false;
		buf_append(b, esc, n);
	}
	return true;
}

static bool bare_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+';
}

static bool is_bare(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!bare_char((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* Field values come from config or peers (request ids), so anything unusual gets quoted. */
void log_append_field(struct buf *b, const char *name, struct strv value)
{
	buf_append_char(b, ' ');
	buf_append_str(b, name);
	buf_append_char(b, '=');
	if (is_bare(value.ptr, value.len)) {
		buf_append_strv(b, value);
		return;
	}
	buf_append_char(b, '"');
	append_escaped(b, value.ptr == NULL ? "" : value.ptr, value.len);
	buf_append_char(b, '"');
}

static void append_field(struct buf *b, const char *name, const char *value)
{
	log_append_field(b, name, strv_from_cstr(value));
}

/* Length of s[0..len) without a trailing incomplete UTF-8 sequence. */
static size_t utf8_trim_partial(const char *s, size_t len)
{
	size_t i = len, cont = 0, need;
	unsigned char lead;

	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
		return len;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	return cont + 1 < need ? i - 1 : len;
}

void log_vmsg(enum log_level level, const char *comp, const char *fmt, va_list args)
{
	int saved_errno = errno;
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX], ts[32];
	const char *req = log_request_id;
	struct buf b;
	size_t msg_len, off = 0;
	bool cut;
	int n, fd;

	if (!log_enabled(level))
		return;
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		level = LOG_ERROR;

	/* Format first so %m still sees the caller's errno. */
	errno = saved_errno;
	n = vsnprintf(msg, sizeof(msg), fmt, args);
	if (n < 0)
		n = 0;
	msg_len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	cut = (size_t)n >= sizeof(msg);

	clock_format_rfc3339(clock_wall_ms(), ts, sizeof(ts));
	buf_init_fixed(&b, line, sizeof(line) - LOG_TAIL_RESERVE);
	buf_printf(&b, "ts=%s ", ts);
	size_t level_at = b.len;
	buf_printf(&b, "level=%s", level_names[level]);
	if (log_state.node[0] != '\0')
		append_field(&b, "node", log_state.node);
	append_field(&b, "comp", comp == NULL ? "-" : comp);
	if (req != NULL)
		append_field(&b, "req", req);
	buf_append_str(&b, " msg=\"");
	if (!append_escaped(&b, msg, msg_len) || cut) {
		b.len = utf8_trim_partial(line, b.len);
		memcpy(line + b.len, "\xe2\x80\xa6", 3); /* U+2026 HORIZONTAL ELLIPSIS */
		b.len += 3;
	}
	line[b.len++] = '"';
	if (log_tee != NULL)
		log_tee(level, line + level_at, b.len - level_at, log_tee_ctx);
	line[b.len++] = '\n';

	fd = atomic_load_explicit(&log_state.fd, memory_order_relaxed);
	while (off < b.len) {
		ssize_t w = write(fd, line + off, b.len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* nowhere left to report it */
		}
		off += (size_t)w;
	}
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *comp, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	log_vmsg(level, comp, fmt, args);
	va_end(args);
}
