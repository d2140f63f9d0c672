/* SPDX-License-Identifier: MIT */
/* Unit tests for storage-gab.c on SQLite (or the database TANDEM_TEST_SQL_URL names): search
   by substring and prefix in display-name order, limits and bad queries, the snapshot
   following the revision (a rename and a deletion seen without any invalidation), publishing,
   and the vCard and JSON forms. */
#include <stdio.h>
#include <string.h>

#include "sql.h"
#include "storage-gab.h"
#include "test-storage-env.h"
#include "test-storage-fixture.h"
#include "test.h"

static struct test_storage_env env;

static struct storage_user *as(int64_t uid)
{
	return storage_user_create(env.storage, env.pool, TEST_CID, uid);
}

/* Runs sql (binding text when not NULL, then cid) and moves the directory's revision, as
   provisioning does in its transaction. */
static void change(const char *sql, const char *text, int64_t uid, bool deleted)
{
	struct sql_conn *conn;
	struct sql_error err;
	test_assert(sql_conn_get(env.db, SQL_WRITE, TEST_CID, &conn, &err) == 0);
	test_assert((text != NULL ? sql_run(conn, &err, sql, "si", text, (int64_t)TEST_CID)
	                          : sql_run(conn, &err, sql, "i", (int64_t)TEST_CID)) == 0);
	test_assert(storage_gab_user_changed(conn, TEST_CID, uid, deleted, &err) == 0);
	sql_conn_put(&conn);
}

static void setup(void)
{
	test_storage_env_setup(&env, "contacts", 0);
	change("DELETE FROM gab_published WHERE cid=?", NULL, 0, false);
	static const char *const users[][3] = {{"alice", "Alice Adams", "alice@corp.example"},
	                                       {"bob", "Bob Carolson", "bob@corp.example"},
	                                       {"carol", "Carol Smith", "carol@corp.example"}};
	char sql[120];
	for (size_t i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql),
		         "UPDATE users SET display_name=? WHERE cid=? AND login='%s'", users[i][0]);
		change(sql, users[i][1], 0, false);
		snprintf(sql, sizeof(sql), "UPDATE users SET email=? WHERE cid=? AND login='%s'",
		         users[i][0]);
		change(sql, users[i][2], 0, false);
	}
}

/* The logins q finds, comma-separated, into buf. */
static const char *find(const char *q, enum storage_gab_match match, size_t max, char *buf,
                        size_t size)
{
	json_t *j, *e;
	struct storage_error err;
	size_t i;
	buf[0] = '\0';
	if (storage_gab_search(as(TEST_ALICE), q, match, max, &j, &err) < 0)
		return "error";
	json_array_foreach(json_object_get(j, "entries"), i, e)
	{
		size_t n = strlen(buf);
		snprintf(buf + n, size - n, "%s%s", n > 0 ? "," : "",
		         json_string_value(json_object_get(e, "login")));
		test_assert(json_is_true(json_object_get(e, "read_only")));
	}
	if (json_is_true(json_object_get(j, "more"))) {
		size_t n = strlen(buf);
		snprintf(buf + n, size - n, "+");
	}
	json_decref(j);
	return buf;
}

