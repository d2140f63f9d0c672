/* SPDX-License-Identifier: MIT */
/* The AJP13 request side. Every length read from the packet is checked against what is left
   of it before use, so no input can make the parser read outside the payload; anything the
   protocol does not define is refused rather than skipped, since a front end that sends
   something unexpected is misconfigured or is not the front end (docs/internals/ajp.md). */
#include "ajp-parser.h"

#include <arpa/inet.h>
#include <string.h>

#include "pool.h"

struct cursor {
	const unsigned char *p;
	size_t left;
	const char *error;
};

static bool get_u8(struct cursor *c, unsigned *v_r)
{
	if (c->left < 1) {
		c->error = "truncated packet";
		return false;
	}
	*v_r = c->p[0];
	c->p++;
	c->left--;
	return true;
}

static bool get_u16(struct cursor *c, unsigned *v_r)
{
	if (c->left < 2) {
		c->error = "truncated packet";
		return false;
	}
	*v_r = ((unsigned)c->p[0] << 8) | c->p[1];
	c->p += 2;
	c->left -= 2;
	return true;
}

/* An AJP string: 2 length bytes, the bytes, a NUL; length 0xFFFF is the null string
   (STRV_NULL). Embedded NULs are refused: the values end up in C strings. */
static bool get_str(struct cursor *c, struct strv *s_r)
{
	unsigned n;
	if (!get_u16(c, &n))
		return false;
	if (n == 0xFFFF) {
		*s_r = STRV_NULL;
		return true;
	}
	if (c->left < (size_t)n + 1) {
		c->error = "string runs past the packet";
		return false;
	}
	if (c->p[n] != '\0' || memchr(c->p, '\0', n) != NULL) {
		c->error = "string not NUL-terminated or with an embedded NUL";
		return false;
	}
	*s_r = strv_make((const char *)c->p, n);
	c->p += n + 1;
	c->left -= n + 1;
	return true;
}

static bool all_tchar(struct strv s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (!http_is_tchar((unsigned char)s.ptr[i]))
			return false;
	}
	return true;
}

/* Visible ASCII and (for values) obs-text, space and tab: what the HTTP parser lets through. */
static bool clean_value(struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

/* A URI path or query: visible ASCII only, no fragment, and no '?' in the path. */
static bool clean_uri_part(struct strv s, bool path)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '#' || (path && ch == '?'))
			return false;
	}
	return true;
}

static const char *const methods[] = {
    NULL,         "OPTIONS",     "GET",
    "HEAD",       "POST",        "PUT",
    "DELETE",     "TRACE",       "PROPFIND",
    "PROPPATCH",  "MKCOL",       "COPY",
    "MOVE",       "LOCK",        "UNLOCK",
    "ACL",        "REPORT",      "VERSION-CONTROL",
    "CHECKIN",    "CHECKOUT",    "UNCHECKOUT",
    "SEARCH",     "MKWORKSPACE", "UPDATE",
    "LABEL",      "MERGE",       "BASELINE-CONTROL",
    "MKACTIVITY",
};

/* Request header names sent as 0xA0nn. */
static const char *const header_codes[] = {
    NULL,
    "Accept",
    "Accept-Charset",
    "Accept-Encoding",
    "Accept-Language",
    "Authorization",
    "Connection",
    "Content-Type",
    "Content-Length",
    "Cookie",
    "Cookie2",
    "Host",
    "Pragma",
    "Referer",
    "User-Agent",
};

enum attribute {
	ATTR_CONTEXT = 1,
	ATTR_SERVLET_PATH,
	ATTR_REMOTE_USER,
	ATTR_AUTH_TYPE,
	ATTR_QUERY_STRING,
	ATTR_ROUTE,
	ATTR_SSL_CERT,
	ATTR_SSL_CIPHER,
	ATTR_SSL_SESSION,
	ATTR_REQ_ATTRIBUTE,
	ATTR_SSL_KEY_SIZE,
	ATTR_SECRET,
	ATTR_STORED_METHOD,
	ATTR_ARE_DONE = 0xFF,
};

enum http_parse_status ajp_parser_packet(const char *buf, size_t len, struct strv *payload_r,
                                         size_t *packet_len_r, const char **error_r)
{
	const unsigned char *p = (const unsigned char *)buf;
	if ((len >= 1 && p[0] != 0x12) || (len >= 2 && p[1] != 0x34)) {
		*error_r = "not an AJP13 packet (bad magic)";
		return HTTP_PARSE_ERROR;
	}
	if (len < AJP_HEADER_LEN)
		return HTTP_PARSE_AGAIN;
	size_t n = ((size_t)p[2] << 8) | p[3];
	if (n > AJP_PACKET_MAX - AJP_HEADER_LEN) {
		*error_r = "AJP13 packet larger than 8192 bytes";
		return HTTP_PARSE_ERROR;
	}
	if (len < AJP_HEADER_LEN + n)
		return HTTP_PARSE_AGAIN;
	*payload_r = strv_make(buf + AJP_HEADER_LEN, n);
	*packet_len_r = AJP_HEADER_LEN + n;
	return HTTP_PARSE_OK;
}

