/* SPDX-License-Identifier: MIT */
/* The node's IMAP connections (docs/internals/mail.md): logged-in clients kept per user
   between requests, a cap on all of them, and a short back-off after the mail system could not
   be reached so that a down server costs one connect attempt per second, not one per request.
   Thread-safe; get and put are called on workers (a get may connect: it blocks). */
#ifndef TANDEM_IMAP_POOL_H
#define TANDEM_IMAP_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "imap-client.h"

struct imap_pool_settings {
	struct mail_url url;
	const char *master_user; /* logins are "user*master_user" with master_password */
	const char *master_password;
	unsigned timeout_ms;      /* connect and each command */
	unsigned max_connections; /* on this node, in use and idle */
	unsigned max_idle_per_user;
	uint64_t idle_ms;         /* an idle connection older than this is closed, not reused */
	uint64_t wait_ms;         /* how long a get waits for a free slot before MAIL_BUSY */
	uint64_t down_backoff_ms; /* after MAIL_UNAVAILABLE, gets fail at once this long */
};

struct imap_pool;

/* Copies settings (the strings too). */
struct imap_pool *imap_pool_create(const struct imap_pool_settings *settings);
/* Closes every idle connection; none may be in use. Sets *pool to NULL. */
void imap_pool_destroy(struct imap_pool **pool);

/* A logged-in client for user: one of user's idle ones (*reused_r true: it may have gone stale,
   see imap_client_broken) or a new one. 0, or -1 with err (MAIL_UNAVAILABLE, MAIL_AUTH,
   MAIL_BUSY). Every client got goes back with imap_pool_put. */
int imap_pool_get(struct imap_pool *pool, const char *user, struct imap_client **client_r,
                  bool *reused_r, struct mail_error *err);
/* Gives client back: kept idle for user, or closed when broken or beyond the idle cap. Sets
 *client to NULL. */
void imap_pool_put(struct imap_pool *pool, const char *user, struct imap_client **client);
/* Connections open now (in use and idle), for metrics and tests. */
unsigned imap_pool_open(struct imap_pool *pool);

/* A user's mailbox: on url (NULL = the pool's server), logged in as login (with the master
   user as "login*master"). Idle connections are kept per account (login and server), the cap
   is the node's, and a server that cannot be reached is backed off alone: the others' users
   keep working. imap_pool_get/put above are these with url NULL. */
struct imap_account {
	const struct mail_url *url;
	const char *login;
};
int imap_pool_get_account(struct imap_pool *pool, const struct imap_account *acct,
                          struct imap_client **client_r, bool *reused_r, struct mail_error *err);
void imap_pool_put_account(struct imap_pool *pool, const struct imap_account *acct,
                           struct imap_client **client);

#endif
