/* SPDX-License-Identifier: MIT */
/* RFC 4180 CSV: one pass over the bytes; anything ambiguous is an error rather than a guess. */
#include "csv.h"

#include <string.h>

void csv_reader_init(struct csv_reader *r, const char *data, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	r->line = 1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
	buf_init(&r->storage, CSV_MAX_RECORD_LEN);
}

void csv_reader_deinit(struct csv_reader *r)
{
	buf_free(&r->storage);
}

/* Length of the line break at pos: 1 (LF), 2 (CRLF) or 0. */
static size_t line_break(const struct csv_reader *r, size_t pos)
{
	if (pos < r->len && r->data[pos] == '\n')
		return 1;
	if (pos + 1 < r->len && r->data[pos] == '\r' && r->data[pos + 1] == '\n')
		return 2;
	return 0;
}

static int fail(struct csv_reader *r, size_t line, const char *what, const char **error_r)
{
	r->error_line = line;
	*error_r = what;
	return -1;
}

/* Reads a quoted field starting at the opening quote. */
static int read_quoted(struct csv_reader *r, const char **error_r)
{
	size_t start_line = r->line;
	r->pos++;
	for (;;) {
		if (r->pos == r->len)
			return fail(r, start_line, "unterminated quoted field", error_r);
		char c = r->data[r->pos];
		if (c == '"') {
			if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
				buf_append_char(&r->storage, '"');
				r->pos += 2;
				continue;
			}
			r->pos++;
			break;
		}
		if (c == '\n')
			r->line++;
		buf_append_char(&r->storage, c);
		r->pos++;
	}
	if (r->pos < r->len && r->data[r->pos] != ',' && line_break(r, r->pos) == 0)
		return fail(r, r->line, "text after the closing quote of a field", error_r);
	return 0;
}

static int read_plain(struct csv_reader *r, const char **error_r)
{
	while (r->pos < r->len) {
		char c = r->data[r->pos];
		if (c == ',' || c == '\n')
			break;
		if (c == '\r') {
			if (line_break(r, r->pos) == 2)
				break;
			return fail(r, r->line, "carriage return without a line feed", error_r);
		}
		if (c == '"')
			return fail(r, r->line,
			            "quote inside an unquoted field (quote the whole field)",
			            error_r);
		buf_append_char(&r->storage, c);
		r->pos++;
	}
	return 0;
}

int csv_read(struct csv_reader *r, struct csv_record *rec_r, const char **error_r)
{
	size_t ends[CSV_MAX_FIELDS], n;

	for (;;) {
		size_t lb = line_break(r, r->pos);
		if (lb == 0)
			break;
		r->pos += lb;
		r->line++;
	}
	if (r->pos >= r->len)
		return 0;

	buf_reset(&r->storage);
	rec_r->line = r->line;
	rec_r->count = 0;
	for (n = 0;; n++) {
		if (n == CSV_MAX_FIELDS)
			return fail(r, rec_r->line, "too many fields", error_r);
		int ret = r->pos < r->len && r->data[r->pos] == '"' ? read_quoted(r, error_r)
		                                                    : read_plain(r, error_r);
		if (ret < 0)
			return -1;
		if (buf_overflowed(&r->storage))
			return fail(r, rec_r->line, "record too long", error_r);
		ends[n] = r->storage.len;
		if (r->pos < r->len && r->data[r->pos] == ',') {
			r->pos++;
			continue;
		}
		size_t lb = line_break(r, r->pos);
		r->pos += lb;
		if (lb > 0)
			r->line++;
		break;
	}
	/* Fields were appended back to back; the views are made once storage stops moving. */
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		rec_r->fields[i] = strv_make(r->storage.data + start, ends[i] - start);
		start = ends[i];
	}
	rec_r->count = n + 1;
	return 1;
}
