/* SPDX-License-Identifier: MIT */
/* The IMAP client and pool against a real Dovecot (scripts/mail-system.sh on loopback, as
   root): logins, folders with counts, server-side and local sorting agreeing, envelopes with
   encoded words, the pool's cap, and typed errors when the server refuses or is gone. Skipped
   (passes, saying so) when Dovecot or root is missing. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap-client.h"
#include "imap-pool.h"
#include "pool.h"
#include "test.h"

static char dir[] = "/tmp/tandem-imap-test-XXXXXX";
static char script[1024];
static struct mail_url url;
static char master_pw[128];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool start_dovecot(void)
{
	const char *src = getenv("TANDEM_SOURCE_DIR");
	if (src == NULL || geteuid() != 0 || access("/usr/sbin/dovecot", X_OK) != 0 ||
	    mkdtemp(dir) == NULL)
		return false;
	snprintf(script, sizeof(script), "%s/scripts/mail-system.sh", src);
	if (sh("%s start %s >/dev/null", script, dir) != 0)
		return false;
	char path[256], line[256];
	snprintf(path, sizeof(path), "%s/env", dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	const char *error;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "MAIL_IMAP_URL=", 14) == 0 &&
		    mail_url_parse(line + 14, MAIL_URL_IMAP, &url, &error) < 0)
			return false;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/master-password", dir);
	f = fopen(path, "r");
	if (f == NULL || fgets(master_pw, sizeof(master_pw), f) == NULL)
		return false;
	fclose(f);
	master_pw[strcspn(master_pw, "\n")] = '\0';
	/* three messages for alice, subjects out of date order, one with encoded words */
	sh("printf 'From: Zed <zed@example.com>\\r\\nSubject: beta\\r\\nDate: Mon, 1 Jan 2024 "
	   "10:00:00 +0000\\r\\n\\r\\nb\\r\\n' | %s deliver %s alice",
	   script, dir);
	sh("printf 'From: =?utf-8?q?J=C3=BCrgen?= <j@example.com>\\r\\nSubject: "
	   "=?utf-8?b?w6Rsb2hh?=\\r\\nDate: Tue, 2 Jan 2024 10:00:00 +0100\\r\\n\\r\\na\\r\\n' "
	   "| %s deliver %s alice",
	   script, dir);
	sh("printf 'From: amy@example.com\\r\\nSubject: gamma\\r\\nDate: Sun, 31 Dec 2023 "
	   "10:00:00 +0000\\r\\n\\r\\nc\\r\\n' | %s deliver %s alice",
	   script, dir);
	return true;
}

static struct imap_client *login_alice(void)
{
	struct imap_client *c = NULL;
	struct mail_error err = {0};
	test_assert(imap_client_connect(&url, 5000, &c, &err) == 0);
	if (c == NULL)
		return NULL;
	test_assert(imap_client_login(c, "alice", "tandem", master_pw, &err) == 0);
	return c;
}

static void test_login_and_folders(void)
{
	struct imap_client *c = login_alice(), *bad = NULL;
	struct pool *pool = pool_create(0);
	struct imap_folder *folders;
	size_t n = 0;
	struct mail_error err = {0};
	test_assert(imap_client_folders(c, pool, &folders, &n, &err) == 0);
	test_assert_int_eq(n, 4);
	test_assert_str_eq(folders[0].name, "INBOX");
	test_assert_int_eq(folders[0].total, 3);
	test_assert_int_eq(folders[0].unread, 3);
	test_assert_int_eq(folders[0].delimiter, '/');
	imap_client_destroy(&c);
	test_assert(c == NULL);

	test_assert(imap_client_connect(&url, 5000, &bad, &err) == 0);
	test_assert(imap_client_login(bad, "alice", "tandem", "wrong", &err) < 0);
	test_assert_int_eq(err.kind, MAIL_AUTH);
	test_assert(strstr(err.message, "master-user login refused") != NULL);
	imap_client_destroy(&bad);
	pool_destroy(&pool);
}

/* UTF-8 names in, modified UTF-7 on the wire, UTF-8 back; folders for use by their marks. */
static void test_utf8_names_and_special_use(void)
{
	struct imap_client *c = login_alice();
	struct pool *pool = pool_create(0);
	struct imap_folder *folders;
	size_t n = 0;
	bool exists = false, found = false;
	struct mail_error err = {0};
	const char *taipei = "\xe5\x8f\xb0\xe5\x8c\x97", *name = NULL;
	test_assert(imap_client_folder_create(c, taipei, &err) == 0);
	test_assert(imap_client_folder_exists(c, taipei, &exists, &err) == 0 && exists);
	test_assert(imap_client_folders(c, pool, &folders, &n, &err) == 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(folders[i].name, taipei) == 0)
			found =
			    folders[i].subscribed && folders[i].special_use == IMAP_SPECIAL_NONE;
		else if (strcmp(folders[i].name, "Trash") == 0)
			test_assert_int_eq(folders[i].special_use, IMAP_SPECIAL_TRASH);
	}
	test_assert(found);
	test_assert(imap_client_special_folder(c, IMAP_SPECIAL_DRAFTS, &name, &err) == 0);
	test_assert_str_eq(name, "Drafts");
	test_assert_str_eq(imap_special_use_name(IMAP_SPECIAL_DRAFTS), "drafts");
	test_assert(imap_special_use_name(IMAP_SPECIAL_NONE) == NULL);
	/* a name that is not UTF-8 reaches no folder */
	test_assert(imap_client_folder_delete(c, "ab\xff", &err) < 0);
	test_assert_int_eq(err.kind, MAIL_NOT_FOUND);
	test_assert(imap_client_folder_delete(c, taipei, &err) == 0);
	test_assert(imap_client_folder_exists(c, taipei, &exists, &err) == 0 && !exists);
	imap_client_destroy(&c);
	pool_destroy(&pool);
}

