/* SPDX-License-Identifier: MIT */
/* The contacts storage test's set-up, over test-storage-fixture.h: a fresh user schema on SQLite
   (or the database TANDEM_TEST_SQL_URL names) for context 1 with three users and their default
   folders, and a folder of alice's that bob sees and reads all of and carol cannot see. */
#ifndef TANDEM_TEST_STORAGE_ENV_H
#define TANDEM_TEST_STORAGE_ENV_H

#include <stdint.h>

#include "storage.h"

#define TEST_CID    1
#define TEST_ALICE  1
#define TEST_BOB    2
#define TEST_CAROL  3
#define TEST_SHARED 100

struct test_storage_env {
	char dir[256];
	struct sql_db *db;
	struct pool *pool;
	struct storage *storage;
};

/* (Re)creates everything, folder TEST_SHARED of module shared_module, with the context's
   object limit max_objects (one object is taken already). */
void test_storage_env_setup(struct test_storage_env *env, const char *shared_module,
                            int64_t max_objects);
void test_storage_env_teardown(struct test_storage_env *env);
/* User uid's default folder of module. */
int64_t test_storage_env_default(struct test_storage_env *env, int64_t uid, const char *module);

#endif
