/* SPDX-License-Identifier: MIT */
/* Module names and the parser of module lists for access combinations. */
#include "access.h"

#include <stdio.h>
#include <string.h>

static const char *const names[MODULE_COUNT] = {
    [MODULE_FILES] = "files",     [MODULE_CALENDAR] = "calendar", [MODULE_CONTACTS] = "contacts",
    [MODULE_TASKS] = "tasks",     [MODULE_WEBDAV] = "webdav",     [MODULE_CALDAV] = "caldav",
    [MODULE_CARDDAV] = "carddav", [MODULE_WEBUI] = "webui",       [MODULE_MAIL] = "mail",
};

const char *access_module_name(enum access_module m)
{
	return m < MODULE_COUNT ? names[m] : "?";
}

int access_parse_modules(const char *list, uint32_t *mask_r, const char **error_r)
{
	static __thread char msg[200];
	uint32_t mask = 0;
	const char *p = list;
	for (;;) {
		p += strspn(p, ", \t");
		size_t len = strcspn(p, ", \t");
		if (len == 0)
			break;
		int found = -1;
		if (len == 3 && memcmp(p, "all", 3) == 0)
			mask |= ACCESS_ALL;
		else
			for (int m = 0; m < MODULE_COUNT && found < 0; m++)
				if (strlen(names[m]) == len && memcmp(p, names[m], len) == 0)
					found = m;
		if (found >= 0)
			mask |= ACCESS_BIT(found);
		else if (!(len == 3 && memcmp(p, "all", 3) == 0)) {
			snprintf(msg, sizeof(msg),
			         "unknown module \"%.*s\" (known: all, files, calendar, contacts, "
			         "tasks, webdav, caldav, carddav, webui, mail)",
			         (int)(len > 64 ? 64 : len), p);
			*error_r = msg;
			return -1;
		}
		p += len;
	}
	*mask_r = mask | ACCESS_RESOLVED;
	return 0;
}

const char *access_check_name(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;
	if (n == 0 || n > ACCESS_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return "an access combination name is 1-64 letters, digits, '.', '_' or '-'";
	return NULL;
}

bool access_allows(uint32_t mask, enum access_module m)
{
	return mask == 0 || (mask & ACCESS_BIT(m)) != 0;
}
