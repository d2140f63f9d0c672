/* SPDX-License-Identifier: MIT */
/* Strict request-head parser: anything ambiguous is rejected, never guessed at. */
#include "http-parser.h"

#include <string.h>

#include "http-parser-private.h"

#define MAX_METHOD_LEN          64
#define MAX_LEADING_EMPTY_LINES 2

void http_limits_default(struct http_limits *l)
{
	l->max_line = 8 * 1024;
	l->max_header_bytes = 32 * 1024;
	l->max_headers = 100;
	l->max_body = 1024ull * 1024 * 1024;
	l->max_buffered_body = 1024 * 1024;
	l->idle_timeout_ms = 60000;
	l->header_timeout_ms = 10000;
	l->body_timeout_ms = 30000;
}

/* Byte classes, one table lookup per byte on the hot path. */
enum {
	C_TCHAR = 0x01, /* RFC 9110 token character */
	C_HOST = 0x02,  /* may appear in a Host / authority (reg-name, IP literal, port) */
	C_CTL = 0x04,   /* control byte other than HTAB, or DEL: never valid in a head */
	C_EOL = 0x08,   /* CR or LF */
};

static const unsigned char byte_class[256] = {
#define R3(c, v)  [c] = (v), [c + 1] = (v), [c + 2] = (v)
#define DIGITS(v) R3('0', v), R3('3', v), R3('6', v), ['9'] = (v)
#define LOWER(v)                                                                                   \
	R3('a', v), R3('d', v), R3('g', v), R3('j', v), R3('m', v), R3('p', v), R3('s', v),        \
	    R3('v', v), ['y'] = (v), ['z'] = (v)
#define UPPER(v)                                                                                   \
	R3('A', v), R3('D', v), R3('G', v), R3('J', v), R3('M', v), R3('P', v), R3('S', v),        \
	    R3('V', v), ['Y'] = (v), ['Z'] = (v)
    DIGITS(C_TCHAR | C_HOST), LOWER(C_TCHAR | C_HOST),  UPPER(C_TCHAR | C_HOST),
    ['!'] = C_TCHAR | C_HOST, ['#'] = C_TCHAR,          ['$'] = C_TCHAR | C_HOST,
    ['%'] = C_TCHAR | C_HOST, ['&'] = C_TCHAR | C_HOST, ['\''] = C_TCHAR | C_HOST,
    ['*'] = C_TCHAR | C_HOST, ['+'] = C_TCHAR | C_HOST, ['-'] = C_TCHAR | C_HOST,
    ['.'] = C_TCHAR | C_HOST, ['^'] = C_TCHAR,          ['_'] = C_TCHAR | C_HOST,
    ['`'] = C_TCHAR,          ['|'] = C_TCHAR,          ['~'] = C_TCHAR | C_HOST,
    ['('] = C_HOST,           [')'] = C_HOST,           [';'] = C_HOST,
    ['='] = C_HOST,           [':'] = C_HOST,           ['['] = C_HOST,
    [']'] = C_HOST,           R3(0x00, C_CTL),          R3(0x03, C_CTL),
    R3(0x06, C_CTL),          [0x0b] = C_CTL,           [0x0c] = C_CTL,
    R3(0x0e, C_CTL),          R3(0x11, C_CTL),          R3(0x14, C_CTL),
    R3(0x17, C_CTL),          R3(0x1a, C_CTL),          R3(0x1d, C_CTL),
    [0x7f] = C_CTL,           ['\r'] = C_EOL,           ['\n'] = C_EOL,
#undef R3
#undef DIGITS
#undef LOWER
#undef UPPER
};

bool http_is_tchar(unsigned char c)
{
	return byte_class[c] & C_TCHAR;
}

void http_request_parser_init(struct http_request_parser *p, const struct http_limits *limits)
{
	memset(p, 0, sizeof(*p));
	p->limits = limits;
}

struct strv http_parser__find_header(const struct http_header *headers, size_t count,
                                     const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strv_eq_ci_cstr(headers[i].name, name))
			return headers[i].value;
	}
	return STRV_NULL;
}

struct strv http_request_head_header(const struct http_request_head *head, const char *name)
{
	return http_parser__find_header(head->headers, head->header_count, name);
}

