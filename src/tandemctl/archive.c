/* SPDX-License-Identifier: MIT */
/* Reading and writing the context archive's framing. */
#include "archive.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (1u << 16)

static void digest_hex(EVP_MD_CTX *ctx, char hex_r[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	if (copy == NULL || EVP_MD_CTX_copy_ex(copy, ctx) != 1 ||
	    EVP_DigestFinal_ex(copy, md, &len) != 1 || len != 32)
		len = 0;
	EVP_MD_CTX_free(copy);
	memset(hex_r, '0', 64);
	for (unsigned i = 0; i < len; i++) {
		hex_r[2 * i] = hex[md[i] >> 4];
		hex_r[2 * i + 1] = hex[md[i] & 0xf];
	}
	hex_r[64] = '\0';
}

static EVP_MD_CTX *sha_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

void archive_writer_init(struct archive_writer *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->sha = sha_new();
	if (w->sha == NULL)
		w->error = ENOMEM;
	buf_init(&w->out, 2 * FLUSH_AT);
}

static void write_all(struct archive_writer *w, const char *data, size_t len)
{
	size_t done = 0;
	while (w->error == 0 && done < len) {
		ssize_t n = write(w->fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->error = n < 0 ? errno : EIO;
		else
			done += (size_t)n;
	}
}

static void flush(struct archive_writer *w)
{
	write_all(w, w->out.data, w->out.len);
	buf_reset(&w->out);
}

int archive_writer_restart(struct archive_writer *w)
{
	buf_reset(&w->out);
	w->bytes = 0;
	w->error = 0;
	if (lseek(w->fd, 0, SEEK_SET) < 0 || ftruncate(w->fd, 0) < 0)
		return -errno;
	if (EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	return 0;
}

void archive_writer_write(struct archive_writer *w, const void *data, size_t len)
{
	if (w->error != 0)
		return;
	if (EVP_DigestUpdate(w->sha, data, len) != 1)
		w->error = ENOMEM;
	w->bytes += len;
	if (len >= FLUSH_AT) {
		flush(w);
		write_all(w, data, len);
		return;
	}
	buf_append(&w->out, data, len);
	if (w->out.len >= FLUSH_AT)
		flush(w);
}

static void write_line(struct archive_writer *w, const json_t *v, bool hashed)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text == NULL) {
		w->error = ENOMEM;
		return;
	}
	size_t len = strlen(text);
	if (len >= ARCHIVE_LINE_MAX) /* a reader would refuse it */
		w->error = EFBIG;
	if (hashed) {
		archive_writer_write(w, text, len);
		archive_writer_write(w, "\n", 1);
	} else {
		flush(w);
		write_all(w, text, len);
		write_all(w, "\n", 1);
		w->bytes += len + 1;
	}
	json_free_t free_fn;
	json_get_alloc_funcs(NULL, &free_fn);
	free_fn(text);
}

void archive_writer_json(struct archive_writer *w, const json_t *v)
{
	write_line(w, v, true);
}

int archive_writer_finish(struct archive_writer *w, json_t *manifest)
{
	char hex[65];
	digest_hex(w->sha, hex);
	json_object_set_new(manifest, "sha256", json_string(hex));
	write_line(w, manifest, false);
	flush(w);
	return -w->error;
}

void archive_writer_free(struct archive_writer *w)
{
	EVP_MD_CTX_free(w->sha);
	w->sha = NULL;
	buf_free(&w->out);
}

void archive_reader_init(struct archive_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->sha = sha_new();
	buf_init(&r->line, ARCHIVE_LINE_MAX);
}

/* Refills the input; 1 data, 0 end of file, -1 error. */
static int fill(struct archive_reader *r)
{
	if (r->pos < r->len)
		return 1;
	for (;;) {
		ssize_t n = read(r->fd, r->in, sizeof(r->in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		r->pos = 0;
		r->len = (size_t)n;
		return n > 0;
	}
}

json_t *archive_reader_json(struct archive_reader *r, const char **error_r)
{
	static char message[200];
	uint64_t start = r->offset;
	int f;

	*error_r = NULL;
	buf_reset(&r->line);
	for (;;) {
		if ((f = fill(r)) <= 0)
			break;
		const char *nl = memchr(r->in + r->pos, '\n', r->len - r->pos);
		size_t n = nl != NULL ? (size_t)(nl - (r->in + r->pos)) + 1 : r->len - r->pos;
		buf_append(&r->line, r->in + r->pos, n);
		r->pos += n;
		r->offset += n;
		if (buf_overflowed(&r->line)) {
			snprintf(message, sizeof(message), "line at byte %llu is too long",
			         (unsigned long long)start);
			*error_r = message;
			return NULL;
		}
		if (nl != NULL)
			break;
	}
	if (f < 0) {
		snprintf(message, sizeof(message), "read error: %s", strerror(errno));
		*error_r = message;
		return NULL;
	}
	if (r->line.len == 0)
		return NULL;
	if (r->line.data[r->line.len - 1] != '\n') {
		snprintf(message, sizeof(message), "truncated at byte %llu",
		         (unsigned long long)r->offset);
		*error_r = message;
		return NULL;
	}
	json_error_t jerr;
	json_t *v = json_loadb(r->line.data, r->line.len - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		snprintf(message, sizeof(message), "bad JSON in the line at byte %llu: %s",
		         (unsigned long long)start, jerr.text);
		*error_r = message;
		return NULL;
	}
	const char *type = json_string_value(json_object_get(v, "type"));
	if (type == NULL || strcmp(type, "manifest") != 0)
		EVP_DigestUpdate(r->sha, r->line.data, r->line.len);
	return v;
}

int archive_reader_bytes(struct archive_reader *r, void *data, size_t len)
{
	char *out = data;
	while (len > 0) {
		if (fill(r) <= 0)
			return -1;
		size_t n = r->len - r->pos < len ? r->len - r->pos : len;
		memcpy(out, r->in + r->pos, n);
		EVP_DigestUpdate(r->sha, r->in + r->pos, n);
		r->pos += n;
		r->offset += n;
		out += n;
		len -= n;
	}
	return 0;
}

void archive_reader_digest(struct archive_reader *r, char hex_r[65])
{
	digest_hex(r->sha, hex_r);
}

void archive_reader_free(struct archive_reader *r)
{
	EVP_MD_CTX_free(r->sha);
	r->sha = NULL;
	buf_free(&r->line);
}
