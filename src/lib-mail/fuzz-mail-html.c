/* SPDX-License-Identifier: MIT */
/* libFuzzer target for mail_html_sanitize: any bytes as an HTML body. The output must be
   free of anything active: no <script (or any element outside the allow-list), no on…
   attribute, and every href/src a scheme of the allow-list. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "mail-html.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool url_ok(const char *name, size_t nlen, const char *v)
{
	if (nlen == 4 && strncmp(name, "href", 4) == 0)
		return strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0 ||
		       strncasecmp(v, "mailto:", 7) == 0;
	if (nlen == 3 && strncmp(name, "src", 3) == 0)
		return strncmp(v, "/api/v1/mail/", 13) == 0 ||
		       strncasecmp(v, "data:image/", 11) == 0;
	if (nlen == 15 && strncmp(name, "data-tandem-src", 15) == 0)
		return strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0;
	return true;
}

/* Walks the tags of html (text and attribute values are escaped, so '<' and '>' delimit
   tags) and checks each attribute. */
static void check(const char *html)
{
	assert(strcasestr(html, "<script") == NULL);
	const char *p = html;
	while ((p = strchr(p, '<')) != NULL) {
		const char *end = strchr(p, '>');
		assert(end != NULL);
		const char *q = p + 1;
		while (q < end && *q != ' ')
			q++;
		while (q < end) {
			while (q < end && *q == ' ')
				q++;
			const char *name = q;
			while (q < end && *q != '=' && *q != ' ')
				q++;
			size_t nlen = (size_t)(q - name);
			if (nlen == 0 || *q != '=')
				break;
			assert(!(nlen >= 2 && strncasecmp(name, "on", 2) == 0));
			assert(q[1] == '"');
			const char *v = q + 2, *vend = strchr(v, '"');
			assert(vend != NULL && vend < end);
			char value[32] = "";
			size_t vlen = (size_t)(vend - v) < sizeof(value) - 1 ? (size_t)(vend - v)
			                                                     : sizeof(value) - 1;
			memcpy(value, v, vlen);
			value[vlen] = '\0';
			assert(url_ok(name, nlen, value));
			assert(!(nlen == 5 && strncmp(name, "style", 5) == 0 &&
			         (memmem(v, (size_t)(vend - v), "(", 1) != NULL &&
			          (strcasestr(value, "url") != NULL ||
			           strcasestr(value, "expression") != NULL))));
			q = vend + 1;
		}
		p = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mail_html_cid cids[] = {
	    {"img1@x", "/api/v1/mail/messages/INBOX/1/attachments/2"}};
	struct pool *pool = pool_create(0);
	struct mail_html_result r;
	mail_html_sanitize(pool, (const char *)data, size, cids, 1, &r);
	assert(r.html != NULL && r.text != NULL);
	check(r.html);
	pool_destroy(&pool);
	return 0;
}
