/* SPDX-License-Identifier: MIT */
/* Strict RFC 4180 CSV reader over a buffer in memory. */
#ifndef TANDEMCTL_CSV_H
#define TANDEMCTL_CSV_H

#include <stddef.h>

#include "buf.h"
#include "strv.h"

#define CSV_MAX_FIELDS     64
#define CSV_MAX_RECORD_LEN (1024 * 1024)

/* Records end at LF or CRLF. A field is either plain (no '"', CR or LF) or quoted: it may then
   hold commas, line breaks and doubled quotes. Empty lines are skipped; a UTF-8 byte-order mark
   at the start is ignored; the last record needs no line break. */
struct csv_reader {
	const char *data;
	size_t len;
	size_t pos;
	size_t line;        /* 1-based line of the next byte */
	size_t error_line;  /* where the last error was found */
	struct buf storage; /* the current record's unescaped fields */
};

struct csv_record {
	size_t line; /* first line of the record */
	size_t count;
	struct strv fields[CSV_MAX_FIELDS]; /* valid until the next csv_read() */
};

/* data must outlive the reader. */
void csv_reader_init(struct csv_reader *r, const char *data, size_t len);
void csv_reader_deinit(struct csv_reader *r);

/* Returns 1 with the next record, 0 at the end of the data, or -1 with *error_r a static
   description and r->error_line the line it concerns. */
int csv_read(struct csv_reader *r, struct csv_record *rec_r, const char **error_r);

#endif
