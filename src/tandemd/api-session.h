/* SPDX-License-Identifier: MIT */
/* The session API's handlers (their routes are in routes.h) and the login cache they use. */
#ifndef TANDEMD_API_SESSION_H
#define TANDEMD_API_SESSION_H

#include <stddef.h>
#include <stdint.h>

/* Logins read their row (id, password hash, enabled, reason) through node->login_cache, keyed
   by (cid, cache_key_str(login)); argon2 still runs on every login. Value size for
   cache_create(), and the drop for a changed user (every login row of uid). */
struct cache;
size_t api_session_login_entry_size(void);
void api_session_forget_user(struct cache *logins, int64_t cid, int64_t uid);

#endif
