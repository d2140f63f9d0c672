/* SPDX-License-Identifier: MIT */
/* Every HTTP path tandemd serves. */
#include "routes.h"

#include <stddef.h>

const struct http_route node_routes[] = {
    {"GET", "/health", api_health_get, ROUTE_INLINE, NULL},
    {"GET", "/metrics", api_metrics_get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

/* The order does not matter: the router takes the most specific pattern (http-router.h). */
const struct http_route *const node_route_tables[] = {
    node_routes,            /* /health, /metrics */
    api_admin_routes,       /* /admin/v1: provisioning (admin-api.c) */
    api_node_routes,        /* /admin/v1/node, drain */
    api_cluster_routes,     /* /admin/v1/cluster */
    api_consistency_routes, /* /admin/v1/consistency */
    api_session_routes,     /* /api/v1/login, logout, session */
    api_folder_routes,      /* /api/v1/folders… */
    api_file_routes,        /* /api/v1/files… */
    api_dav_routes,         /* /dav/, /.well-known/caldav|carddav */
    api_event_routes,       /* /api/v1/events…, /api/v1/folders/{id}/import */
    api_task_routes,        /* /api/v1/tasks… */
    api_contact_routes,     /* /api/v1/contacts… */
    api_directory_routes,   /* /api/v1/groups, /api/v1/resources */
    api_user_routes,        /* /api/v1/users, /api/v1/password */
    api_webui_routes,       /* /, /assets/: the web UI (api-webui.c) */
    api_schedule_routes,    /* /api/v1/events/{id}/reply, /api/v1/freebusy */
    api_import_routes,      /* /admin/v1/contexts/{cid}/users/{uid}/import */
    api_mail_routes,        /* /api/v1/mail… */
    api_mail_search_routes, /* /api/v1/mail/messages/…/copy (api-mail-search.c) */
    api_mail_reply_routes,  /* /api/v1/mail/messages/{folder}/{uid}/reply|forward */
    api_mail_send_routes,   /* /api/v1/mail/send, drafts, attachments */
    api_mail_events_routes, /* /api/v1/mail/events (api-mail-events.c) */
    NULL,
};

/* A path that has a route's shape but not an id where it has {cid:id} or {uid:id}. */
static const struct http_router_param_message id_messages[] = {
    {"cid", "context ids are positive integers"},
    {"uid", "user ids are positive integers"},
    {"gid", "group ids are positive integers"},
    {"rid", "resource ids are positive integers"},
    {NULL, NULL},
};

const struct http_router_settings node_router_settings = {
    .param_messages = id_messages,
};
