/* SPDX-License-Identifier: MIT */
/* The node's route table and the handlers it names (one api-*.c file per module). */
#ifndef TANDEMD_ROUTES_H
#define TANDEMD_ROUTES_H

#include "router.h"

extern const struct route node_routes[];

void api_health_get(struct node *node, struct http_request *req);
void api_metrics_get(struct node *node, struct http_request *req);
void api_admin(struct node *node, struct http_request *req);

#endif