static size_t pos_of(const uint32_t *uids, uint32_t uid)
{
	size_t i = 0;
	while (i < 3 && uids[i] != uid)
		i++;
	return i;
}

static void test_sort_and_fetch(void)
{
	struct imap_client *c = login_alice();
	struct pool *pool = pool_create(0);
	struct mail_error err = {0};
	uint32_t total, *server, *local;
	size_t n1, n2;
	test_assert(imap_client_has_sort(c));
	test_assert(imap_client_select(c, "INBOX", &total, &err) == 0);
	test_assert_int_eq(total, 3);
	static const enum imap_sort keys[] = {IMAP_SORT_DATE, IMAP_SORT_SUBJECT, IMAP_SORT_SIZE};
	for (size_t k = 0; k < 3; k++)
		for (int rev = 0; rev < 2; rev++) {
			struct imap_client *l = login_alice();
			imap_client_disable_sort(l);
			test_assert(imap_client_select(l, "INBOX", &total, &err) == 0);
			test_assert(imap_client_sorted_uids(c, pool, keys[k], rev, &server, &n1,
			                                    &err) == 0);
			test_assert(
			    imap_client_sorted_uids(l, pool, keys[k], rev, &local, &n2, &err) == 0);
			test_assert_int_eq(n1, 3);
			test_assert_int_eq(n2, 3);
			imap_client_destroy(&l);
			if (keys[k] != IMAP_SORT_SUBJECT) {
				test_assert(n1 == n2 &&
				            memcmp(server, local, n1 * sizeof(*server)) == 0);
				continue;
			}
			/* here: byte order of the decoded subject, so only the ASCII ones
			   (beta, UID 1; gamma, UID 3) agree with Dovecot's Unicode collation */
			test_assert((pos_of(server, 1) < pos_of(server, 3)) ==
			            (pos_of(local, 1) < pos_of(local, 3)));
		}
	/* by date: gamma (2023), beta, then the encoded one (2 Jan 09:00 UTC) */
	test_assert(imap_client_sorted_uids(c, pool, IMAP_SORT_DATE, false, &server, &n1, &err) ==
	            0);
	struct imap_message msgs[3];
	test_assert(imap_client_fetch(c, pool, server, n1, msgs, &err) == 0);
	test_assert_str_eq(msgs[0].subject, "gamma");
	test_assert_str_eq(msgs[1].subject, "beta");
	test_assert_str_eq(msgs[1].from.name, "Zed");
	test_assert_str_eq(msgs[1].from.email, "zed@example.com");
	test_assert_int_eq(msgs[1].date, 1704103200);
	test_assert_str_eq(msgs[2].subject, "\xc3\xa4loha");
	test_assert_str_eq(msgs[2].from.name, "J\xc3\xbcrgen");
	test_assert_int_eq(msgs[2].date, 1704186000);
	test_assert(msgs[2].flags == 0 && msgs[2].size > 50);
	test_assert(imap_client_select(c, "NoSuchFolder", &total, &err) < 0);
	test_assert_int_eq(err.kind, MAIL_NOT_FOUND);
	imap_client_destroy(&c);
	pool_destroy(&pool);
}

/* The tests' pool on server: max_connections connections, backed off for backoff_ms. */
static struct imap_pool_settings pool_settings(const struct mail_url *server, unsigned max,
                                               uint64_t backoff_ms)
{
	struct imap_pool_settings set = {.url = *server,
	                                 .master_user = "tandem",
	                                 .master_password = master_pw,
	                                 .timeout_ms = 5000,
	                                 .max_connections = max,
	                                 .max_idle_per_user = 1,
	                                 .idle_ms = 60000,
	                                 .wait_ms = 200,
	                                 .down_backoff_ms = backoff_ms};
	return set;
}

