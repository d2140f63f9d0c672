/* SPDX-License-Identifier: MIT */
/* GET / and GET /assets/{name}: the web UI's static files, sent with sendfile(). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dav-cond.h"
#include "http-server.h"
#include "node.h"
#include "routes.h"
#include "webui-dir.h"

/* Every UI answer: no inline script or style, no framing, no sniffing, no referrer to other
   sites. Images may be data: and blob: URLs (previews the app makes itself), and https: for
   the remote images of a mail the user chose to show (the mail frame inherits this policy). */
#define WEBUI_CSP                                                                                  \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: "     \
	"https:; "                                                                                 \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "             \
	"frame-ancestors 'none'"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".json", "application/json; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
};

/* Asset names are what the build makes (app.<hash>.js): a letter or digit, then letters,
   digits, '.', '-' and '_', no "..". Nothing else reaches openat(), so no path leaves assets/. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 128 || strstr(name, "..") != NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '-' && c != '_')))
			return false;
	}
	return true;
}

static const char *content_type(const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t el = strlen(types[i].ext);
		if (len > el && strcmp(name + len - el, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* "q=0", "q=0.", "q=0.000": the client refuses the coding. */
static bool q_is_zero(struct strv param)
{
	if (param.len < 3 || (param.ptr[0] != 'q' && param.ptr[0] != 'Q') || param.ptr[1] != '=' ||
	    param.ptr[2] != '0')
		return false;
	for (size_t i = 3; i < param.len; i++) {
		if (param.ptr[i] != '0' && !(i == 3 && param.ptr[i] == '.'))
			return false;
	}
	return true;
}

/* Accept-Encoding lists gzip without q=0 (RFC 9110 §12.5.3; "*" counts too). */
static bool accepts_gzip(struct strv header)
{
	struct strv item, params;
	while (header.len > 0) {
		strv_split(header, ',', &item, &header);
		bool has_params = strv_split(strv_trim(item), ';', &item, &params);
		item = strv_trim(item);
		if (!strv_eq_ci_cstr(item, "gzip") && !strv_eq_ci_cstr(item, "x-gzip") &&
		    !strv_eq_cstr(item, "*"))
			continue;
		if (has_params && q_is_zero(strv_trim(params)))
			continue;
		return true;
	}
	return false;
}

static void security_headers(struct http_request *req)
{
	http_response_header(req, "Content-Security-Policy", WEBUI_CSP);
	http_response_header(req, "X-Frame-Options", "DENY");
	http_response_header(req, "X-Content-Type-Options", "nosniff");
	http_response_header(req, "Referrer-Policy", "no-referrer");
	http_response_header(req, "Cross-Origin-Opener-Policy", "same-origin");
}

static void not_found(struct http_request *req, const char *message)
{
	security_headers(req);
	http_response_error(req, 404, "HTTP-0404", message);
}

/* Opens name in dir_fd as a regular file (no symlink followed); -1 when there is none. */
static int open_regular(int dir_fd, const char *name, struct stat *st_r)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st_r) < 0 || !S_ISREG(st_r->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends name from dir_fd, or name.gz with Content-Encoding when the client takes gzip.
   immutable: a content-hashed asset, cached for a year; otherwise revalidated every time. */
static void serve(struct http_request *req, int dir_fd, const char *name, bool immutable)
{
	const char *type = content_type(name);
	struct stat st;
	int fd = -1;
	bool gzip = false;

	if (type == NULL) {
		not_found(req, "no such file in the web UI");
		return;
	}
	if (accepts_gzip(http_request_header(req, "Accept-Encoding"))) {
		char gz[160];
		snprintf(gz, sizeof(gz), "%s.gz", name);
		fd = open_regular(dir_fd, gz, &st);
		gzip = fd >= 0;
	}
	if (fd < 0)
		fd = open_regular(dir_fd, name, &st);
	if (fd < 0) {
		not_found(req, "no such file in the web UI");
		return;
	}

	/* An asset's name is its content's hash, the same on every node of a cluster; index.html
	   is told apart by modification time and size. */
	char etag[200];
	if (immutable)
		snprintf(etag, sizeof(etag), "\"%s%s\"", name, gzip ? "-gz" : "");
	else
		snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx%s\"",
		         (unsigned long long)st.st_mtim.tv_sec,
		         (unsigned long long)st.st_mtim.tv_nsec, (unsigned long long)st.st_size,
		         gzip ? "-gz" : "");
	security_headers(req);
	http_response_header(req, "ETag", etag);
	http_response_header(req, "Cache-Control",
	                     immutable ? "public, max-age=31536000, immutable" : "no-cache");
	http_response_header(req, "Vary", "Accept-Encoding");
	struct dav_cond_headers cond = {
	    .if_none_match = http_request_header(req, "If-None-Match"),
	};
	struct dav_cond_target target = {.exists = true, .etag = etag, .last_modified = -1};
	if (dav_cond_evaluate(&cond, &target, true) == 304) {
		close(fd);
		http_response_status(req, 304);
		http_response_send(req);
		return;
	}
	http_response_status(req, 200);
	http_response_header(req, "Content-Type", type);
	if (gzip)
		http_response_header(req, "Content-Encoding", "gzip");
	http_response_file(req, fd, 0, (uint64_t)st.st_size);
	http_response_send(req);
}

static void webui_index(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	if (node->webui == NULL) {
		not_found(req, "the web UI is not installed on this node ([webui] directory, "
		               "docs/webui.md)");
		return;
	}
	serve(req, node->webui->dir_fd, "index.html", false);
}

static void webui_asset(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	const char *name = http_request_param(req, "name");
	if (node->webui == NULL || node->webui->assets_fd < 0 || !name_ok(name)) {
		not_found(req, "no such file in the web UI");
		return;
	}
	serve(req, node->webui->assets_fd, name, true);
}

const struct http_route api_webui_routes[] = {
    {"GET", "/", webui_index, 0, NULL},
    {"GET", "/assets/{name}", webui_asset, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
