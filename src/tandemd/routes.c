/* SPDX-License-Identifier: MIT */
/* Every HTTP path tandemd serves. */
#include "routes.h"

#include <stddef.h>

const struct route node_routes[] = {
    {"GET", "/health", api_health_get, ROUTE_INLINE},
    {"GET", "/metrics", api_metrics_get, 0},
    {"GET", "/admin/v1/", api_admin, ROUTE_PREFIX},
    {"POST", "/admin/v1/", api_admin, ROUTE_PREFIX},
    {"PATCH", "/admin/v1/", api_admin, ROUTE_PREFIX},
    {"DELETE", "/admin/v1/", api_admin, ROUTE_PREFIX},
    {NULL, NULL, NULL, 0},
};
