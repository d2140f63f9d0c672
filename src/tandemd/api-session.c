/* SPDX-License-Identifier: MIT */
/* Routes of the session API: POST /api/v1/login, POST /api/v1/logout, GET /api/v1/session. */
#include <stddef.h>

#include "routes.h"
#include "sessions.h"

const struct route api_session_routes[] = {
    {"POST", "/api/v1/login", sessions_login, 0, NULL},
    {"POST", "/api/v1/logout", sessions_logout, 0, NULL},
    {"GET", "/api/v1/session", sessions_whoami, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
