/* SPDX-License-Identifier: MIT */
/* The SMTP client: libcurl does the protocol (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA with dot
   stuffing); this file feeds it the message from a file and turns its result into the kinds
   the API answers with, keeping the server's last reply line as the reason. */
#include "smtp-client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct send_ctx {
	int fd;
	uint64_t left;
	int read_errno;
	char reply[200]; /* the server's first refusal (4xx, 5xx) */
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ctx_)
{
	struct send_ctx *ctx = ctx_;
	size_t want = size * nitems;
	if (want > ctx->left)
		want = (size_t)ctx->left;
	if (want == 0)
		return 0;
	ssize_t got;
	do
		got = read(ctx->fd, buf, want);
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		ctx->read_errno = got < 0 ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	ctx->left -= (uint64_t)got;
	return (size_t)got;
}

/* Keeps the server's first 4xx or 5xx reply line: the reason (not the QUIT after it). */
static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *ctx_)
{
	struct send_ctx *ctx = ctx_;
	(void)curl;
	if (type != CURLINFO_HEADER_IN || size == 0 || ctx->reply[0] != '\0' ||
	    (data[0] != '4' && data[0] != '5'))
		return 0;
	size_t len = size;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= sizeof(ctx->reply))
		len = sizeof(ctx->reply) - 1;
	memcpy(ctx->reply, data, len);
	ctx->reply[len] = '\0';
	return 0;
}

enum mail_error_kind smtp_client_error_kind(int curl_code, long reply)
{
	switch (curl_code) {
	case CURLE_OK:
		return MAIL_OK;
	case CURLE_LOGIN_DENIED:
		return MAIL_AUTH;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return MAIL_UNAVAILABLE;
	default:
		/* a command answered 4xx or 5xx: the server refused the message or a recipient;
		   anything else (a connection lost in the middle) is the server being away */
		return reply >= 400 && reply < 600 ? MAIL_REFUSED : MAIL_UNAVAILABLE;
	}
}

int smtp_client_send(const struct smtp_client_settings *set, const char *login, const char *from,
                     const char *const *rcpts, size_t count, int fd, uint64_t size,
                     struct mail_error *err)
{
	char url[MAIL_URL_HOST_MAX + 32], user[600], server[MAIL_URL_HOST_MAX + 8];
	struct send_ctx ctx = {.fd = fd, .left = size};
	struct curl_slist *list = NULL;
	int ret = -1;
	pthread_once(&curl_once, curl_init);
	bool v6 = strchr(set->url->host, ':') != NULL;
	snprintf(server, sizeof(server), "%s:%u", set->url->host, (unsigned)set->url->port);
	snprintf(url, sizeof(url), "%s://%s%s%s:%u", set->url->tls ? "smtps" : "smtp",
	         v6 ? "[" : "", set->url->host, v6 ? "]" : "", (unsigned)set->url->port);
	snprintf(user, sizeof(user), "%s*%s", login, set->master_user);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		err->kind = MAIL_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message), "the message file: %s",
		         strerror(errno));
		return -1;
	}
	CURL *curl = curl_easy_init();
	if (curl == NULL) {
		err->kind = MAIL_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message), "SMTP: libcurl did not start");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		list = curl_slist_append(list, rcpts[i]);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)set->timeout_ms);
	/* no answer for timeout_ms: given up (the transfer as a whole may take longer) */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)((set->timeout_ms + 999) / 1000));
	curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	                 (long)((set->timeout_ms + 999) / 1000));
	if (set->url->starttls)
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(curl, CURLOPT_USERNAME, user);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, set->master_password);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &ctx);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &ctx);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	CURLcode r = curl_easy_perform(curl);
	long reply = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
	err->kind = smtp_client_error_kind((int)r, reply);
	if (err->kind == MAIL_OK) {
		ret = 0;
	} else if (ctx.read_errno != 0) {
		snprintf(err->message, sizeof(err->message), "the message file: %s",
		         strerror(ctx.read_errno));
	} else if (err->kind == MAIL_UNAVAILABLE) {
		snprintf(err->message, sizeof(err->message), "SMTP server %.60s: %.120s", server,
		         curl_easy_strerror(r));
	} else {
		snprintf(err->message, sizeof(err->message), "SMTP server %.60s refused: %.140s",
		         server, ctx.reply[0] != '\0' ? ctx.reply : curl_easy_strerror(r));
	}
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return ret;
}
