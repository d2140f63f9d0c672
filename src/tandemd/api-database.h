/* SPDX-License-Identifier: MIT */
/* This node's databases and their servers: JSON for clusterstats, families for /metrics. */
#ifndef TANDEMD_API_DATABASE_H
#define TANDEMD_API_DATABASE_H

#include <jansson.h>

#include "buf.h"

struct node;

/* [{name, mode, servers: [...], reads: {...}, ...}] for the configdb and every user database
   this node has opened; empty while the configdb is unavailable. */
json_t *api_databases_json(struct node *node);
/* The tandem_db_* families (nothing while the configdb is unavailable). */
void api_database_metrics(struct buf *b, struct node *node);

#endif
