/* SPDX-License-Identifier: MIT */
/* The IMAP connection pool: a mutex over a small idle list. Connects and logouts happen
   outside the lock, so one slow server does not stall the other workers' gets. */
#include "imap-pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mem.h"

/* an idle connection's key: "login|host:port:tls" (imap_pool_get_account) */
#define USER_MAX 640
/* servers remembered as down (per-user servers: one down server must not stop the others) */
#define DOWN_MAX 8

struct down {
	char server[MAIL_URL_HOST_MAX + 16]; /* "host:port:tls"; "" = free */
	uint64_t until_ms;
	struct mail_error err;
};

struct idle {
	struct idle *next;
	char user[USER_MAX];
	struct imap_client *client;
	uint64_t since_ms;
};

struct imap_pool {
	struct imap_pool_settings set;
	char *master_user, *master_password;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct idle *idle; /* most recently used first */
	unsigned open;
	struct down down[DOWN_MAX];
};

struct imap_pool *imap_pool_create(const struct imap_pool_settings *settings)
{
	struct imap_pool *p = mem_calloc(1, sizeof(*p));
	p->set = *settings;
	p->master_user = mem_strdup(settings->master_user != NULL ? settings->master_user : "");
	p->master_password =
	    mem_strdup(settings->master_password != NULL ? settings->master_password : "");
	p->set.master_user = p->master_user[0] != '\0' ? p->master_user : NULL;
	p->set.master_password = p->master_password;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	return p;
}

