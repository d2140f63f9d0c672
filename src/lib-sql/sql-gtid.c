/* SPDX-License-Identifier: MIT */
/* MariaDB GTID positions: parsing, formatting, comparing, merging. */
#include "sql-gtid.h"

#include <stdio.h>
#include <string.h>

/* Reads a decimal number up to max into *v; returns the byte after it or NULL. */
static const char *parse_number(const char *p, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;
	const char *start = p;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (max - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	if (p == start)
		return NULL;
	*v = n;
	return p;
}

/* Index of domain in pos, or -1. */
static int find_domain(const struct sql_gtid_pos *pos, uint32_t domain)
{
	for (unsigned i = 0; i < pos->count; i++) {
		if (pos->gtids[i].domain == domain)
			return (int)i;
	}
	return -1;
}

int sql_gtid_parse(const char *s, struct sql_gtid_pos *pos_r)
{
	pos_r->count = 0;
	if (*s == '\0')
		return 0;
	for (const char *p = s;;) {
		uint64_t domain, server, seq;
		if ((p = parse_number(p, UINT32_MAX, &domain)) == NULL || *p++ != '-' ||
		    (p = parse_number(p, UINT32_MAX, &server)) == NULL || *p++ != '-' ||
		    (p = parse_number(p, UINT64_MAX, &seq)) == NULL)
			return -1;
		if (pos_r->count == SQL_GTID_MAX_DOMAINS ||
		    find_domain(pos_r, (uint32_t)domain) >= 0)
			return -1;
		pos_r->gtids[pos_r->count++] =
		    (struct sql_gtid){(uint32_t)domain, (uint32_t)server, seq};
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -1;
		while (*p == ' ')
			p++;
	}
}

int sql_gtid_format(const struct sql_gtid_pos *pos, char *out, size_t size)
{
	size_t used = 0;
	if (size == 0)
		return -1;
	out[0] = '\0';
	for (unsigned i = 0; i < pos->count; i++) {
		const struct sql_gtid *g = &pos->gtids[i];
		int n = snprintf(out + used, size - used, "%s%u-%u-%llu", i > 0 ? "," : "",
		                 g->domain, g->server, (unsigned long long)g->seq);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}

bool sql_gtid_covers(const struct sql_gtid_pos *have, const struct sql_gtid_pos *want)
{
	for (unsigned i = 0; i < want->count; i++) {
		const struct sql_gtid *w = &want->gtids[i];
		int h = find_domain(have, w->domain);
		if (h < 0 || have->gtids[h].seq < w->seq)
			return false;
	}
	return true;
}

uint64_t sql_gtid_behind(const struct sql_gtid_pos *have, const struct sql_gtid_pos *want)
{
	uint64_t behind = 0;
	for (unsigned i = 0; i < want->count; i++) {
		const struct sql_gtid *w = &want->gtids[i];
		int h = find_domain(have, w->domain);
		uint64_t got = h < 0 ? 0 : have->gtids[h].seq;
		if (got < w->seq)
			behind += w->seq - got;
	}
	return behind;
}

int sql_gtid_merge(struct sql_gtid_pos *into, const struct sql_gtid_pos *from)
{
	struct sql_gtid_pos out = *into;
	for (unsigned i = 0; i < from->count; i++) {
		const struct sql_gtid *f = &from->gtids[i];
		int o = find_domain(&out, f->domain);
		if (o < 0) {
			if (out.count == SQL_GTID_MAX_DOMAINS)
				return -1;
			out.gtids[out.count++] = *f;
		} else if (f->seq > out.gtids[o].seq) {
			out.gtids[o] = *f;
		}
	}
	*into = out;
	return 0;
}
