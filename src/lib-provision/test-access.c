/* SPDX-License-Identifier: MIT */
#include "access.h"
#include "test.h"

#include <string.h>

static void test_parse(void)
{
	uint32_t mask;
	const char *error;
	test_assert(access_parse_modules("files, calendar webdav", &mask, &error) == 0);
	test_assert(mask == (ACCESS_RESOLVED | ACCESS_BIT(MODULE_FILES) |
	                     ACCESS_BIT(MODULE_CALENDAR) | ACCESS_BIT(MODULE_WEBDAV)));
	test_assert(access_allows(mask, MODULE_FILES));
	test_assert(!access_allows(mask, MODULE_CONTACTS));
	test_assert(access_parse_modules("all", &mask, &error) == 0);
	test_assert(mask == (ACCESS_RESOLVED | ACCESS_ALL));
	/* no modules at all is a mask that allows nothing, not "unknown" */
	test_assert(access_parse_modules("", &mask, &error) == 0);
	test_assert(mask == ACCESS_RESOLVED && !access_allows(mask, MODULE_WEBUI));
	test_assert(access_allows(0, MODULE_WEBUI));
	test_assert(access_parse_modules("files,fax", &mask, &error) < 0);
	test_assert(strstr(error, "\"fax\"") != NULL);
	test_assert(access_parse_modules("filesx", &mask, &error) < 0);
	test_assert(access_parse_modules("file", &mask, &error) < 0);
}

static void test_names(void)
{
	test_assert(access_check_name("all") == NULL);
	test_assert(access_check_name("groupware_standard-2.0") == NULL);
	test_assert(access_check_name("") != NULL);
	test_assert(access_check_name("a b") != NULL);
	test_assert(access_check_name(NULL) != NULL);
	test_assert(strcmp(access_module_name(MODULE_CARDDAV), "carddav") == 0);
}

int main(void)
{
	static const struct test_case tests[] = {
	    {"parse", test_parse},
	    {"names", test_names},
	    {NULL, NULL},
	};
	return test_run(tests);
}
