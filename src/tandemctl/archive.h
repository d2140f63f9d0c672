/* SPDX-License-Identifier: MIT */
/* The context archive's framing (docs/internals/backup.md): JSON lines, raw file bytes after
   a file line, and a SHA-256 over everything before the closing manifest line. Streams with
   constant memory in both directions. */
#ifndef TANDEMCTL_ARCHIVE_H
#define TANDEMCTL_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ARCHIVE_FORMAT   1
#define ARCHIVE_LINE_MAX (4u << 20) /* the longest JSON line a reader accepts */

struct archive_writer {
	int fd;
	void *sha; /* EVP_MD_CTX */
	struct buf out;
	uint64_t bytes;
	int error; /* errno of the first failed write, 0 if none */
};

void archive_writer_init(struct archive_writer *w, int fd);
/* Starts over at the beginning of the file (truncating it). 0 or -errno. */
int archive_writer_restart(struct archive_writer *w);
void archive_writer_write(struct archive_writer *w, const void *data, size_t len);
/* v compact on one line (takes no reference). */
void archive_writer_json(struct archive_writer *w, const json_t *v);
/* Adds "sha256" (of everything written so far) to manifest, writes it and flushes. 0 or
   -errno of the first failed write. */
int archive_writer_finish(struct archive_writer *w, json_t *manifest);
void archive_writer_free(struct archive_writer *w);

struct archive_reader {
	int fd;
	void *sha;
	char in[65536];
	size_t pos, len;
	uint64_t offset; /* bytes consumed, for messages */
	struct buf line;
};

void archive_reader_init(struct archive_reader *r, int fd);
/* The next line as JSON; NULL at the end of the file (*error_r NULL) or with *error_r. The
   line goes into the digest unless it is the manifest ({"type":"manifest"}), which the caller
   checks with archive_reader_digest. */
json_t *archive_reader_json(struct archive_reader *r, const char **error_r);
/* Exactly len raw bytes into data (hashed). 0, or -1 at a short file. */
int archive_reader_bytes(struct archive_reader *r, void *data, size_t len);
/* The hex SHA-256 of what was hashed so far. */
void archive_reader_digest(struct archive_reader *r, char hex_r[65]);
void archive_reader_free(struct archive_reader *r);

#endif
