/* SPDX-License-Identifier: MIT */
/* Unit tests for storage-contacts.c on SQLite (or the database TANDEM_TEST_SQL_URL names):
   put with its preconditions and refusals, lookups, permissions from OX bits, search,
   revisions and changes with tombstones, export, the object limit. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "folder.h"
#include "migrate.h"
#include "pool.h"
#include "schema.h"
#include "sql.h"
#include "storage-contacts.h"
#include "test.h"

#define CID    1
#define ALICE  1
#define BOB    2
#define CAROL  3
#define SHARED 100 /* alice's address book: bob reads all, carol nothing */

#define CARD(uid, fn, extra)                                                                       \
	"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" uid "\r\nFN:" fn "\r\n" extra "END:VCARD\r\n"

static char dir[256];
static struct sql_db *db;
static struct pool *pool;
static struct storage *storage;
static int64_t contacts_of[4];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static struct sql_db *locate(void *ctx, int64_t cid, struct storage_context *ctx_r,
                             struct storage_error *err)
{
	snprintf(ctx_r->filestore_root, sizeof(ctx_r->filestore_root), "%s", dir);
	return db;
}

static void add_user(struct sql_conn *conn, int64_t id, const char *login)
{
	struct sql_error err;
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO users (cid, id, login, display_name, given_name, sur_name, "
	            "email, password_hash, enabled, disabled_reason, is_admin, created, "
	            "modified) VALUES (?, ?, ?, ?, 'G', 'S', 'e@x', 'h', 1, NULL, 0, 0, 0)",
	            "iiss", (int64_t)CID, id, login, login) == 0);
	test_assert(folder_create_user_defaults(conn, CID, id, &err) == 0);
	test_assert(folder_default(conn, CID, id, "contacts", &contacts_of[id], &err) == 1);
}

static void teardown(void)
{
	storage_destroy(&storage);
	sql_db_close(&db);
	if (dir[0] != '\0')
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
	pool_destroy(&pool);
}

static void setup(int64_t max_objects)
{
	static const char *const tables[] = {
	    "ctx_sequence",      "users",          "filestore_usage",     "folder",
	    "folder_permission", "contact_object", "cal_folder_revision", "cal_tombstone",
	};
	struct sql_error err;
	struct sql_conn *conn;
	char url[400];
	const char *env = getenv("TANDEM_TEST_SQL_URL");

	teardown();
	pool = pool_create(0);
	snprintf(dir, sizeof(dir), "/tmp/test-storage-contacts-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	if (env != NULL)
		snprintf(url, sizeof(url), "%s", env);
	else
		snprintf(url, sizeof(url), "sqlite://%s/user.sqlite", dir);
	test_assert(sql_db_open(url, NULL, true, &db, &err) == 0);
	test_assert(sql_conn_get(db, SQL_WRITE, CID, &conn, &err) == 0);
	test_assert(migrate_apply(conn, "userdb", schema_userdb, schema_userdb_count, &err) == 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
		test_assert(sql_exec(conn, sql, &err) == 0);
	}
	test_assert(sql_begin(conn, true, &err) == 0);
	test_assert(sql_run(conn, &err, "INSERT INTO ctx_sequence VALUES (?, 200)", "i",
	                    (int64_t)CID) == 0);
	test_assert(folder_create_context_roots(conn, CID, &err) == 0);
	add_user(conn, ALICE, "alice");
	add_user(conn, BOB, "bob");
	add_user(conn, CAROL, "carol");
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO folder (cid, id, parent, owner, module, title, is_system, "
	                    "default_for, created, modified) VALUES "
	                    "(?, ?, 1, ?, 'contacts', 'Team', 0, NULL, 0, 0)",
	                    "iii", (int64_t)CID, (int64_t)SHARED, (int64_t)ALICE) == 0);
	test_assert(sql_run(conn, &err,
	                    "INSERT INTO folder_permission (cid, folder, entity, is_group, bits) "
	                    "VALUES (?, ?, ?, 0, ?), (?, ?, ?, 0, ?)",
	                    "iiiiiiii", (int64_t)CID, (int64_t)SHARED, (int64_t)ALICE,
	                    (int64_t)FOLDER_BITS_OWNER, (int64_t)CID, (int64_t)SHARED, (int64_t)BOB,
	                    (int64_t)FOLDER_BITS(1, 2, 0, 0, 0)) == 0);
	test_assert(
	    sql_run(conn, &err,
	            "INSERT INTO filestore_usage (cid, used_bytes, objects) VALUES (?, 0, 1)", "i",
	            (int64_t)CID) == 0);
	test_assert(sql_commit(conn, &err) == 0);
	sql_conn_put(&conn);
	struct storage_settings set = {.locate = locate, .max_objects = max_objects};
	storage = storage_create(&set);
}

static struct storage_user *as(int64_t uid)
{
	return storage_user_create(storage, pool, CID, uid);
}

