/* SPDX-License-Identifier: MIT */
/* Module access (docs/provisioning.md "Module access"): the modules a user may use, as a bit
   set, and the named sets ("access combinations") operators define in tandemd's
   configuration. */
#ifndef TANDEM_ACCESS_H
#define TANDEM_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

enum access_module {
	MODULE_FILES,
	MODULE_CALENDAR,
	MODULE_CONTACTS,
	MODULE_TASKS,
	MODULE_WEBDAV,
	MODULE_CALDAV,
	MODULE_CARDDAV,
	MODULE_WEBUI,
	MODULE_MAIL,
	MODULE_COUNT
};

#define ACCESS_BIT(m) (1u << (m))
/* Every module. */
#define ACCESS_ALL ((1u << MODULE_COUNT) - 1)
/* Set in every resolved mask, so that a combination of no modules is not 0 (0 is "not known",
   e.g. a session made before access combinations: every module). */
#define ACCESS_RESOLVED (1u << 31)
/* The combination every context and user has unless given another: every module. It may
   be redefined in the configuration. */
#define ACCESS_DEFAULT_NAME "all"
#define ACCESS_NAME_MAX     64

/* "files", "calendar", … */
const char *access_module_name(enum access_module m);
/* Parses "files, calendar webdav" (commas or spaces; "all" = every module) into *mask_r. 0 or
   -1 with *error_r a static message naming the unknown word. */
int access_parse_modules(const char *list, uint32_t *mask_r, const char **error_r);
/* NULL when name is a valid combination name (1-64 letters, digits, '.', '_', '-'). */
const char *access_check_name(const char *name);
/* Whether mask (0 = not known: every module) allows m. */
bool access_allows(uint32_t mask, enum access_module m);

#endif