struct framing {
	bool seen_length, seen_te;
	uint64_t length;
};

/* The fields the server itself reads, checked as the HTTP parser checks them. */
static const char *note_header(struct http_request_head *head, struct framing *f,
                               const struct http_header *h)
{
	if (strv_eq_ci_cstr(h->name, "Content-Length")) {
		if (f->seen_length)
			return "duplicate Content-Length";
		if (h->value.len == 0 || h->value.len > 19 || strv_to_u64(h->value, &f->length) < 0)
			return "invalid Content-Length";
		f->seen_length = true;
	} else if (strv_eq_ci_cstr(h->name, "Transfer-Encoding")) {
		if (f->seen_te || !strv_eq_ci_cstr(h->value, "chunked"))
			return "unsupported Transfer-Encoding";
		f->seen_te = true;
	} else if (strv_eq_ci_cstr(h->name, "Host")) {
		if (head->host.ptr != NULL)
			return "duplicate Host header";
		head->host = h->value;
	}
	return NULL;
}

static bool parse_headers(struct cursor *c, struct pool *pool, size_t max_headers,
                          struct http_request_head *head, struct framing *f, int *status_r)
{
	unsigned count;
	if (!get_u16(c, &count))
		return false;
	if (count > max_headers) {
		*status_r = 431;
		c->error = "too many header fields";
		return false;
	}
	struct http_header *hdrs = pool_alloc(pool, (count + 1) * sizeof(*hdrs));
	for (unsigned i = 0; i < count; i++) {
		struct http_header *h = &hdrs[i];
		if (c->left >= 1 && c->p[0] == 0xA0) {
			unsigned code;
			(void)get_u16(c, &code);
			code &= 0xFF;
			if (code == 0 || code >= sizeof(header_codes) / sizeof(header_codes[0])) {
				c->error = "unknown coded header name";
				return false;
			}
			h->name = strv_from_cstr(header_codes[code]);
		} else {
			if (!get_str(c, &h->name))
				return false;
			if (!all_tchar(h->name)) {
				c->error = "header name is not a token";
				return false;
			}
		}
		if (!get_str(c, &h->value))
			return false;
		if (h->value.ptr == NULL || !clean_value(h->value)) {
			c->error = "header value missing or with control bytes";
			return false;
		}
		const char *problem = note_header(head, f, h);
		if (problem != NULL) {
			c->error = problem;
			return false;
		}
	}
	head->headers = hdrs;
	head->header_count = count;
	return true;
}

static bool valid_ip(struct strv s)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	if (s.len == 0 || s.len >= sizeof(text))
		return false;
	memcpy(text, s.ptr, s.len);
	text[s.len] = '\0';
	return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

/* The attribute list up to its 0xFF; *query_r and *method_r as sent (STRV_NULL if not). */
static bool parse_attributes(struct cursor *c, struct ajp_forward *fwd, struct strv *query_r,
                             struct strv *method_r)
{
	*query_r = *method_r = STRV_NULL;
	for (;;) {
		unsigned code;
		struct strv value, name;
		if (!get_u8(c, &code))
			return false;
		switch (code) {
		case ATTR_ARE_DONE:
			return true;
		case ATTR_SSL_KEY_SIZE:
			if (!get_u16(c, &code))
				return false;
			continue;
		case ATTR_REQ_ATTRIBUTE:
			if (!get_str(c, &name) || !get_str(c, &value))
				return false;
			continue;
		case ATTR_CONTEXT:
		case ATTR_SERVLET_PATH:
		case ATTR_REMOTE_USER:
		case ATTR_AUTH_TYPE:
		case ATTR_QUERY_STRING:
		case ATTR_ROUTE:
		case ATTR_SSL_CERT:
		case ATTR_SSL_CIPHER:
		case ATTR_SSL_SESSION:
		case ATTR_SECRET:
		case ATTR_STORED_METHOD:
			break;
		default:
			c->error = "unknown request attribute";
			return false;
		}
		if (!get_str(c, &value))
			return false;
		struct strv *slot = code == ATTR_QUERY_STRING    ? query_r
		                    : code == ATTR_STORED_METHOD ? method_r
		                    : code == ATTR_SECRET        ? &fwd->secret
		                    : code == ATTR_ROUTE         ? &fwd->route
		                                                 : NULL;
		if (slot == NULL)
			continue;
		if (slot->ptr != NULL || value.ptr == NULL) {
			c->error = "request attribute repeated or null";
			return false;
		}
		*slot = value;
		fwd->has_secret = fwd->has_secret || code == ATTR_SECRET;
	}
}

