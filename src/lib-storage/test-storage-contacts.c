/* SPDX-License-Identifier: MIT */
/* Unit tests for storage-contacts.c on SQLite (or the database TANDEM_TEST_SQL_URL names):
   put with its preconditions and refusals, lookups, permissions from OX bits, search,
   revisions and changes with tombstones, export, the object limit. */
#include <stdio.h>
#include <string.h>

#include "storage-contacts.h"
#include "test-storage-env.h"
#include "test-storage-fixture.h"
#include "test.h"

#define CID    TEST_CID
#define ALICE  TEST_ALICE
#define BOB    TEST_BOB
#define CAROL  TEST_CAROL
#define SHARED TEST_SHARED /* alice's: bob reads all, carol sees nothing */

#define CARD(uid, fn, extra)                                                                       \
	"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" uid "\r\nFN:" fn "\r\n" extra "END:VCARD\r\n"

static struct test_storage_env env;
static int64_t contacts_of[4];

static void setup(int64_t max_objects)
{
	test_storage_env_setup(&env, "contacts", max_objects);
	for (int64_t u = ALICE; u <= CAROL; u++)
		contacts_of[u] = test_storage_env_default(&env, u, "contacts");
}

static struct storage_user *as(int64_t uid)
{
	return storage_user_create(env.storage, env.pool, CID, uid);
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
	test_assert(storage_consistency_check(env.storage, CID, false, &j, &err) == 0);
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
	test_storage_fixture_print_db();
	int ret = test_run(cases);
	test_storage_env_teardown(&env);
	return ret;
}