static int put(int64_t uid, int64_t folder, const char *name, const char *text,
               struct storage_contact_put *p, struct storage_error *err)
{
	memset(p, 0, sizeof(*p));
	p->folder = folder;
	p->name = name;
	p->text = text;
	p->len = strlen(text);
	return storage_contact_put(as(uid), p, err);
}

static size_t count(int64_t uid, int64_t folder)
{
	json_t *j;
	struct storage_error err;
	if (storage_contact_search(as(uid), folder, NULL, 0, &j, &err) < 0)
		return (size_t)-1;
	size_t n = json_array_size(json_object_get(j, "contacts"));
	json_decref(j);
	return n;
}

static void test_put_get(void)
{
	struct storage_contact_put p;
	struct storage_error err;
	struct storage_contact o;
	const char *text = CARD("a@x", "Ada Lovelace", "EMAIL:ada@example.com\r\nORG:Engines\r\n");
	setup(10);
	test_assert(put(ALICE, SHARED, NULL, text, &p, &err) == 0);
	test_assert(p.created);
	test_assert_str_eq(p.obj.name, "a@x.vcf");
	test_assert_str_eq(p.obj.fn, "Ada Lovelace");
	test_assert_str_eq(p.obj.emails, "ada@example.com");
	test_assert_int_eq(p.obj.revision, 1);
	int64_t id = p.obj.id;
	const char *etag = p.obj.etag;
	test_assert(storage_contact_get(as(ALICE), id, &o, &err) == 0);
	test_assert_str_eq(o.vcard, text);
	test_assert(storage_contact_get_by_name(as(BOB), SHARED, "a@x.vcf", &o, &err) == 0);
	test_assert_int_eq(o.id, id);
	test_assert(storage_contact_get_by_uid(as(BOB), SHARED, "a@x", &o, &err) == 0);
	test_assert_str_eq(o.etag, etag);

	/* If-None-Match never overwrites; If-Match must match */
	p = (struct storage_contact_put){.folder = SHARED,
	                                 .name = "a@x.vcf",
	                                 .text = text,
	                                 .len = strlen(text),
	                                 .if_none_match = true};
	test_assert(storage_contact_put(as(ALICE), &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CONTACT_PRECONDITION);
	const char *changed = CARD("a@x", "Ada King", "");
	p = (struct storage_contact_put){.folder = SHARED,
	                                 .name = "a@x.vcf",
	                                 .text = changed,
	                                 .len = strlen(changed),
	                                 .if_match = "nope"};
	test_assert(storage_contact_put(as(ALICE), &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CONTACT_PRECONDITION);
	p.if_match = etag;
	test_assert(storage_contact_put(as(ALICE), &p, &err) == 0);
	test_assert(!p.created);
	test_assert_int_eq(p.obj.revision, 2);
	test_assert_str_eq(p.obj.fn, "Ada King");

	/* the same UID under another name; a UID changed in place; bad data; nothing stored */
	test_assert(put(ALICE, SHARED, "other.vcf", text, &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CONTACT_UID_CONFLICT);
	test_assert(strstr(err.message, "already used") != NULL);
	test_assert(put(ALICE, SHARED, "a@x.vcf", CARD("b@x", "B", ""), &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CONTACT_UID_CONFLICT);
	test_assert(put(ALICE, SHARED, NULL, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c\r\nEND:VCARD\r\n",
	                &p, &err) < 0);
	test_assert_int_eq(p.problem, STORAGE_CONTACT_BAD_DATA);
	test_assert(strstr(err.message, "invalid vCard") != NULL &&
	            strstr(err.message, "FN") != NULL);
	/* a calendar folder takes no cards */
	test_assert(put(ALICE, 1, NULL, CARD("d", "D", ""), &p, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_INVALID);
	test_assert_int_eq(count(ALICE, SHARED), 1);
}

static void test_permissions(void)
{
	struct storage_contact_put p;
	struct storage_error err;
	struct storage_contact o;
	setup(10);
	test_assert(put(ALICE, SHARED, NULL, CARD("a", "A", ""), &p, &err) == 0);
	int64_t id = p.obj.id;
	/* bob reads but may not write; carol sees nothing */
	test_assert(storage_contact_get(as(BOB), id, &o, &err) == 0);
	test_assert(put(BOB, SHARED, NULL, CARD("b", "B", ""), &p, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert(storage_contact_delete(as(BOB), id, NULL, NULL, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_FORBIDDEN);
	test_assert(storage_contact_get(as(CAROL), id, &o, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_NOT_FOUND);
	test_assert_int_eq(count(CAROL, SHARED), (size_t)-1);
	/* each user's own default folder */
	test_assert(put(CAROL, contacts_of[CAROL], NULL, CARD("a", "Mine", ""), &p, &err) == 0);
	test_assert(storage_contact_get(as(ALICE), p.obj.id, &o, &err) < 0);
}

static void test_search(void)
{
	struct storage_contact_put p;
	struct storage_error err;
	json_t *j;
	setup(50);
	test_assert(put(ALICE, SHARED, NULL,
	                CARD("1", "Ada Lovelace", "EMAIL:ada@Engines.example\r\nTEL:+44 20\r\n"),
	                &p, &err) == 0);
	test_assert(put(ALICE, SHARED, NULL, CARD("2", "Charles Babbage", "ORG:Difference_Co\r\n"),
	                &p, &err) == 0);
	test_assert(put(ALICE, SHARED, NULL, CARD("3", "Grace 100% Hopper", ""), &p, &err) == 0);
	struct {
		const char *q;
		size_t n;
	} cases[] = {{"ada", 1},         {"ENGINES", 1}, {"+44", 1}, {"babb", 1},
	             {"difference_", 1}, {"100%", 1},    {"_", 1},   {"%", 1},
	             {"zzz", 0},         {"", 3},        {"e", 3}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_set_context(cases[i].q);
		test_assert(storage_contact_search(as(BOB), SHARED, cases[i].q, 0, &j, &err) == 0);
		test_assert_int_eq(json_array_size(json_object_get(j, "contacts")), cases[i].n);
		json_decref(j);
	}
	/* bounded, ordered by FN */
	test_assert(storage_contact_search(as(BOB), SHARED, "", 2, &j, &err) == 0);
	json_t *list = json_object_get(j, "contacts");
	test_assert_int_eq(json_array_size(list), 2);
	test_assert(json_is_true(json_object_get(j, "more")));
	test_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "fn")),
	                   "Ada Lovelace");
	json_decref(j);
	char longq[STORAGE_CONTACT_QUERY_MAX + 2];
	memset(longq, 'a', sizeof(longq) - 1);
	longq[sizeof(longq) - 1] = '\0';
	test_assert(storage_contact_search(as(BOB), SHARED, longq, 0, &j, &err) < 0);
	/* export */
	const char **texts;
	size_t n;
	test_assert(storage_contact_export(as(BOB), SHARED, 10, &texts, &n, &err) == 0);
	test_assert_int_eq(n, 3);
	test_assert(storage_contact_export(as(BOB), SHARED, 2, &texts, &n, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_OVER_LIMIT);
}

static void test_changes_and_limit(void)
{
	struct storage_contact_put p;
	struct storage_error err;
	json_t *j;
	int64_t rev;
	int64_t book = contacts_of[ALICE];
	setup(3); /* one object is taken already: room for two */
	book = contacts_of[ALICE];
	test_assert(storage_contact_revision(as(ALICE), book, &rev, &err) == 0);
	test_assert_int_eq(rev, 0);
	test_assert(put(ALICE, book, NULL, CARD("1", "One", ""), &p, &err) == 0);
	int64_t one = p.obj.id;
	test_assert(put(ALICE, book, NULL, CARD("2", "Two", ""), &p, &err) == 0);
	test_assert(put(ALICE, book, NULL, CARD("3", "Three", ""), &p, &err) < 0);
	test_assert_int_eq(err.refusal, STORAGE_OVER_LIMIT);
	test_assert(storage_contact_delete(as(ALICE), one, "wrong", NULL, &err) < 0);
	test_assert(storage_contact_delete(as(ALICE), one, NULL, NULL, &err) == 0);
	test_assert(storage_contact_changes(as(ALICE), book, 1, 0, &j, &err) == 0);
	test_assert_int_eq(json_integer_value(json_object_get(j, "revision")), 3);
	test_assert_int_eq(json_array_size(json_object_get(j, "changed")), 1);
	test_assert_int_eq(json_array_size(json_object_get(j, "deleted")), 1);
	json_decref(j);
	test_assert(storage_contact_changes(as(ALICE), book, 0, 1, &j, &err) == 0);
	test_assert(json_is_true(json_object_get(j, "more")));
	json_decref(j);
	test_assert(storage_contact_changes(as(ALICE), book, 9, 0, &j, &err) < 0);
	test_assert(put(ALICE, book, NULL, CARD("1", "One again", ""), &p, &err) == 0);
	test_assert(storage_contact_changes(as(ALICE), book, 0, 0, &j, &err) == 0);
	test_assert_int_eq(json_array_size(json_object_get(j, "deleted")), 0);
	json_decref(j);
	test_assert(storage_consistency_check(storage, CID, false, &j, &err) == 0);
	test_assert(json_is_true(json_object_get(json_object_get(j, "objects"), "ok")));
	json_decref(j);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"put_get", test_put_get},
	    {"permissions", test_permissions},
	    {"search", test_search},
	    {"changes_and_limit", test_changes_and_limit},
	    {NULL, NULL},
	};
	const char *env = getenv("TANDEM_TEST_SQL_URL");
	char redacted[400];
	sql_url_redact(env != NULL ? env : "sqlite (temp file)", redacted, sizeof(redacted));
	printf("# database %s\n", redacted);
	int ret = test_run(cases);
	teardown();
	return ret;
}
