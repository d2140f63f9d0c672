/* SPDX-License-Identifier: MIT */
/* The configdb and user-schema migrations (docs/provisioning.md). */
#ifndef TANDEM_SCHEMA_H
#define TANDEM_SCHEMA_H

#include <stddef.h>

#include "migrate.h"

extern const struct migration schema_configdb[];
extern const size_t schema_configdb_count;
extern const struct migration schema_userdb[];
extern const size_t schema_userdb_count;

#endif
