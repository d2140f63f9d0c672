/* SPDX-License-Identifier: MIT */
/* The AJP13 container side on the wire: the packets tandemd sends to the web server
   (SEND_HEADERS, SEND_BODY_CHUNK, END_RESPONSE, GET_BODY_CHUNK, CPONG); docs/internals/ajp.md. */
#ifndef TANDEM_AJP_WRITER_H
#define TANDEM_AJP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strv.h"

/* Body bytes in one SEND_BODY_CHUNK: 8192 less the header (4), the type (1), the length (2)
   and the NUL Tomcat ends it with (1). */
#define AJP_CHUNK_DATA_MAX 8184
/* Bytes of one SEND_BODY_CHUNK packet around its data. */
#define AJP_CHUNK_OVERHEAD 8

/* Appends a SEND_HEADERS packet: status and reason, a Server field when server_name is not
   NULL, every "Name: value\r\n" line of fields (as http_response_header() builds them), and
   Content-Length when content_length >= 0. Returns -1, appending nothing, when the packet
   would exceed 8192 bytes. */
int ajp_writer_headers(struct buf *out, int status, const char *reason, const char *server_name,
                       struct strv fields, int64_t content_length);
/* Appends SEND_BODY_CHUNK packets carrying data[0..len) (any length; empty: nothing). */
void ajp_writer_body(struct buf *out, const char *data, size_t len);
/* Appends END_RESPONSE; reuse: the web server may send the next request on the connection. */
void ajp_writer_end(struct buf *out, bool reuse);
/* GET_BODY_CHUNK asking for up to want bytes, into out[0..7); returns 7. */
size_t ajp_writer_get_body(char out[7], unsigned want);
/* CPONG, into out[0..5); returns 5. */
size_t ajp_writer_cpong(char out[5]);

#endif
