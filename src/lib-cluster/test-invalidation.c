/* SPDX-License-Identifier: MIT */
/* Invalidation bus: subscribers of a region see its events, others do not. */
#include "invalidation.h"
#include "test.h"

static int context_hits, folder_hits;
static int64_t last_cid, last_key;

static void on_context(const struct inval_event *ev, void *ctx)
{
	context_hits++;
	last_cid = ev->cid;
	(void)ctx;
}

static void on_folder(const struct inval_event *ev, void *ctx)
{
	folder_hits += *(int *)ctx;
	last_key = ev->key;
}

static void test_regions(void)
{
	static int weight = 2;
	struct inval_bus *bus = inval_bus_create();
	inval_subscribe(bus, INVAL_CONTEXT, on_context, NULL);
	inval_subscribe(bus, INVAL_FOLDER, on_folder, &weight);
	inval_publish(bus, INVAL_CONTEXT, 7, 0);
	inval_publish(bus, INVAL_FOLDER, 7, 42);
	inval_publish(bus, INVAL_USER, 7, 3);
	test_assert_int_eq(context_hits, 1);
	test_assert_int_eq(last_cid, 7);
	test_assert_int_eq(folder_hits, 2);
	test_assert_int_eq(last_key, 42);
	test_assert_int_eq(inval_published(bus), 3);
	test_assert_int_eq(inval_published_region(bus, INVAL_FOLDER), 1);
	test_assert_int_eq(inval_published_region(bus, INVAL_GROUP), 0);
	test_assert_str_eq(inval_region_name(INVAL_FOLDER), "folder");
	inval_bus_destroy(&bus);
	test_assert(bus == NULL);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"regions", test_regions},
	    {NULL, NULL},
	};
	return test_run(cases);
}
