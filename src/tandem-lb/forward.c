/* SPDX-License-Identifier: MIT */
/* What crosses the proxy: the request head re-serialised for a member, and which response
   header fields go back to the client. */
#include "forward.h"

#include <string.h>

#include "lb-access.h"

/* Literal field names as views: their lengths are known at compile time, so a compare of
   names of another length costs one branch (this runs for every field of every request). */
#define NAME_IS(name, lit) strv_eq_ci((name), STRV_LIT(lit))

/* True if the comma-separated token list value contains token (case-insensitive). */
static bool list_has(struct strv value, struct strv token)
{
	size_t i = 0;
	while (i < value.len) {
		while (i < value.len &&
		       (value.ptr[i] == ' ' || value.ptr[i] == '\t' || value.ptr[i] == ','))
			i++;
		size_t start = i;
		while (i < value.len && value.ptr[i] != ',' && value.ptr[i] != ' ' &&
		       value.ptr[i] != '\t')
			i++;
		if (i > start && strv_eq_ci(strv_make(value.ptr + start, i - start), token))
			return true;
	}
	return false;
}

/* Hop-by-hop: meaningful for one connection only (RFC 9110 7.6.1). connection: the head has
   a Connection field (which may name more). */
static bool hop_by_hop(const struct http_header *headers, size_t count, bool connection,
                       struct strv name)
{
	static const struct strv fixed[] = {
	    STRV_LIT("Connection"), STRV_LIT("Keep-Alive"),        STRV_LIT("Proxy-Connection"),
	    STRV_LIT("TE"),         STRV_LIT("Transfer-Encoding"), STRV_LIT("Trailer"),
	    STRV_LIT("Upgrade")};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strv_eq_ci(name, fixed[i]))
			return true;
	}
	for (size_t i = 0; connection && i < count; i++) {
		if (NAME_IS(headers[i].name, "Connection") && list_has(headers[i].value, name))
			return true;
	}
	return false;
}

static bool has_connection(const struct http_header *headers, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (NAME_IS(headers[i].name, "Connection"))
			return true;
	}
	return false;
}

static void append_field(struct buf *out, struct strv name, struct strv value)
{
	buf_append_strv(out, name);
	buf_append_lit(out, ": ");
	buf_append_strv(out, value);
	buf_append_lit(out, "\r\n");
}

void forward_request_head(struct buf *out, const struct http_request_head *head,
                          const struct forward_client *client, enum forward_body body)
{
	bool has_host = false, has_proto = false;
	bool connection = has_connection(head->headers, head->header_count);

	buf_append_strv(out, head->method);
	buf_append_char(out, ' ');
	if (head->target.len > 0 && (head->target.ptr[0] == '/' || head->target.ptr[0] == '*')) {
		buf_append_strv(out, head->target);
	} else {
		/* absolute-form: the member gets origin-form; Host carries the authority */
		buf_append_strv(out, head->path);
		if (head->query.len > 0) {
			buf_append_char(out, '?');
			buf_append_strv(out, head->query);
		}
	}
	buf_append_lit(out, " HTTP/1.1\r\n");

	for (size_t i = 0; i < head->header_count; i++) {
		const struct http_header *h = &head->headers[i];
		if (hop_by_hop(head->headers, head->header_count, connection, h->name) ||
		    NAME_IS(h->name, "Content-Length") || NAME_IS(h->name, "Expect"))
			continue;
		if (NAME_IS(h->name, "X-Forwarded-For")) {
			if (!client->trusted)
				continue;
			continue; /* merged into one field below */
		}
		if (NAME_IS(h->name, "X-Forwarded-Proto")) {
			if (!client->trusted || has_proto)
				continue;
			has_proto = true;
		}
		if (NAME_IS(h->name, "Host")) {
			if (head->host.len > 0 && head->host.ptr != h->value.ptr) {
				/* absolute-form authority wins over Host (RFC 9112 3.2.2) */
				append_field(out, h->name, head->host);
				has_host = true;
				continue;
			}
			has_host = true;
		}
		append_field(out, h->name, h->value);
	}
	if (!has_host) {
		buf_append_lit(out, "Host: ");
		if (head->host.len > 0)
			buf_append_strv(out, head->host);
		else
			buf_append_str(out, client->authority);
		buf_append_lit(out, "\r\n");
	}
	/* Several fields make one list (RFC 9110 5.3); the peer goes last. */
	buf_append_lit(out, "X-Forwarded-For: ");
	if (client->trusted) {
		for (size_t i = 0; i < head->header_count; i++) {
			const struct http_header *h = &head->headers[i];
			if (!NAME_IS(h->name, "X-Forwarded-For") || h->value.len == 0)
				continue;
			buf_append_strv(out, h->value);
			buf_append_lit(out, ", ");
		}
	}
	buf_append_str(out, client->ip);
	buf_append_lit(out, "\r\n");
	if (!has_proto) {
		buf_append_lit(out, "X-Forwarded-Proto: ");
		buf_append_str(out, client->proto);
		buf_append_lit(out, "\r\n");
	}
	if (body == FORWARD_BODY_LENGTH) {
		buf_append_lit(out, "Content-Length: ");
		buf_append_u64(out, head->content_length);
		buf_append_lit(out, "\r\n");
	} else if (body == FORWARD_BODY_CHUNKED) {
		buf_append_lit(out, "Transfer-Encoding: chunked\r\n");
	}
	if (client->expect_continue)
		buf_append_lit(out, "Expect: 100-continue\r\n");
	buf_append_lit(out, "\r\n");
}

bool forward_response_field_dropped(const struct http_header *headers, size_t count,
                                    struct strv name)
{
	return hop_by_hop(headers, count, has_connection(headers, count), name) ||
	       NAME_IS(name, "Content-Length") || NAME_IS(name, "Date");
}

bool forward_method_idempotent(struct strv method)
{
	static const char *const idem[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
	for (size_t i = 0; i < sizeof(idem) / sizeof(idem[0]); i++) {
		if (strv_eq_cstr(method, idem[i]))
			return true;
	}
	return false;
}

bool forward_node_path(struct strv path)
{
	char norm[64];
	/* Longer or malformed paths are none of these (the access rules judge malformed ones). */
	if (!lb_access_normalise(path, norm, sizeof(norm)))
		return false;
	return strcmp(norm, "/admin/v1/node") == 0 || strcmp(norm, "/admin/v1/drain") == 0;
}