static void test_search(void)
{
	char b[200];
	struct storage_error err;
	json_t *j;
	setup();
	test_assert_str_eq(find(NULL, STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "alice,bob,carol");
	test_assert_str_eq(find("CAROL", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "bob,carol");
	test_assert_str_eq(find("arol", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "bob,carol");
	test_assert_str_eq(find("arol", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "");
	test_assert_str_eq(find("carol", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "bob,carol");
	test_assert_str_eq(find("corp", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "alice,bob,carol");
	/* through the word index: across a word's end, and in display-name order */
	test_assert_str_eq(find("alice ad", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "alice");
	test_assert_str_eq(find("carolson", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "bob");
	test_assert_str_eq(find("carol smi", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "carol");
	test_assert_str_eq(find("carol smx", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "");
	test_assert_str_eq(find("c", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "alice,bob,carol");
	test_assert_str_eq(find("c", STORAGE_GAB_PREFIX, 1, b, sizeof(b)), "alice+");
	/* a text starting with a separator is scanned: it never follows one */
	test_assert_str_eq(find("@corp", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "");
	test_assert_str_eq(find("@corp", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)),
	                   "alice,bob,carol");
	test_assert_str_eq(find("corp", STORAGE_GAB_SUBSTRING, 2, b, sizeof(b)), "alice,bob+");
	test_assert_str_eq(find("nobody", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "");
	test_assert(storage_gab_search(as(TEST_ALICE), "a\tb", STORAGE_GAB_SUBSTRING, 0, &j, &err) <
	            0);
	test_assert_int_eq(err.status, STORAGE_REFUSED);
	test_assert(strstr(err.message, "control character") != NULL);
	char longq[STORAGE_GAB_QUERY_MAX + 2];
	memset(longq, 'a', sizeof(longq) - 1);
	longq[sizeof(longq) - 1] = '\0';
	test_assert(storage_gab_search(as(TEST_ALICE), longq, STORAGE_GAB_SUBSTRING, 0, &j, &err) <
	            0);
	test_assert_int_eq(err.refusal, STORAGE_INVALID);
}

static void test_follows_the_revision(void)
{
	char b[200];
	int64_t r0, r1;
	struct storage_error err;
	struct storage_gab_entry e;
	setup();
	test_assert(storage_gab_revision(as(TEST_BOB), &r0, &err) == 0);
	test_assert_str_eq(find("smith", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "carol");
	/* a rename, with no invalidation at all: the revision alone makes it seen */
	change("UPDATE users SET display_name=? WHERE cid=? AND login='carol'", "Carol Quagga",
	       TEST_CAROL, false);
	test_assert(storage_gab_revision(as(TEST_BOB), &r1, &err) == 0);
	test_assert(r1 > r0);
	test_assert_str_eq(find("smith", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "");
	test_assert_str_eq(find("quagga", STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "carol");
	/* deleted and disabled users are gone */
	change("DELETE FROM users WHERE cid=? AND login='carol'", NULL, TEST_CAROL, true);
	change("UPDATE users SET enabled=0 WHERE cid=? AND login='bob'", NULL, TEST_BOB, false);
	test_assert_str_eq(find(NULL, STORAGE_GAB_SUBSTRING, 0, b, sizeof(b)), "alice");
	test_assert(storage_gab_get(as(TEST_ALICE), TEST_CAROL, &e, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	/* and a dropped snapshot is loaded again */
	storage_gab__drop(NULL, 1);
	test_assert_str_eq(find("alice", STORAGE_GAB_PREFIX, 0, b, sizeof(b)), "alice");
}

static void test_publish_and_forms(void)
{
	struct storage_error err;
	struct storage_gab_entry e;
	int64_t r0, r1;
	setup();
	test_assert(storage_gab_revision(as(TEST_ALICE), &r0, &err) == 0);
	test_assert(storage_gab_publish(as(TEST_ALICE), "+49 30 1234", "Engines, Ltd", &err) == 0);
	test_assert(storage_gab_revision(as(TEST_ALICE), &r1, &err) == 0);
	test_assert_int_eq(r1, r0 + 1);
	test_assert(storage_gab_get(as(TEST_BOB), TEST_ALICE, &e, &err) == 0);
	test_assert_str_eq(e.phone, "+49 30 1234");
	test_assert_str_eq(e.org, "Engines, Ltd");
	const char *card = storage_gab_vcard(env.pool, &e);
	test_assert(strstr(card, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:tandem-gab-1-1\r\n") == card);
	test_assert(strstr(card, "FN:Alice Adams\r\n") != NULL);
	test_assert(strstr(card, "ORG:Engines\\, Ltd\r\n") != NULL);
	test_assert(strstr(card, "TEL:+49 30 1234\r\n") != NULL);
	test_assert(strstr(card, "EMAIL:alice@corp.example\r\n") != NULL);
	const char *etag = storage_gab_etag(env.pool, &e);
	test_assert_int_eq(strlen(etag), 16);
	test_assert_str_eq(storage_gab_vcard_etag(env.pool, card),
	                   etag); /* CardDAV's, one render */
	/* only the phone changes; "" removes it */
	test_assert(storage_gab_publish(as(TEST_ALICE), "", NULL, &err) == 0);
	test_assert(storage_gab_get(as(TEST_ALICE), TEST_ALICE, &e, &err) == 0);
	test_assert_str_eq(e.phone, "");
	test_assert_str_eq(e.org, "Engines, Ltd");
	test_assert(strcmp(storage_gab_etag(env.pool, &e), etag) != 0);
	json_t *j = storage_gab_json(env.pool, &e);
	test_assert_str_eq(json_string_value(json_object_get(j, "display_name")), "Alice Adams");
	test_assert(json_is_true(json_object_get(j, "directory")));
	json_decref(j);
	/* bad values: refused, nothing changed */
	test_assert(storage_gab_publish(as(TEST_ALICE), "call me", NULL, &err) < 0);
	test_assert(strstr(err.message, "phone") != NULL);
	test_assert(storage_gab_publish(as(TEST_ALICE), NULL, "a\x01", &err) < 0);
	test_assert(strstr(err.message, "org") != NULL);
	test_assert(storage_gab_revision(as(TEST_ALICE), &r0, &err) == 0);
	test_assert_int_eq(r0, r1 + 1);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"search", test_search},
	    {"follows_the_revision", test_follows_the_revision},
	    {"publish_and_forms", test_publish_and_forms},
	    {NULL, NULL},
	};
	test_storage_fixture_print_db();
	int ret = test_run(cases);
	test_storage_env_teardown(&env);
	return ret;
}
