/* SPDX-License-Identifier: MIT */
/* Module access checks: combinations from [access NAME], the JSON API's path check and the
   cached per-user check for DAV. */
#include "node-access.h"

#include <stdio.h>
#include <string.h>

#include "api-common.h"
#include "api-session.h"
#include "cache.h"
#include "http-server.h"
#include "log.h"
#include "node.h"

uint32_t node_access_modules(const struct node *node, const char *name)
{
	if (name[0] == '\0')
		name = ACCESS_DEFAULT_NAME;
	for (size_t i = 0; i < node->cfg.access_count; i++) {
		if (strcmp(node->cfg.access[i].name, name) == 0)
			return node->cfg.access[i].modules;
	}
	log_warn("access", "access combination \"%s\" is not defined on this node: no modules",
	         name);
	return ACCESS_RESOLVED;
}

const char *node_access_unknown(const struct node *node, const char *name)
{
	static __thread char msg[600];
	int n = snprintf(msg, sizeof(msg),
	                 "access combination \"%s\" is not defined (tandemd's [access NAME] "
	                 "sections; defined:",
	                 name);
	for (size_t i = 0; i < node->cfg.access_count; i++) {
		if (strcmp(node->cfg.access[i].name, name) == 0)
			return NULL;
		if (n > 0 && (size_t)n < sizeof(msg))
			n += snprintf(msg + n, sizeof(msg) - (size_t)n, " %s",
			              node->cfg.access[i].name);
	}
	if (n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ")");
	return msg;
}

void api_module_refusal(struct api_refusal *why, const char *login, enum access_module module)
{
	api_refusal_set(why, 403, "ACC-0403",
	                "module \"%s\" is not in the access combination of user %s",
	                access_module_name(module), login);
}

static void refuse(struct http_request *req, const char *login, enum access_module module)
{
	struct api_refusal why;
	api_module_refusal(&why, login, module);
	api_refusal_send(req, &why, NULL);
}

static const struct {
	const char *prefix;
	enum access_module module;
} api_paths[] = {
    {"/api/v1/files", MODULE_FILES}, {"/api/v1/events", MODULE_CALENDAR},
    {"/api/v1/tasks", MODULE_TASKS}, {"/api/v1/contacts", MODULE_CONTACTS},
    {"/api/v1/mail", MODULE_MAIL},
};

bool api_access_path(struct http_request *req, uint32_t modules, const char *login)
{
	if (modules == 0)
		return true;
	struct strv path = http_request_head(req)->path;
	for (size_t i = 0; i < sizeof(api_paths) / sizeof(api_paths[0]); i++) {
		size_t n = strlen(api_paths[i].prefix);
		if (path.len >= n && memcmp(path.ptr, api_paths[i].prefix, n) == 0 &&
		    (path.len == n || path.ptr[n] == '/' || path.ptr[n] == '?') &&
		    !access_allows(modules, api_paths[i].module)) {
			refuse(req, login, api_paths[i].module);
			return false;
		}
	}
	return true;
}

bool api_module_check(struct node *node, struct http_request *req, const struct api_user *user,
                      enum access_module module)
{
	return api_module_check_either(node, req, user, module, module);
}

int node_access_user_modules(struct node *node, const struct api_user *user, bool lookup,
                             uint32_t *modules_r, const char **error_r)
{
	static __thread char msg[300];
	size_t size = sizeof(*modules_r);
	if (cache_get(node->access_cache, user->cid, user->uid, modules_r, &size) > 0)
		return 1;
	if (!lookup)
		return 0;
	uint64_t gen = cache_generation(node->access_cache);
	struct prov_error err = {0};
	char name[65];
	struct provision *prov = node_provision(node, &err);
	int r = prov != NULL ? provision_user_access(prov, user->cid, user->uid, name, &err) : -1;
	if (r < 0) {
		snprintf(msg, sizeof(msg), "%s", err.message);
		*error_r = msg;
		return -1;
	}
	*modules_r = r > 0 ? node_access_modules(node, name) : ACCESS_RESOLVED;
	cache_put(node->access_cache, user->cid, user->uid, modules_r, sizeof(*modules_r), gen);
	return 1;
}

bool api_user_modules(struct node *node, struct http_request *req, const struct api_user *user,
                      uint32_t *modules_r)
{
	const char *error;
	if (node_access_user_modules(node, user, true, modules_r, &error) < 0) {
		api_error(req, 503, "API-0503", "%s", error);
		return false;
	}
	return true;
}

void api_module_refuse(struct http_request *req, const char *login, enum access_module module)
{
	refuse(req, login, module);
}

bool api_module_check_either(struct node *node, struct http_request *req,
                             const struct api_user *user, enum access_module module,
                             enum access_module alt)
{
	const enum access_module mods[] = {module, alt};
	return api_module_check_any(node, req, user, mods, 2);
}

bool api_module_check_any(struct node *node, struct http_request *req, const struct api_user *user,
                          const enum access_module *mods, size_t count)
{
	uint32_t modules;
	if (!api_user_modules(node, req, user, &modules))
		return false;
	for (size_t i = 0; i < count; i++)
		if (access_allows(modules, mods[i]))
			return true;
	refuse(req, user->login, mods[0]);
	return false;
}

bool node_access_folder_module(uint32_t modules, const char *folder_module)
{
	static const struct {
		const char *name;
		enum access_module module;
	} map[] = {
	    {"infostore", MODULE_FILES},
	    {"calendar", MODULE_CALENDAR},
	    {"tasks", MODULE_TASKS},
	    {"contacts", MODULE_CONTACTS},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(folder_module, map[i].name) == 0)
			return access_allows(modules, map[i].module);
	}
	return true; /* "system": the tree's own nodes */
}