void imap_pool_destroy(struct imap_pool **pool)
{
	struct imap_pool *p = *pool;
	if (p == NULL)
		return;
	while (p->idle != NULL) {
		struct idle *i = p->idle;
		p->idle = i->next;
		imap_client_destroy(&i->client);
		mem_free(&i);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	explicit_bzero(p->master_password, strlen(p->master_password));
	mem_free(&p->master_password);
	mem_free(&p->master_user);
	mem_free(&p);
	*pool = NULL;
}

/* Unlinks and returns the idle entry after *link's chain matching user (NULL = any: the
   oldest); NULL when none. Under the lock. */
static struct idle *take_idle(struct imap_pool *p, const char *user)
{
	struct idle **link = &p->idle, **found = NULL;
	for (; *link != NULL; link = &(*link)->next)
		if (user == NULL || strcmp((*link)->user, user) == 0) {
			found = link;
			if (user != NULL)
				break;
		}
	if (found == NULL)
		return NULL;
	struct idle *i = *found;
	*found = i->next;
	return i;
}

/* Closes a connection that held a slot and frees the slot. Not under the lock. */
static void close_client(struct imap_pool *p, struct imap_client **client)
{
	imap_client_destroy(client);
	pthread_mutex_lock(&p->lock);
	p->open--;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* Takes a slot for a new connection (closing another user's idle one if the cap is reached,
   or waiting for one). Under the lock; 0 or -1 with err (MAIL_BUSY). *evict_r: an idle entry
   to close after unlocking. */
static int reserve(struct imap_pool *p, struct idle **evict_r, struct mail_error *err)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(p->set.wait_ms / 1000);
	deadline.tv_nsec += (long)(p->set.wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	*evict_r = NULL;
	while (p->open >= p->set.max_connections) {
		struct idle *victim = take_idle(p, NULL);
		if (victim != NULL) {
			/* its slot passes to us: open stays */
			*evict_r = victim;
			return 0;
		}
		if (pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT &&
		    p->open >= p->set.max_connections) {
			err->kind = MAIL_BUSY;
			snprintf(err->message, sizeof(err->message),
			         "all %u IMAP connections of this node are in use",
			         p->set.max_connections);
			return -1;
		}
	}
	p->open++;
	return 0;
}

static void server_key(const struct mail_url *url, char *key, size_t size)
{
	snprintf(key, size, "%s:%u:%c", url->host, (unsigned)url->port, url->tls ? 't' : 'p');
}

/* The idle key of acct: its login and server. */
static void account_key(const struct imap_pool *p, const struct imap_account *acct, char *key,
                        size_t size)
{
	char server[MAIL_URL_HOST_MAX + 16];
	server_key(acct->url != NULL ? acct->url : &p->set.url, server, sizeof(server));
	snprintf(key, size, "%s|%s", acct->login, server);
}

/* The entry of server while it is down (NULL when it is not), or, with claim, a slot for it
   (its own, a free one or the one that recovers first). Under the lock. */
static struct down *down_entry(struct imap_pool *p, const char *server, uint64_t now, bool claim)
{
	struct down *slot = &p->down[0];
	for (size_t i = 0; i < DOWN_MAX; i++) {
		struct down *d = &p->down[i];
		if (strcmp(d->server, server) == 0)
			return claim || now < d->until_ms ? d : NULL;
		if (d->until_ms < slot->until_ms)
			slot = d;
	}
	return claim ? slot : NULL;
}

int imap_pool_get_account(struct imap_pool *p, const struct imap_account *acct,
                          struct imap_client **client_r, bool *reused_r, struct mail_error *err)
{
	struct idle *mine = NULL, *evict = NULL;
	const struct mail_url *url = acct->url != NULL ? acct->url : &p->set.url;
	char user[USER_MAX], server[MAIL_URL_HOST_MAX + 16];
	if (strlen(acct->login) + sizeof(server) >= sizeof(user)) {
		err->kind = MAIL_AUTH;
		snprintf(err->message, sizeof(err->message), "the IMAP login is too long");
		return -1;
	}
	account_key(p, acct, user, sizeof(user));
	server_key(url, server, sizeof(server));
	uint64_t now = clock_mono_ms();
	*reused_r = false;
	/* idle connections too old to trust (anyone's: the server may have logged them out) */
	pthread_mutex_lock(&p->lock);
	struct idle *expired = NULL, **link = &p->idle;
	while (*link != NULL) {
		struct idle *i = *link;
		if (now - i->since_ms > p->set.idle_ms) {
			*link = i->next;
			i->next = expired;
			expired = i;
		} else {
			link = &i->next;
		}
	}
	pthread_mutex_unlock(&p->lock);
	while (expired != NULL) {
		struct idle *i = expired;
		expired = i->next;
		close_client(p, &i->client);
		mem_free(&i);
	}
	pthread_mutex_lock(&p->lock);
	mine = take_idle(p, user);
	if (mine != NULL) {
		pthread_mutex_unlock(&p->lock);
		*client_r = mine->client;
		*reused_r = true;
		mem_free(&mine);
		return 0;
	}
	const struct down *down = down_entry(p, server, now, false);
	if (down != NULL) {
		*err = down->err;
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	int r = reserve(p, &evict, err);
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		return -1;
	if (evict != NULL) {
		imap_client_destroy(&evict->client);
		mem_free(&evict);
	}
	struct imap_client *c = NULL;
	if (imap_client_connect(url, p->set.timeout_ms, &c, err) < 0 ||
	    imap_client_login(c, acct->login, p->set.master_user, p->set.master_password, err) <
	        0) {
		imap_client_destroy(&c);
		pthread_mutex_lock(&p->lock);
		p->open--;
		if (err->kind == MAIL_UNAVAILABLE) {
			uint64_t at = clock_mono_ms();
			struct down *d = down_entry(p, server, at, true);
			snprintf(d->server, sizeof(d->server), "%s", server);
			d->err = *err;
			d->until_ms = at + p->set.down_backoff_ms;
		}
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	*client_r = c;
	return 0;
}

int imap_pool_get(struct imap_pool *p, const char *user, struct imap_client **client_r,
                  bool *reused_r, struct mail_error *err)
{
	struct imap_account acct = {.url = NULL, .login = user};
	return imap_pool_get_account(p, &acct, client_r, reused_r, err);
}

void imap_pool_put_account(struct imap_pool *p, const struct imap_account *acct,
                           struct imap_client **client)
{
	struct imap_client *c = *client;
	char user[USER_MAX];
	*client = NULL;
	if (c == NULL)
		return;
	account_key(p, acct, user, sizeof(user));
	if (!imap_client_broken(c) && strlen(acct->login) + MAIL_URL_HOST_MAX + 16 < USER_MAX) {
		unsigned mine = 0;
		pthread_mutex_lock(&p->lock);
		for (struct idle *i = p->idle; i != NULL; i = i->next)
			mine += strcmp(i->user, user) == 0;
		if (mine < p->set.max_idle_per_user) {
			struct idle *i = mem_calloc(1, sizeof(*i));
			snprintf(i->user, sizeof(i->user), "%s", user);
			i->client = c;
			i->since_ms = clock_mono_ms();
			i->next = p->idle;
			p->idle = i;
			pthread_cond_signal(&p->freed);
			pthread_mutex_unlock(&p->lock);
			return;
		}
		pthread_mutex_unlock(&p->lock);
	}
	close_client(p, &c);
}

void imap_pool_put(struct imap_pool *p, const char *user, struct imap_client **client)
{
	struct imap_account acct = {.url = NULL, .login = user};
	imap_pool_put_account(p, &acct, client);
}

unsigned imap_pool_open(struct imap_pool *p)
{
	pthread_mutex_lock(&p->lock);
	unsigned n = p->open;
	pthread_mutex_unlock(&p->lock);
	return n;
}
