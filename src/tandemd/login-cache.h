/* SPDX-License-Identifier: MIT */
/* The login cache: (context, login) -> the login row, so a login costs argon2 but no SQL read;
   the node owns it and drops from it, the session API reads and fills it. */
#ifndef TANDEMD_LOGIN_CACHE_H
#define TANDEMD_LOGIN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache;
struct login_cache;
struct prov_login;

/* At most entries rows, none older than ttl_ms (a safety net: the drops keep it right). */
struct login_cache *login_cache_create(size_t entries, uint64_t ttl_ms);
void login_cache_destroy(struct login_cache **lc);

/* The row of login in cid, into user_r: true when it is cached and was read under the same
   context revocation generation gen (a row read before a revocation is never used after it,
   even while this node's drop of it is still on its way through the invalidation stream). */
bool login_cache_get(struct login_cache *lc, int64_t cid, const char *login, uint64_t gen,
                     struct prov_login *user_r);
/* Take a ticket before reading the row from SQL and give it to login_cache_put(): a row read
   before a change whose drop went by meanwhile is not stored. */
uint64_t login_cache_ticket(struct login_cache *lc);
/* Stores user as the row of login in cid, read under gen; nothing when a drop happened since
   ticket or the login is too long to keep. Cache only rows that exist: a login created later
   must work at once. */
void login_cache_put(struct login_cache *lc, uint64_t ticket, int64_t cid, const char *login,
                     uint64_t gen, const struct prov_login *user);

/* Drops: every login row of uid in cid (a changed or deleted user), every row of cid (a
   changed or deleted context), everything (the cluster lost track of changes). */
void login_cache_forget_user(struct login_cache *lc, int64_t cid, int64_t uid);
void login_cache_drop_context(struct login_cache *lc, int64_t cid);
void login_cache_clear(struct login_cache *lc);

/* The underlying cache, for /metrics (cache_get_stats(), named "login"). */
struct cache *login_cache_cache(struct login_cache *lc);

#endif
