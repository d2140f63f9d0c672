/* SPDX-License-Identifier: MIT */
/* Content lines of the iCalendar and vCard texts the DAV filters read (RFC 5545 §3.1,
   RFC 6350 §3.2): unfolding, where a value starts, unescaping. No allocation beyond the
   caller's buffers. */
#ifndef TANDEM_CONTENT_LINE_H
#define TANDEM_CONTENT_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The next unfolded content line of text from *pos (advanced) into line (reset first),
   without its line end; false at the end of text. */
bool content_line_next_line(const char *text, size_t len, size_t *pos, struct buf *line);
/* Where the value of a content line starts: after the ':' that ends its name and parameters
   (a ':' in a quoted parameter value does not), or len when there is none. */
size_t content_line_value_start(const char *line, size_t len);
/* s with its escapes undone (\n and \N a line feed, \x the x) appended to out. */
void content_line_unescape(const char *s, size_t len, struct buf *out);

#endif