#define FAIL(status, msg)                                                                          \
	do {                                                                                       \
		*status_r = (status);                                                              \
		*error_r = (msg);                                                                  \
		return HTTP_PARSE_ERROR;                                                           \
	} while (0)

#define SCAN_FAIL(code)                                                                            \
	do {                                                                                       \
		*error_r = (code);                                                                 \
		return HTTP_PARSE_ERROR;                                                           \
	} while (0)

/* Checks framing bytes as they arrive so that bare CR/LF, control bytes and over-long lines are
   refused at once instead of after a timeout. */
enum http_parse_status http_parser__scan(struct http_head_scan *s, unsigned max_leading_empty_lines,
                                         const char *buf, size_t len, size_t *end_r,
                                         enum http_parser__scan_error *error_r)
{
	const struct http_limits *lim = s->limits;

	size_t i = s->scanned;
	while (i < len) {
		if (s->prev_cr) {
			if (buf[i++] != '\n')
				SCAN_FAIL(HTTP_PARSER__BARE_CR);
			if (i - s->head_start > lim->max_header_bytes)
				SCAN_FAIL(HTTP_PARSER__HEAD_TOO_LARGE);
			s->prev_cr = false;
			if (s->line_len > 0) {
				s->lines++;
				s->line_len = 0;
			} else if (s->lines == 0) {
				/* RFC 9112 2.2 lets a server skip a few empty lines before a
				   request; a response gets none (max 0). */
				if (i > 2 * (size_t)max_leading_empty_lines)
					SCAN_FAIL(HTTP_PARSER__LEADING_EMPTY_LINES);
				s->head_start = i;
			} else {
				s->scanned = i;
				*end_r = i;
				return HTTP_PARSE_OK;
			}
			continue;
		}
		/* Fast path over ordinary bytes: CR, LF and control bytes carry C_EOL or C_CTL, so
		   one table lookup per byte decides. */
		size_t run = i;
		while (run < len && !(byte_class[(unsigned char)buf[run]] & (C_CTL | C_EOL)))
			run++;
		s->line_len += run - i;
		if (s->line_len > lim->max_line)
			SCAN_FAIL(HTTP_PARSER__LINE_TOO_LONG);
		if (run - s->head_start > lim->max_header_bytes)
			SCAN_FAIL(HTTP_PARSER__HEAD_TOO_LARGE);
		i = run;
		if (i == len)
			break;
		unsigned char c = (unsigned char)buf[i++];
		if (i - s->head_start > lim->max_header_bytes)
			SCAN_FAIL(HTTP_PARSER__HEAD_TOO_LARGE);
		if (c == '\r')
			s->prev_cr = true;
		else if (c == '\n')
			SCAN_FAIL(HTTP_PARSER__BARE_LF);
		else
			SCAN_FAIL(HTTP_PARSER__CONTROL_BYTE);
	}
	s->scanned = len;
	return HTTP_PARSE_AGAIN;
}

static const struct {
	int status;
	const char *message;
} request_scan_errors[] = {
    [HTTP_PARSER__BARE_CR] = {400, "bare CR in request head"},
    [HTTP_PARSER__BARE_LF] = {400, "bare LF in request head"},
    [HTTP_PARSER__CONTROL_BYTE] = {400, "control character in request head"},
    [HTTP_PARSER__LINE_TOO_LONG] = {400, "request line or header line too long"},
    [HTTP_PARSER__HEAD_TOO_LARGE] = {431, "request head too large"},
    [HTTP_PARSER__LEADING_EMPTY_LINES] = {400, "empty line where the request line was expected"},
};

/* struct http_request_parser predates struct http_head_scan and keeps its fields flat (see
   http-parser.h), so they are copied in and out around the shared scanner. */
static enum http_parse_status scan(struct http_request_parser *p, const char *buf, size_t len,
                                   size_t *end_r, int *status_r, const char **error_r)
{
	struct http_head_scan s = {
	    .limits = p->limits,
	    .scanned = p->scanned,
	    .head_start = p->head_start,
	    .line_len = p->line_len,
	    .lines = p->lines,
	    .prev_cr = p->prev_cr,
	};
	enum http_parser__scan_error err;
	enum http_parse_status ret =
	    http_parser__scan(&s, MAX_LEADING_EMPTY_LINES, buf, len, end_r, &err);
	p->scanned = s.scanned;
	p->head_start = s.head_start;
	p->line_len = s.line_len;
	p->lines = s.lines;
	p->prev_cr = s.prev_cr;
	if (ret == HTTP_PARSE_ERROR)
		FAIL(request_scan_errors[err].status, request_scan_errors[err].message);
	return ret;
}

