/* SPDX-License-Identifier: MIT */
/* MariaDB GTID positions ("domain-server-seq", comma-separated per replication domain):
   parsing, formatting, "has this server applied that" and merging. */
#ifndef TANDEM_SQL_GTID_H
#define TANDEM_SQL_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQL_GTID_MAX_DOMAINS 16
/* Room for a formatted position of SQL_GTID_MAX_DOMAINS entries. */
#define SQL_GTID_POS_MAX (SQL_GTID_MAX_DOMAINS * 43)

struct sql_gtid {
	uint32_t domain;
	uint32_t server;
	uint64_t seq;
};

/* At most one entry per domain, in the order first seen. */
struct sql_gtid_pos {
	unsigned count;
	struct sql_gtid gtids[SQL_GTID_MAX_DOMAINS];
};

/* Parses "0-1-42,1-2-7" (spaces after commas allowed; "" is the empty position). Fails on
   anything else, on a repeated domain and on more than SQL_GTID_MAX_DOMAINS domains. */
int sql_gtid_parse(const char *s, struct sql_gtid_pos *pos_r);
/* Formats pos as MariaDB does; fails (-1) if size is too small. */
int sql_gtid_format(const struct sql_gtid_pos *pos, char *out, size_t size);
/* True when have has reached want in every domain want names (seq only: within a domain
   sequence numbers only grow, whichever server wrote them). */
bool sql_gtid_covers(const struct sql_gtid_pos *have, const struct sql_gtid_pos *want);
/* How many transactions have is behind want: the sum over want's domains of the sequence
   numbers have lacks (a domain have does not name counts in full). 0 when have covers want. */
uint64_t sql_gtid_behind(const struct sql_gtid_pos *have, const struct sql_gtid_pos *want);
/* into = the greater of both per domain. Returns -1 (into unchanged) if the union has too
   many domains. */
int sql_gtid_merge(struct sql_gtid_pos *into, const struct sql_gtid_pos *from);

#endif
