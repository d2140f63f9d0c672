/* SPDX-License-Identifier: MIT */
/* Every HTTP path tandemd serves. */
#include "routes.h"

#include <stddef.h>

const struct route node_routes[] = {
    {"GET", "/health", api_health_get, ROUTE_INLINE},
    {NULL, NULL, NULL, 0},
};