bool http_parser__take_line(const char *buf, size_t end, size_t *pos, struct strv *line_r)
{
	const char *start = buf + *pos;
	const char *cr = memchr(start, '\r', end - *pos);
	if (cr == NULL)
		return false;
	*line_r = strv_make(start, (size_t)(cr - start));
	*pos = (size_t)(cr - buf) + 2;
	return true;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* host = IP-literal / IPv4 / reg-name, optional ":" port: a conservative character check
   that keeps spaces, commas, slashes and @ out. */
static bool valid_authority(struct strv s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (!(byte_class[(unsigned char)s.ptr[i]] & C_HOST))
			return false;
	}
	return true;
}

static enum http_parse_status parse_target(struct http_request_head *head, int *status_r,
                                           const char **error_r)
{
	struct strv t = head->target;

	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.ptr[i];
		if (c <= 0x20 || c >= 0x7f)
			FAIL(400, "invalid byte in request target");
		if (c == '#')
			FAIL(400, "fragment in request target");
	}

	struct strv rest = t;
	bool connect = strv_eq_cstr(head->method, "CONNECT");
	if (t.ptr[0] == '/' && !connect) {
		/* origin-form */
	} else if (t.len == 1 && t.ptr[0] == '*') {
		if (!strv_eq_cstr(head->method, "OPTIONS"))
			FAIL(400, "asterisk-form target is only valid for OPTIONS");
		head->path = t;
		return HTTP_PARSE_OK;
	} else if (connect) {
		if (!valid_authority(t))
			FAIL(400, "invalid authority-form target");
		head->path = t;
		head->host = t;
		return HTTP_PARSE_OK;
	} else {
		size_t skip;
		if (t.len > 7 && strv_eq_ci(strv_make(t.ptr, 7), STRV_LIT("http://")))
			skip = 7;
		else if (t.len > 8 && strv_eq_ci(strv_make(t.ptr, 8), STRV_LIT("https://")))
			skip = 8;
		else
			FAIL(400, "request target is neither origin-form nor absolute-form");
		struct strv auth = strv_make(t.ptr + skip, t.len - skip);
		size_t alen = 0;
		while (alen < auth.len && auth.ptr[alen] != '/' && auth.ptr[alen] != '?')
			alen++;
		struct strv authority = strv_make(auth.ptr, alen);
		if (!valid_authority(authority) || strv_find_char(authority, '@') >= 0)
			FAIL(400, "invalid authority in absolute-form target");
		head->host = authority;
		rest = strv_make(auth.ptr + alen, auth.len - alen);
		if (rest.len == 0 || rest.ptr[0] == '?') {
			/* "http://h?q" has an empty path: it means "/". */
			head->path = STRV_LIT("/");
			head->query =
			    rest.len > 0 ? strv_make(rest.ptr + 1, rest.len - 1) : STRV_NULL;
			return HTTP_PARSE_OK;
		}
	}
	struct strv query;
	if (strv_split(rest, '?', &head->path, &query))
		head->query = query;
	return HTTP_PARSE_OK;
}

static enum http_parse_status parse_request_line(struct strv line, struct http_request_head *head,
                                                 int *status_r, const char **error_r)
{
	size_t i = 0;
	while (i < line.len && http_is_tchar((unsigned char)line.ptr[i]))
		i++;
	if (i == 0)
		FAIL(400, "missing or invalid method");
	if (i > MAX_METHOD_LEN)
		FAIL(400, "method too long");
	if (i == line.len || line.ptr[i] != ' ')
		FAIL(400, "invalid character in method");
	head->method = strv_make(line.ptr, i);

	size_t tstart = ++i;
	while (i < line.len && line.ptr[i] != ' ')
		i++;
	if (i == tstart)
		FAIL(400, "missing request target");
	if (i == line.len)
		FAIL(400, "missing HTTP version");
	head->target = strv_make(line.ptr + tstart, i - tstart);

	struct strv version = strv_make(line.ptr + i + 1, line.len - i - 1);
	if (strv_eq_cstr(version, "HTTP/1.1"))
		head->version_minor = 1;
	else if (strv_eq_cstr(version, "HTTP/1.0"))
		head->version_minor = 0;
	else
		FAIL(400, "unsupported or malformed HTTP version");

	return parse_target(head, status_r, error_r);
}

