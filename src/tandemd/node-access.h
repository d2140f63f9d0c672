/* SPDX-License-Identifier: MIT */
/* Module access (docs/provisioning.md "Module access"): the node's [access NAME]
   combinations, and the checks that refuse a user a module with 403 naming it. */
#ifndef TANDEMD_NODE_ACCESS_H
#define TANDEMD_NODE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"

struct api_user;
struct http_request;
struct node;

/* The modules of combination name ("" = "all"); ACCESS_RESOLVED alone (nothing) when this
   node does not define it (logged: the nodes' configurations disagree). */
uint32_t node_access_modules(const struct node *node, const char *name);
/* For the admin API: NULL when name is defined here, else a message naming the defined ones
   (valid until the next call on this thread). */
const char *node_access_unknown(const struct node *node, const char *name);

/* The JSON API's check, from the session's modules: the module of req's path
   (/api/v1/files… → files, /api/v1/events… → calendar, /api/v1/tasks… → tasks,
   /api/v1/contacts… → contacts); false after answering 403 naming it. No SQL. */
bool api_access_path(struct http_request *req, uint32_t modules, const char *login);

/* The check for handlers without a session (DAV): the user's modules from a cache dropped
   with the user's and the context's invalidations, else the database; false after
   answering (403 naming the module, 503). On a worker. */
bool api_module_check(struct node *node, struct http_request *req, const struct api_user *user,
                      enum access_module module);
/* The user's modules (that cache, else with lookup the database): 1 with *modules_r, 0 not
   cached (lookup false: no SQL, for the loop thread), -1 with *error_r (valid on this thread
   until its next call). */
int node_access_user_modules(struct node *node, const struct api_user *user, bool lookup,
                             uint32_t *modules_r, const char **error_r);
/* Answers req 403 ACC-0403 naming module, as the checks below do. */
void api_module_refuse(struct http_request *req, const char *login, enum access_module module);
/* The same refusal into why, to be answered later (api_refusal_send). */
struct api_refusal;
void api_module_refusal(struct api_refusal *why, const char *login, enum access_module module);
/* The user's modules (0 or ACCESS_RESOLVED|bits) through that cache; false after answering
   503. On a worker. */
bool api_user_modules(struct node *node, struct http_request *req, const struct api_user *user,
                      uint32_t *modules_r);
/* Whether modules let the user see folders of folder_module ("infostore" → files, "calendar",
   "tasks", "contacts"; "system" and anything else: yes). */
bool node_access_folder_module(uint32_t modules, const char *folder_module);
/* The same, passing when the user has module or alt (a refusal names module). */
bool api_module_check_either(struct node *node, struct http_request *req,
                             const struct api_user *user, enum access_module module,
                             enum access_module alt);
/* The same over mods[0..count) (a refusal names mods[0]). */
bool api_module_check_any(struct node *node, struct http_request *req, const struct api_user *user,
                          const enum access_module *mods, size_t count);

#endif
