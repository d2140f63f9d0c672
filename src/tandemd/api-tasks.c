/* SPDX-License-Identifier: MIT */
/* /api/v1/tasks: VTODO objects in tasks folders, with the handlers of api-events.c (docs/api.md
   "Tasks"). */
#include "api-events.h"
#include "routes.h"

static void tasks_list(void *ctx, struct http_request *req)
{
	api_cal_list(&api_cal_tasks, ctx, req);
}

static void tasks_create(void *ctx, struct http_request *req)
{
	api_cal_create(&api_cal_tasks, ctx, req);
}

static void tasks_get(void *ctx, struct http_request *req)
{
	api_cal_get(&api_cal_tasks, ctx, req);
}

static void tasks_update(void *ctx, struct http_request *req)
{
	api_cal_update(&api_cal_tasks, ctx, req);
}

static void tasks_delete(void *ctx, struct http_request *req)
{
	api_cal_delete(&api_cal_tasks, ctx, req);
}

const struct http_route api_task_routes[] = {
    {"GET", "/api/v1/tasks", tasks_list, 0, NULL},
    {"POST", "/api/v1/tasks", tasks_create, 0, NULL},
    {"GET", "/api/v1/tasks/{id:id}", tasks_get, 0, NULL},
    {"PUT", "/api/v1/tasks/{id:id}", tasks_update, 0, NULL},
    {"DELETE", "/api/v1/tasks/{id:id}", tasks_delete, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};