/* Applies what a framing-relevant header means; duplicates of these are always an error. */
static enum http_parse_status apply_header(struct http_request_head *head,
                                           const struct http_header *h,
                                           struct http_parser__framing *framing, bool *seen_host,
                                           bool *seen_close, int *status_r, const char **error_r)
{
	struct strv name = h->name;
	struct strv value = h->value;

	/* Most headers are none of these: reject them on length before comparing text. */
	switch (name.len) {
	case 4:  /* Host */
	case 6:  /* Expect */
	case 10: /* Connection */
	case 14: /* Content-Length */
	case 17: /* Transfer-Encoding */
		break;
	default:
		return HTTP_PARSE_OK;
	}
	int framing_ret = http_parser__framing_field(framing, h, error_r);
	if (framing_ret < 0) {
		*status_r = 400;
		return HTTP_PARSE_ERROR;
	}
	if (framing_ret > 0)
		return HTTP_PARSE_OK;
	if (strv_eq_ci(name, STRV_LIT("Host"))) {
		if (*seen_host)
			FAIL(400, "duplicate Host");
		*seen_host = true;
		if (!valid_authority(value))
			FAIL(400, "invalid Host");
		if (head->host.ptr == NULL)
			head->host = value;
	} else if (strv_eq_ci(name, STRV_LIT("Connection"))) {
		/* "close" wins over "keep-alive" in any order and any field (RFC 9112 9.3). */
		if (http_parser__connection(value, head->version_minor == 0, &head->keep_alive))
			*seen_close = true;
	} else if (strv_eq_ci(name, STRV_LIT("Expect"))) {
		if (!strv_eq_ci_cstr(value, "100-continue"))
			FAIL(417, "unsupported expectation");
		head->expect_continue = true;
	}
	return HTTP_PARSE_OK;
}

static enum http_parse_status parse_head(struct http_request_parser *p, const char *buf,
                                         size_t start, size_t end, struct http_header *headers,
                                         struct http_request_head *head, int *status_r,
                                         const char **error_r)
{
	size_t pos = start;
	struct strv line;
	struct http_parser__framing framing = {0};
	bool seen_host = false, seen_close = false;

	memset(head, 0, sizeof(*head));
	head->headers = headers;
	if (!http_parser__take_line(buf, end, &pos, &line))
		FAIL(400, "missing request line");
	if (parse_request_line(line, head, status_r, error_r) != HTTP_PARSE_OK)
		return HTTP_PARSE_ERROR;
	head->keep_alive = head->version_minor == 1;

	for (;;) {
		enum http_parser__field_status field = http_parser__next_field(
		    buf, end, &pos, headers, &head->header_count, p->limits->max_headers, error_r);
		if (field == HTTP_PARSER__END)
			break;
		if (field == HTTP_PARSER__TOO_MANY)
			FAIL(431, "too many header fields");
		if (field == HTTP_PARSER__BAD) {
			*status_r = 400;
			return HTTP_PARSE_ERROR;
		}
		if (apply_header(head, &headers[head->header_count - 1], &framing, &seen_host,
		                 &seen_close, status_r, error_r) != HTTP_PARSE_OK)
			return HTTP_PARSE_ERROR;
	}

	bool seen_cl = framing.seen_content_length, seen_te = framing.seen_transfer_encoding;
	if (seen_cl && seen_te)
		FAIL(400, "both Content-Length and Transfer-Encoding");
	if (seen_te && head->version_minor == 0)
		FAIL(400, "Transfer-Encoding in an HTTP/1.0 request");
	if (!seen_host && head->version_minor == 1)
		FAIL(400, "missing Host header");
	if (seen_close)
		head->keep_alive = false;
	if (seen_cl)
		head->content_length = framing.content_length;
	if (seen_te)
		head->body_kind = HTTP_BODY_CHUNKED;
	else if (seen_cl && head->content_length > 0)
		head->body_kind = HTTP_BODY_LENGTH;
	if (head->body_kind == HTTP_BODY_NONE)
		head->expect_continue = false;
	return HTTP_PARSE_OK;
}

