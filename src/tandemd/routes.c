/* SPDX-License-Identifier: MIT */
/* Every HTTP path tandemd serves. */
#include "routes.h"

#include <stddef.h>

const struct route node_routes[] = {
    {"GET", "/health", api_health_get, ROUTE_INLINE, NULL},
    {"GET", "/metrics", api_metrics_get, 0, NULL},
    {"GET", "/admin/v1/", api_admin, ROUTE_PREFIX, NULL},
    {"POST", "/admin/v1/", api_admin, ROUTE_PREFIX, NULL},
    {"PATCH", "/admin/v1/", api_admin, ROUTE_PREFIX, NULL},
    {"DELETE", "/admin/v1/", api_admin, ROUTE_PREFIX, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

const struct route *const node_route_tables[] = {
    api_consistency_routes, /* before node_routes' "/admin/v1/" prefix */
    api_node_routes,        /* the same */
    api_cluster_routes,     /* the same */
    node_routes,
    api_session_routes,
    api_folder_routes,
    api_file_routes,
    api_dav_routes,
    NULL,
};
