/* SPDX-License-Identifier: MIT */
/* Wires Redis into the node: pool, session store with the stream fence, DAV lock store, stream,
   membership. */
#include "node-cluster.h"

#include <stdio.h>
#include <string.h>

#include "inval-stream.h"
#include "lock-store-redis.h"
#include "log.h"
#include "mem.h"
#include "membership.h"
#include "node-positions.h"
#include "random.h"
#include "redis.h"
#include "session-store-redis.h"

/* The stream's newest id comes back with every session lookup: wait until this node's
   reader has applied it, so a change any node committed before this request started is
   never hidden by a local cache. */
static void on_stream_head(void *ctx, const char *id)
{
	struct node_cluster *c = ctx;
	inval_stream_fence(c->stream, id);
}

int node_cluster_init(struct node_cluster *c, const struct node_config *cfg,
                      struct inval_bus *inval, struct session_store **store_r, const char **error_r)
{
	c->cfg = cfg;
	*store_r = NULL;
	snprintf(c->cluster_prefix, sizeof(c->cluster_prefix), "tandem:%s:v1:", cfg->cluster_name);
	char suffix[9];
	random_hex(suffix, 4);
	snprintf(c->node_id, sizeof(c->node_id), "%.48s-%s", cfg->route, suffix);
	if (strcmp(cfg->cluster_store, "memory") == 0) {
		c->locks = lock_store_memory_create(0);
		return 0;
	}

	struct redis_settings rset;
	redis_settings_default(&rset);
	rset.timeout_ms = (unsigned)cfg->cluster_timeout_ms;
	if (rset.connect_timeout_ms > rset.timeout_ms)
		rset.connect_timeout_ms = rset.timeout_ms;
	/* every worker may hold one, plus the stream's appends and the heartbeat */
	rset.max_connections = cfg->workers + 4;
	snprintf(rset.client_name, sizeof(rset.client_name), "tandem-%s", c->node_id);
	c->redis = redis_pool_create(&cfg->store_url, &rset);
	c->positions = mem_calloc(1, sizeof(*c->positions));
	node_positions_init(c->positions, c->redis, c->cluster_prefix);

	snprintf(c->stream_key, sizeof(c->stream_key), "%sinval", c->cluster_prefix);
	struct inval_stream_settings sset = {
	    .pool = c->redis,
	    .key = c->stream_key,
	    .node_id = c->node_id,
	    .maxlen = cfg->stream_maxlen,
	};
	c->stream = inval_stream_start(inval, &sset);

	struct session_store_redis_settings set = {
	    .pool = c->redis,
	    .prefix = c->cluster_prefix,
	    .route = cfg->route,
	    .backup_count = cfg->backup_count,
	    .backup_timeout_ms = (unsigned)cfg->backup_timeout_ms,
	    .strict = cfg->backup_strict,
	    .stream_key = c->stream_key,
	    .on_stream_head = on_stream_head,
	    .ctx = c,
	};
	*store_r = session_store_redis_create(&set);
	if (*store_r == NULL) {
		*error_r = session_store_error();
		return -1;
	}
	struct lock_store_redis_settings lset = {
	    .pool = c->redis,
	    .prefix = c->cluster_prefix,
	};
	c->locks = lock_store_redis_create(&lset, error_r);
	if (c->locks == NULL)
		return -1;
	char shown[300];
	redis_url_redact(cfg->cluster_store, shown, sizeof(shown));
	log_info("cluster", "cluster %s on %s (node id %s)", cfg->cluster_name, shown, c->node_id);
	return 0;
}

int node_cluster_agree_salt(void *ctx, const char *proposal, char *salt_r, size_t size,
                            const char **error_r)
{
	static _Thread_local char error[400];
	struct node_cluster *c = ctx;
	char key[200], err[256];
	int ret = -1;
	snprintf(key, sizeof(key), "%scookie-salt", c->cluster_prefix);
	struct redis_conn *conn = redis_pool_get(c->redis, err, sizeof(err));
	if (conn == NULL) {
		snprintf(error, sizeof(error), "agreeing on the cookie salt: %s", err);
		*error_r = error;
		return -1;
	}
	/* The first node's proposal wins and is never replaced: every node reads the same. */
	redis_appendf(conn, "SET %s %s NX", key, proposal);
	redis_appendf(conn, "GET %s", key);
	redisReply *set = redis_get_reply(conn);
	redisReply *get = redis_get_reply(conn);
	if (set == NULL || get == NULL) {
		snprintf(error, sizeof(error), "agreeing on the cookie salt: %s",
		         redis_conn_error(conn));
	} else if (redis_reply_failed(set) || redis_reply_failed(get)) {
		const redisReply *bad = redis_reply_failed(set) ? set : get;
		snprintf(error, sizeof(error), "agreeing on the cookie salt: Redis answered %.*s",
		         bad->type == REDIS_REPLY_ERROR ? (int)bad->len : 0,
		         bad->type == REDIS_REPLY_ERROR ? bad->str : "");
	} else if (get->type != REDIS_REPLY_STRING || get->len == 0 || get->len >= size) {
		snprintf(error, sizeof(error),
		         "agreeing on the cookie salt: %s is not a string of 1 to %zu bytes", key,
		         size - 1);
	} else {
		memcpy(salt_r, get->str, get->len);
		salt_r[get->len] = '\0';
		ret = 0;
	}
	if (set != NULL)
		freeReplyObject(set);
	if (get != NULL)
		freeReplyObject(get);
	redis_pool_put(c->redis, &conn);
	if (ret < 0)
		*error_r = error;
	return ret;
}

static void member_info(struct member_info *info, void *ctx)
{
	struct node_cluster *c = ctx;
	c->info.fn(info, c->info.ctx);
	snprintf(info->id, sizeof(info->id), "%s", c->node_id);
	if (c->stream != NULL) {
		struct inval_stream_stats st;
		inval_stream_stats(c->stream, &st);
		snprintf(info->stream_id, sizeof(info->stream_id), "%s", st.applied_id);
	}
}

void node_cluster_start(struct node_cluster *c, member_info_fn *info, void *ctx)
{
	if (c->redis == NULL)
		return;
	c->info.fn = info;
	c->info.ctx = ctx;
	struct membership_settings set = {
	    .pool = c->redis,
	    .prefix = c->cluster_prefix,
	    .heartbeat_ms = c->cfg->heartbeat_ms,
	    .ttl_ms = c->cfg->member_ttl_ms,
	    .want_replicas = c->cfg->backup_count + c->cfg->async_backup_count,
	};
	c->membership = membership_start(&set, member_info, c);
}

void node_cluster_state_changed(struct node_cluster *c)
{
	if (c->membership != NULL)
		membership_beat_now(c->membership);
}

void node_cluster_stop(struct node_cluster *c)
{
	membership_stop(&c->membership);
	inval_stream_stop(&c->stream);
}

void node_cluster_deinit(struct node_cluster *c)
{
	node_cluster_stop(c);
	lock_store_destroy(&c->locks);
	mem_free(&c->positions);
	redis_pool_destroy(&c->redis);
}