enum http_parse_status http_request_parser_parse(struct http_request_parser *p, const char *buf,
                                                 size_t len, struct http_header *headers,
                                                 struct http_request_head *head_r,
                                                 size_t *head_len_r, int *status_r,
                                                 const char **error_r)
{
	size_t end;
	enum http_parse_status ret = scan(p, buf, len, &end, status_r, error_r);
	if (ret != HTTP_PARSE_OK)
		return ret;
	ret = parse_head(p, buf, p->head_start, end, headers, head_r, status_r, error_r);
	if (ret == HTTP_PARSE_OK)
		*head_len_r = end;
	return ret;
}

enum http_parser__field_status http_parser__next_field(const char *buf, size_t end, size_t *pos,
                                                       struct http_header *headers, size_t *count,
                                                       size_t max, const char **error_r)
{
	struct strv line;
	if (!http_parser__take_line(buf, end, pos, &line) || line.len == 0)
		return HTTP_PARSER__END;

	unsigned char first = (unsigned char)line.ptr[0];
	if (first == ' ' || first == '\t') {
		*error_r = "obsolete line folding in header";
		return HTTP_PARSER__BAD;
	}
	size_t i = 0;
	while (i < line.len && http_is_tchar((unsigned char)line.ptr[i]))
		i++;
	if (i == line.len) {
		*error_r = "header line without colon";
		return HTTP_PARSER__BAD;
	}
	if (line.ptr[i] == ' ' || line.ptr[i] == '\t') {
		*error_r = "whitespace before header colon";
		return HTTP_PARSER__BAD;
	}
	if (line.ptr[i] != ':' || i == 0) {
		*error_r = "invalid header name";
		return HTTP_PARSER__BAD;
	}
	if (*count == max)
		return HTTP_PARSER__TOO_MANY;

	struct http_header *h = &headers[(*count)++];
	h->name = strv_make(line.ptr, i);
	h->value = strv_trim(strv_make(line.ptr + i + 1, line.len - i - 1));
	return HTTP_PARSER__FIELD;
}

int http_parser__framing_field(struct http_parser__framing *f, const struct http_header *h,
                               const char **error_r)
{
	struct strv value = h->value;

	if (strv_eq_ci(h->name, STRV_LIT("Content-Length"))) {
		if (f->seen_content_length) {
			*error_r = "duplicate Content-Length";
			return -1;
		}
		f->seen_content_length = true;
		/* 19 digits always fit in 64 bits; a list ("5, 5") fails the digit check. */
		bool valid = value.len > 0 && value.len <= 19;
		for (size_t i = 0; valid && i < value.len; i++)
			valid = is_digit((unsigned char)value.ptr[i]);
		if (!valid || strv_to_u64(value, &f->content_length) < 0) {
			*error_r = "invalid Content-Length";
			return -1;
		}
		return 1;
	}
	if (strv_eq_ci(h->name, STRV_LIT("Transfer-Encoding"))) {
		if (f->seen_transfer_encoding) {
			*error_r = "duplicate Transfer-Encoding";
			return -1;
		}
		f->seen_transfer_encoding = true;
		/* Only a lone "chunked": any other coding, or chunked twice or not last, would
		   leave the body length to a guess. */
		if (!strv_eq_ci_cstr(value, "chunked")) {
			*error_r = "unsupported transfer coding (only chunked is accepted)";
			return -1;
		}
		return 1;
	}
	return 0;
}

bool http_parser__connection(struct strv value, bool honour_keep_alive, bool *keep_alive)
{
	struct strv rest = value, token;
	bool close = false;

	while (rest.len > 0) {
		strv_split(rest, ',', &token, &rest);
		token = strv_trim(token);
		if (strv_eq_ci_cstr(token, "close")) {
			*keep_alive = false;
			close = true;
		} else if (strv_eq_ci_cstr(token, "keep-alive") && honour_keep_alive) {
			*keep_alive = true;
		}
	}
	return close;
}