static void test_pool(void)
{
	struct imap_pool_settings set = pool_settings(&url, 1, 1000);
	struct imap_pool *p = imap_pool_create(&set);
	struct imap_client *a = NULL, *b = NULL, *first;
	struct mail_error err = {0};
	bool reused;
	test_assert(imap_pool_get(p, "alice", &a, &reused, &err) == 0 && !reused);
	first = a;
	/* the cap: bob waits, then is told */
	test_assert(imap_pool_get(p, "bob", &b, &reused, &err) < 0);
	test_assert_int_eq(err.kind, MAIL_BUSY);
	imap_pool_put(p, "alice", &a);
	test_assert(a == NULL);
	test_assert(imap_pool_get(p, "alice", &a, &reused, &err) == 0 && reused && a == first);
	imap_pool_put(p, "alice", &a);
	/* bob takes alice's idle slot */
	test_assert(imap_pool_get(p, "bob", &b, &reused, &err) == 0 && !reused);
	test_assert_int_eq(imap_pool_open(p), 1);
	imap_pool_put(p, "bob", &b);
	imap_pool_destroy(&p);
	/* idle connections expire, anyone's: a get of alice's closes bob's old one */
	set.max_connections = 4;
	set.idle_ms = 500;
	p = imap_pool_create(&set);
	test_assert(imap_pool_get(p, "bob", &b, &reused, &err) == 0);
	imap_pool_put(p, "bob", &b);
	usleep(700 * 1000);
	test_assert(imap_pool_get(p, "alice", &a, &reused, &err) == 0 && !reused);
	test_assert_int_eq(imap_pool_open(p), 1);
	imap_pool_put(p, "alice", &a);
	test_assert(imap_pool_get(p, "alice", &a, &reused, &err) == 0 && reused);
	imap_pool_put(p, "alice", &a);
	imap_pool_destroy(&p);
	set.idle_ms = 60000;
	p = imap_pool_create(&set);
	test_assert(imap_pool_get(p, "bob", &b, &reused, &err) == 0);
	imap_pool_put(p, "bob", &b);
	/* the mail system goes away: a stale idle client, then MAIL_UNAVAILABLE fast */
	test_assert(sh("%s stop %s", script, dir) == 0);
	test_assert(imap_pool_get(p, "bob", &b, &reused, &err) == 0 && reused);
	uint32_t total;
	test_assert(imap_client_select(b, "INBOX", &total, &err) < 0);
	test_assert_int_eq(err.kind, MAIL_UNAVAILABLE);
	test_assert(imap_client_broken(b));
	imap_pool_put(p, "bob", &b);
	test_assert_int_eq(imap_pool_open(p), 0);
	test_assert(imap_pool_get(p, "bob", &b, &reused, &err) < 0);
	test_assert_int_eq(err.kind, MAIL_UNAVAILABLE);
	test_assert(strstr(err.message, "cannot connect") != NULL);
	imap_pool_destroy(&p);
	test_assert(p == NULL);
}

/* Accounts on other servers: keyed by login and server, backed off per server. */
static void test_pool_accounts(void)
{
	struct mail_url dead = url;
	dead.port = 1; /* nothing listens there */
	struct imap_pool_settings set = pool_settings(&dead, 4, 60000);
	struct imap_pool *p = imap_pool_create(&set);
	struct imap_account own = {.url = &url, .login = "alice"};
	struct imap_client *a = NULL, *first;
	struct mail_error err = {0};
	bool reused;
	/* the pool's server is down (and backed off for a minute) */
	test_assert(imap_pool_get(p, "alice", &a, &reused, &err) < 0);
	test_assert_int_eq(err.kind, MAIL_UNAVAILABLE);
	/* a user of another server is not held back by it */
	test_assert(imap_pool_get_account(p, &own, &a, &reused, &err) == 0 && !reused);
	first = a;
	uint32_t total;
	test_assert(imap_client_select(a, "INBOX", &total, &err) == 0);
	imap_pool_put_account(p, &own, &a);
	test_assert(imap_pool_get_account(p, &own, &a, &reused, &err) == 0 && reused && a == first);
	imap_pool_put_account(p, &own, &a);
	/* the same login on the default server is another account: not that connection */
	test_assert(imap_pool_get(p, "alice", &a, &reused, &err) < 0);
	char want[300];
	snprintf(want, sizeof(want), "IMAP server %s:1: cannot connect", url.host);
	test_assert(strstr(err.message, want) != NULL);
	test_assert_int_eq(imap_pool_open(p), 1);
	imap_pool_destroy(&p);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"login_and_folders", test_login_and_folders},
	    {"utf8_names_and_special_use", test_utf8_names_and_special_use},
	    {"sort_and_fetch", test_sort_and_fetch},
	    {"pool_accounts", test_pool_accounts},
	    {"pool", test_pool},
	    {NULL, NULL},
	};
	signal(SIGPIPE, SIG_IGN); /* as tandemd (daemon-signals.c): libetpan writes to dead peers */
	if (!start_dovecot()) {
		printf("test-imap-client: skipped (needs root, dovecot and TANDEM_SOURCE_DIR)\n");
		return 0;
	}
	int r = test_run(cases);
	sh("%s stop %s >/dev/null 2>&1", script, dir);
	sh("rm -rf %s", dir);
	return r;
}
