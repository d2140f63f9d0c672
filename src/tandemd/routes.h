/* SPDX-License-Identifier: MIT */
/* The node's route table and the handlers it names (one api-*.c file per module). */
#ifndef TANDEMD_ROUTES_H
#define TANDEMD_ROUTES_H

#include "router.h"

/* One table per module; node_route_tables lists them all (NULL-terminated). */
extern const struct route *const node_route_tables[];
extern const struct route node_routes[];
extern const struct route api_session_routes[];
extern const struct route api_folder_routes[];
extern const struct route api_file_routes[];
extern const struct route api_dav_routes[];
/* Before node_routes: its "/admin/v1/" prefix would take these paths. */
extern const struct route api_consistency_routes[];
extern const struct route api_node_routes[];
extern const struct route api_cluster_routes[];

void api_health_get(struct node *node, struct http_request *req);
void api_metrics_get(struct node *node, struct http_request *req);
void api_admin(struct node *node, struct http_request *req);

#endif