int ajp_parser_forward(const char *payload, size_t len, struct pool *pool, size_t max_headers,
                       struct ajp_forward *fwd_r, int *status_r, const char **error_r)
{
	struct cursor c = {.p = (const unsigned char *)payload, .left = len};
	struct ajp_forward *fwd = fwd_r;
	struct http_request_head *head = &fwd->head;
	struct framing f = {0};
	struct strv protocol, uri, query, method;
	unsigned type, method_code, port, ssl;

	memset(fwd, 0, sizeof(*fwd));
	*status_r = 400;
	if (!get_u8(&c, &type) || type != AJP_FORWARD_REQUEST) {
		*error_r = "not a FORWARD_REQUEST packet";
		return -1;
	}
	if (!get_u8(&c, &method_code) || !get_str(&c, &protocol) || !get_str(&c, &uri) ||
	    !get_str(&c, &fwd->remote_addr) || !get_str(&c, &fwd->remote_host) ||
	    !get_str(&c, &fwd->server_name) || !get_u16(&c, &port) || !get_u8(&c, &ssl) ||
	    !parse_headers(&c, pool, max_headers, head, &f, status_r) ||
	    !parse_attributes(&c, fwd, &query, &method))
		goto fail;
	if (c.left != 0) {
		c.error = "bytes after the request attributes";
		goto fail;
	}
	if (method_code == 0xFF) {
		head->method = method;
		if (!all_tchar(method)) {
			c.error = "method 0xFF without a valid stored_method attribute";
			goto fail;
		}
	} else if (method_code > 0 && method_code < sizeof(methods) / sizeof(methods[0])) {
		head->method = strv_from_cstr(methods[method_code]);
	} else {
		c.error = "unknown method code";
		goto fail;
	}
	if (protocol.len < 5 || memcmp(protocol.ptr, "HTTP/", 5) != 0) {
		c.error = "protocol is not HTTP/x.y";
		goto fail;
	}
	head->version_minor = strv_eq_cstr(protocol, "HTTP/1.0") ? 0 : 1;
	if (uri.len == 0 || uri.ptr[0] != '/' || !clean_uri_part(uri, true) ||
	    (query.ptr != NULL && !clean_uri_part(query, false))) {
		c.error = "request URI or query string malformed";
		goto fail;
	}
	if (!valid_ip(fwd->remote_addr)) {
		c.error = "remote_addr is not an IP address";
		goto fail;
	}
	if (fwd->server_name.ptr == NULL || !clean_value(fwd->server_name) ||
	    (fwd->remote_host.ptr != NULL && !clean_value(fwd->remote_host)) || ssl > 1 ||
	    (fwd->route.ptr != NULL && !clean_value(fwd->route))) {
		c.error = "server_name, remote_host, route or is_ssl malformed";
		goto fail;
	}
	if (f.seen_length && f.seen_te) {
		c.error = "both Content-Length and Transfer-Encoding";
		goto fail;
	}
	fwd->server_port = (uint16_t)port;
	fwd->is_ssl = ssl == 1;
	head->path = uri;
	head->query = query.ptr != NULL ? query : strv_make(uri.ptr + uri.len, 0);
	if (query.ptr == NULL) {
		head->target = uri;
	} else {
		char *t = pool_alloc(pool, uri.len + 1 + query.len + 1);
		memcpy(t, uri.ptr, uri.len);
		t[uri.len] = '?';
		memcpy(t + uri.len + 1, query.ptr, query.len);
		t[uri.len + 1 + query.len] = '\0';
		head->target = strv_make(t, uri.len + 1 + query.len);
		head->query = strv_make(t + uri.len + 1, query.len);
	}
	if (head->host.ptr == NULL)
		head->host = fwd->server_name;
	head->keep_alive = true;
	if (f.seen_te) {
		head->body_kind = HTTP_BODY_CHUNKED;
	} else if (f.seen_length && f.length > 0) {
		head->body_kind = HTTP_BODY_LENGTH;
		head->content_length = f.length;
	}
	return 0;
fail:
	*error_r = c.error;
	return -1;
}

int ajp_parser_body(struct strv payload, struct strv *data_r, const char **error_r)
{
	if (payload.len == 0) {
		*data_r = strv_make(payload.ptr, 0);
		return 0;
	}
	const unsigned char *p = (const unsigned char *)payload.ptr;
	if (payload.len < 2 || ((size_t)p[0] << 8 | p[1]) != payload.len - 2) {
		*error_r = "body packet length disagrees with its data length";
		return -1;
	}
	*data_r = strv_make(payload.ptr + 2, payload.len - 2);
	return 0;
}

bool ajp_parser_secret_equal(struct strv got, const char *want)
{
	size_t want_len = strlen(want);
	unsigned char diff = got.len != want_len;
	/* Every byte of got is looked at, whatever matched so far. */
	for (size_t i = 0; i < got.len; i++)
		diff |=
		    (unsigned char)got.ptr[i] ^ (unsigned char)want[want_len ? i % want_len : 0];
	return diff == 0 && want_len > 0;
}
