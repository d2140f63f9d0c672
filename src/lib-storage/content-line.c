/* SPDX-License-Identifier: MIT */
/* Content lines of iCalendar and vCard texts. */
#include "content-line.h"

bool content_line_next_line(const char *text, size_t len, size_t *pos, struct buf *line)
{
	buf_reset(line);
	if (*pos >= len)
		return false;
	size_t i = *pos;
	while (i < len) {
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		size_t stop = end > i && text[end - 1] == '\r' ? end - 1 : end;
		buf_append(line, text + i, stop - i);
		i = end < len ? end + 1 : end;
		if (i >= len || (text[i] != ' ' && text[i] != '\t'))
			break;
		i++; /* a folded continuation: its leading blank goes */
	}
	*pos = i;
	return true;
}

size_t content_line_value_start(const char *line, size_t len)
{
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (line[i] == ':' && !quoted)
			return i + 1;
	}
	return len;
}

void content_line_unescape(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < len) {
			c = s[++i];
			if (c == 'n' || c == 'N')
				c = '\n';
		}
		buf_append_char(out, c);
	}
}
