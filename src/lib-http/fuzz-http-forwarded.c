/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the client address from X-Forwarded-For fields (the input cut into
   fields at '\n') behind a fixed set of trusted proxies. */
#include <stdint.h>
#include <string.h>

#include "http-forwarded.h"
#include "http-parser.h"

#define MAX_FIELDS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cidr trusted[4];
	static size_t trusted_count;
	const char *error;
	if (trusted_count == 0 && cidr_parse_list("127.0.0.0/8 10.0.0.0/8 2001:db8::/32 ::1",
	                                          trusted, 4, &trusted_count, &error) < 0)
		__builtin_trap();

	struct http_header h[MAX_FIELDS];
	size_t n = 0;
	struct strv rest = strv_make((const char *)data, size), line;
	while (rest.len > 0 && n < MAX_FIELDS) {
		strv_split(rest, '\n', &line, &rest);
		h[n].name = n % 3 == 2 ? STRV_LIT("Via") : STRV_LIT("x-forwarded-for");
		h[n].value = line;
		n++;
	}
	struct cidr_addr peer, client;
	cidr_addr_parse(STRV_LIT("127.0.0.1"), &peer);
	error = NULL;
	enum http_forwarded_source src =
	    http_forwarded_client(h, n, &peer, trusted, trusted_count, &client, &error);
	bool is_peer = memcmp(client.b, peer.b, sizeof(peer.b)) == 0;
	if (src == HTTP_FORWARDED_MALFORMED && (!is_peer || error == NULL))
		__builtin_trap();
	if (src == HTTP_FORWARDED_PEER && !is_peer)
		__builtin_trap();
	/* whatever was taken prints as an address that parses back to itself */
	char text[CIDR_TEXT_MAX];
	struct cidr_addr again;
	cidr_addr_format(&client, text);
	if (cidr_addr_parse(strv_from_cstr(text), &again) < 0 ||
	    memcmp(again.b, client.b, sizeof(again.b)) != 0)
		__builtin_trap();
	return 0;
}
