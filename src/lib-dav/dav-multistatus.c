/* SPDX-License-Identifier: MIT */
/* Multistatus and error bodies: fixed markup around escaped names, hrefs and values. */
#include <string.h>

#include "dav-multistatus.h"
#include "dav-xml.h"
#include "http-server.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

void dav_xml_text_append(struct buf *out, struct strv text)
{
	size_t start = 0;
	for (size_t i = 0; i < text.len; i++) {
		unsigned char c = (unsigned char)text.ptr[i];
		const char *esc = c == '&'                             ? "&amp;"
		                  : c == '<'                           ? "&lt;"
		                  : c == '>'                           ? "&gt;"
		                  : c == '"'                           ? "&quot;"
		                  : c == '\r'                          ? "&#13;"
		                  : c < 0x20 && c != '\t' && c != '\n' ? ""
		                                                       : NULL;
		if (esc == NULL)
			continue;
		buf_append(out, text.ptr + start, i - start);
		buf_append_str(out, esc);
		start = i + 1;
	}
	buf_append(out, text.ptr + start, text.len - start);
}

void dav_href_append(struct buf *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~!$'()*+,;=:@/", c) != NULL) {
			buf_append_char(out, (char)c);
		} else {
			buf_append_char(out, '%');
			buf_append_char(out, hex[c >> 4]);
			buf_append_char(out, hex[c & 0xf]);
		}
	}
}

void dav_ms_begin(struct buf *out)
{
	buf_append_lit(out, XML_DECL "<D:multistatus xmlns:D=\"DAV:\">");
}

static void href(struct buf *out, const char *path)
{
	buf_append_lit(out, "<D:href>");
	dav_href_append(out, path);
	buf_append_lit(out, "</D:href>");
}

void dav_ms_response_begin(struct buf *out, const char *path)
{
	buf_append_lit(out, "\n<D:response>");
	href(out, path);
}

void dav_ms_propstat_begin(struct buf *out)
{
	buf_append_lit(out, "<D:propstat><D:prop>");
}

void dav_ms_prop_raw(struct buf *out, struct strv xml)
{
	buf_append_strv(out, xml);
}

static bool is_dav(const char *ns)
{
	return strcmp(ns, DAV_NS) == 0;
}

/* "<D:name" or "<name xmlns=\"ns\"" (an element in no namespace: xmlns="" keeps it out of a
   default namespace an enclosing stored value might not have, and costs nothing). */
static void open_tag(struct buf *out, const char *ns, const char *name)
{
	if (is_dav(ns)) {
		buf_append_lit(out, "<D:");
		buf_append_str(out, name);
		return;
	}
	buf_append_char(out, '<');
	buf_append_str(out, name);
	buf_append_lit(out, " xmlns=\"");
	dav_xml_text_append(out, strv_from_cstr(ns));
	buf_append_char(out, '"');
}

static void close_tag(struct buf *out, const char *ns, const char *name)
{
	buf_append_str(out, is_dav(ns) ? "</D:" : "</");
	buf_append_str(out, name);
	buf_append_char(out, '>');
}

void dav_ms_prop_text(struct buf *out, const char *ns, const char *name, struct strv text)
{
	open_tag(out, ns, name);
	buf_append_char(out, '>');
	dav_xml_text_append(out, text);
	close_tag(out, ns, name);
}

void dav_ms_prop_empty(struct buf *out, const char *ns, const char *name)
{
	open_tag(out, ns, name);
	buf_append_lit(out, "/>");
}

void dav_ms_prop_dav_begin(struct buf *out, const char *name)
{
	open_tag(out, DAV_NS, name);
	buf_append_char(out, '>');
}

void dav_ms_prop_dav_end(struct buf *out, const char *name)
{
	close_tag(out, DAV_NS, name);
}

static void status_line(struct buf *out, int status)
{
	buf_append_lit(out, "<D:status>HTTP/1.1 ");
	buf_append_u64(out, (uint64_t)status);
	buf_append_char(out, ' ');
	buf_append_str(out, http_status_reason(status));
	buf_append_lit(out, "</D:status>");
}

void dav_ms_propstat_end(struct buf *out, int status)
{
	buf_append_lit(out, "</D:prop>");
	status_line(out, status);
	buf_append_lit(out, "</D:propstat>");
}

void dav_ms_response_end(struct buf *out)
{
	buf_append_lit(out, "</D:response>");
}

static void precondition_element(struct buf *out, const char *precondition)
{
	buf_append_lit(out, "<D:error><D:");
	buf_append_str(out, precondition);
	buf_append_lit(out, "/></D:error>");
}

void dav_ms_response_status(struct buf *out, const char *path, int status, const char *precondition)
{
	dav_ms_response_begin(out, path);
	status_line(out, status);
	if (precondition != NULL)
		precondition_element(out, precondition);
	dav_ms_response_end(out);
}

void dav_ms_end(struct buf *out)
{
	buf_append_lit(out, "\n</D:multistatus>\n");
}

void dav_error_body(struct buf *out, const char *precondition)
{
	buf_append_lit(out, XML_DECL "<D:error xmlns:D=\"DAV:\"><D:");
	buf_append_str(out, precondition);
	buf_append_lit(out, "/></D:error>\n");
}
