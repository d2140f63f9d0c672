/* SPDX-License-Identifier: MIT */
/* The node's route tables and the handlers they name (one api-*.c file per module). */
#ifndef TANDEMD_ROUTES_H
#define TANDEMD_ROUTES_H

#include "http-router.h"

/* The application's bits of struct http_route's flags. */
/* Runs on the event-loop thread: only for handlers that never block (no SQL, no disk);
   everything else runs on the worker pool. */
#define ROUTE_INLINE HTTP_ROUTE_APP(0)
/* /admin/v1: the admin of the context in the path ({cid}) may call it, not only the master
   admin (admin-api.c). */
#define ROUTE_CONTEXT_ADMIN HTTP_ROUTE_APP(1)

/* Handlers take the node as ctx (struct node *). A route's on_head runs on the event-loop
   thread when the request head has arrived, before the body: it may attach a body sink
   (http_request_set_body_sink) or refuse at once. It must not block. */

/* One table per module; node_route_tables lists them all (NULL-terminated), and
   node_router_settings words the router's own answers. */
extern const struct http_route *const node_route_tables[];
extern const struct http_router_settings node_router_settings;
extern const struct http_route node_routes[];
extern const struct http_route api_admin_routes[];
extern const struct http_route api_session_routes[];
extern const struct http_route api_folder_routes[];
extern const struct http_route api_file_routes[];
extern const struct http_route api_dav_routes[];
extern const struct http_route api_event_routes[];
extern const struct http_route api_schedule_routes[];
extern const struct http_route api_contact_routes[];
extern const struct http_route api_task_routes[];
extern const struct http_route api_directory_routes[];
extern const struct http_route api_webui_routes[];
extern const struct http_route api_import_routes[];
extern const struct http_route api_user_routes[];
extern const struct http_route api_consistency_routes[];
extern const struct http_route api_node_routes[];
extern const struct http_route api_cluster_routes[];
extern const struct http_route api_mail_routes[];
extern const struct http_route api_mail_search_routes[];
extern const struct http_route api_mail_reply_routes[];
extern const struct http_route api_mail_send_routes[];
extern const struct http_route api_mail_events_routes[];

void api_health_get(void *ctx, struct http_request *req);
void api_metrics_get(void *ctx, struct http_request *req);

#endif
