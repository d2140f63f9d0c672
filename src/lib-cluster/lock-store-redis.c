/* SPDX-License-Identifier: MIT */
/* Lock store on Redis: a hash per context (token -> packed lock), read and changed by one Lua
   script per operation so that the conflict check and the write are one atomic step on the
   server, with the server's clock deciding expiry for every node alike. */
#include "lock-store-redis.h"

#include <stdio.h>
#include <string.h>

#include "lock-store-private.h"
#include "mem.h"
#include "pool.h"
#include "random.h"
#include "strv.h"

#define PREFIX_MAX 256
#define KEY_MAX    (PREFIX_MAX + 32)

struct redis_lock_store {
	struct lock_store store;
	struct redis_pool *pool;
	char prefix[PREFIX_MAX];
};

/* One script for every operation (ARGV[1]). KEYS[1], the context's hash: token -> record,
   "1 <expires ms> <timeout s> <depth 0|i> <scope x|s> <lock-null 0|1> <principal> <path
   length> <path><owner>". KEYS[2], its index: a sorted set of "<path>\0<token>" (all scores
   0), so that the locks on one path are a ZRANGEBYLEX and those below it another, and an
   operation decodes only the locks on the path, its ancestors and (when asked) below it, not
   the whole context (docs/internals/dav-locks.md). Records found expired or undecodable are
   dropped on the way; the whole hash is read only when the context reaches its limit. Both
   keys live a minute past the longest timeout granted and go with the last lock. The
   conflict and coverage rules are lock-store.c's, in Lua. Replies: {status, ...} with the
   status numbers of enum lock_status; a lock travels as its token and record with the
   server's now. */
static const char script[] =
    "local hk, xk, op = KEYS[1], KEYS[2], ARGV[1]\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local function dec(v)\n"
    "  local e, to, rest, d, s, n, pr, pl, off = string.match(v,\n"
    "    '^1 (%d+) (%d+) ()([0i]) ([xs]) ([01]) (%-?%d+) (%d+) ()')\n"
    "  if not off then return nil end\n"
    "  pl = tonumber(pl)\n"
    "  if off + pl - 1 > #v then return nil end\n"
    "  return {exp = tonumber(e), rest = rest, depth = d, scope = s, null = n, pr = pr,\n"
    "          path = string.sub(v, off, off + pl - 1)}\n"
    "end\n"
    "local function covers(l, p)\n"
    "  return l.path == p or (l.depth == 'i' and (l.path == '/' or\n"
    "                                             string.sub(p, 1, #l.path + 1) == l.path .. "
    "'/'))\n"
    "end\n"
    "local function drop(tok, path)\n"
    "  redis.call('HDEL', hk, tok)\n"
    "  if path then redis.call('ZREM', xk, path .. '\\0' .. tok) end\n"
    "end\n"
    "local function range(from, to, out)\n"
    "  for _, m in ipairs(redis.call('ZRANGEBYLEX', xk, from, to)) do\n"
    "    local z = string.find(m, '\\0', 1, true)\n"
    "    local raw = z and redis.call('HGET', hk, string.sub(m, z + 1))\n"
    "    local l = raw and dec(raw)\n"
    "    if l and l.exp > now and l.path == string.sub(m, 1, z - 1) then\n"
    "      l.tok, l.raw = string.sub(m, z + 1), raw\n"
    "      out[#out + 1] = l\n"
    "    else\n"
    "      redis.call('ZREM', xk, m)\n"
    "      if raw and not (l and l.exp > now) then redis.call('HDEL', hk, string.sub(m, z + 1)) "
    "end\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local function at(p, out) return range('[' .. p .. '\\0', '(' .. p .. '\\1', out) end\n"
    "local function under(p, out)\n"
    "  if p == '/' then return range('[/\\1', '+', out) end\n"
    "  return range('[' .. p .. '/', '(' .. p .. '0', out)\n"
    "end\n"
    "local function covering(p)\n"
    "  local out = at(p, {})\n"
    "  if p == '/' then return out end\n"
    "  for i = 1, #p do\n"
    "    if string.byte(p, i) == 47 then\n"
    "      for _, l in ipairs(at(i == 1 and '/' or string.sub(p, 1, i - 1), {})) do\n"
    "        if l.depth == 'i' then out[#out + 1] = l end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local function lifetime(to)\n"
    "  local ms = string.format('%.0f', to * 1000 + 60000)\n"
    "  for _, k in ipairs({hk, xk}) do\n"
    "    redis.call('PEXPIRE', k, ms, 'NX')\n"
    "    redis.call('PEXPIRE', k, ms, 'GT')\n"
    "  end\n"
    "end\n"
    "local function with_locks(out, locks)\n"
    "  for _, l in ipairs(locks) do\n"
    "    out[#out + 1], out[#out + 2] = l.tok, l.raw\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local function run()\n"
    "  if op == 'lock' then\n"
    "    local tok, p, d, s, n, pr = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]\n"
    "    local to, owner, max = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])\n"
    "    local near = covering(p)\n"
    "    if d == 'i' then under(p, near) end\n"
    "    for _, l in ipairs(near) do\n"
    "      if s == 'x' or l.scope == 'x' then return {1, now, l.tok, l.raw} end\n"
    "    end\n"
    "    local count = redis.call('HLEN', hk)\n"
    "    if count >= max then\n"
    "      local all = redis.call('HGETALL', hk)\n"
    "      for i = 1, #all, 2 do\n"
    "        local l = dec(all[i + 1])\n"
    "        if not (l and l.exp > now) then drop(all[i], l and l.path) end\n"
    "      end\n"
    "      count = redis.call('HLEN', hk)\n"
    "      if count >= max then return {2, count} end\n"
    "    end\n"
    "    local rec = string.format('1 %.0f %d %s %s %s %s %d ', now + to * 1000, to, d, s, n, pr,\n"
    "                              #p) .. p .. owner\n"
    "    redis.call('HSET', hk, tok, rec)\n"
    "    redis.call('ZADD', xk, 0, p .. '\\0' .. tok)\n"
    "    lifetime(to)\n"
    "    return {0, now, tok, rec}\n"
    "  elseif op == 'refresh' or op == 'unlock' then\n"
    "    local tok, p, pr = ARGV[2], ARGV[3], ARGV[4]\n"
    "    local raw = redis.call('HGET', hk, tok)\n"
    "    local l = raw and dec(raw)\n"
    "    if not (l and l.exp > now) then\n"
    "      if raw then drop(tok, l and l.path) end\n"
    "      return {3}\n"
    "    end\n"
    "    if not covers(l, p) then return {4} end\n"
    "    if pr ~= '0' and l.pr ~= pr then return {5} end\n"
    "    if op == 'unlock' then\n"
    "      drop(tok, l.path)\n"
    "      return {0}\n"
    "    end\n"
    "    local to = tonumber(ARGV[5])\n"
    "    local rec = string.format('1 %.0f %d ', now + to * 1000, to) .. string.sub(raw, l.rest)\n"
    "    redis.call('HSET', hk, tok, rec)\n"
    "    lifetime(to)\n"
    "    return {0, now, tok, rec}\n"
    "  elseif op == 'covering' then\n"
    "    return with_locks({0, now}, covering(ARGV[2]))\n"
    "  elseif op == 'below' then\n"
    "    return with_locks({0, now}, under(ARGV[2], at(ARGV[2], {})))\n"
    "  elseif op == 'remove' then\n"
    "    local gone = under(ARGV[2], at(ARGV[2], {}))\n"
    "    for _, l in ipairs(gone) do drop(l.tok, l.path) end\n"
    "    return {0, #gone}\n"
    "  elseif op == 'mapped' then\n"
    "    local n = 0\n"
    "    for _, l in ipairs(at(ARGV[2], {})) do\n"
    "      if l.null == '1' then\n"
    "        redis.call('HSET', hk, l.tok, string.sub(l.raw, 1, l.rest + 3) .. '0' ..\n"
    "                                      string.sub(l.raw, l.rest + 5))\n"
    "        n = n + 1\n"
    "      end\n"
    "    end\n"
    "    return {0, n}\n"
    "  end\n"
    "  return redis.error_reply('unknown lock store operation ' .. tostring(op))\n"
    "end\n"
    "local reply = run()\n"
    "if redis.call('HLEN', hk) == 0 then redis.call('DEL', xk) end\n"
    "return reply\n";

/* ---------------------------------------------------------------- records */

/* The next space-terminated field of *s. */
static bool next_field(struct strv *s, struct strv *f_r)
{
	return strv_split(*s, ' ', f_r, s);
}

static bool parse_i64(struct strv f, int64_t *v_r)
{
	bool neg = f.len > 0 && f.ptr[0] == '-';
	uint64_t v;
	if (strv_to_u64(neg ? strv_make(f.ptr + 1, f.len - 1) : f, &v) < 0 ||
	    v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	*v_r = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static bool one_of(struct strv f, char a, char b)
{
	return f.len == 1 && (f.ptr[0] == a || f.ptr[0] == b);
}

int lock_store_redis_unpack(const char *token, size_t token_len, const char *rec, size_t len,
                            uint64_t now_ms, struct pool *pool, struct lock *lock_r,
                            const char **error_r)
{
	struct strv s = strv_make(rec, len), f;
	uint64_t expires, timeout, path_len;
	struct strv depth, scope, null;
	int64_t principal;

	memset(lock_r, 0, sizeof(*lock_r));
	if (!lock_store__token_valid(token, token_len))
		*error_r = "token";
	else if (!next_field(&s, &f) || !strv_eq_cstr(f, "1"))
		*error_r = "version";
	else if (!next_field(&s, &f) || strv_to_u64(f, &expires) < 0)
		*error_r = "expiry";
	else if (!next_field(&s, &f) || strv_to_u64(f, &timeout) < 0 || timeout == 0 ||
	         timeout > LOCK_TIMEOUT_MAX)
		*error_r = "timeout";
	else if (!next_field(&s, &depth) || !one_of(depth, '0', 'i'))
		*error_r = "depth";
	else if (!next_field(&s, &scope) || !one_of(scope, 'x', 's'))
		*error_r = "scope";
	else if (!next_field(&s, &null) || !one_of(null, '0', '1'))
		*error_r = "lock-null flag";
	else if (!next_field(&s, &f) || !parse_i64(f, &principal))
		*error_r = "principal";
	else if (!next_field(&s, &f) || strv_to_u64(f, &path_len) < 0 || path_len > s.len ||
	         path_len > LOCK_PATH_MAX)
		*error_r = "path length";
	else if (memchr(s.ptr, '\0', path_len) != NULL)
		*error_r = "path";
	else if (s.len - path_len > LOCK_OWNER_MAX)
		*error_r = "owner";
	else {
		char *path = pool_strndup(pool, s.ptr, path_len);
		if (!lock_store_path_valid(path)) {
			*error_r = "path";
			return -1;
		}
		memcpy(lock_r->token, token, token_len);
		lock_r->token[token_len] = '\0';
		lock_r->path = path;
		lock_r->depth = depth.ptr[0] == '0' ? LOCK_DEPTH_0 : LOCK_DEPTH_INFINITY;
		lock_r->scope = scope.ptr[0] == 'x' ? LOCK_SCOPE_EXCLUSIVE : LOCK_SCOPE_SHARED;
		lock_r->lock_null = null.ptr[0] == '1';
		lock_r->principal = principal;
		lock_r->owner_len = s.len - path_len;
		if (lock_r->owner_len > 0) {
			char *owner = pool_alloc(pool, lock_r->owner_len);
			memcpy(owner, s.ptr + path_len, lock_r->owner_len);
			lock_r->owner = owner;
		}
		lock_r->timeout_s = (uint32_t)timeout;
		lock_r->expires_ms = expires;
		lock_r->remaining_s = lock_store__remaining(expires, now_ms);
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- calls */

static void reply_error(const char *address, const char *what, const redisReply *r)
{
	if (r->type == REDIS_REPLY_ERROR)
		lock_store__set_error("Redis %s: %s: %.200s", address, what, r->str);
	else
		lock_store__set_error("Redis %s: %s: unexpected reply", address, what);
}

/* Runs the script for cid; *reply_r is an array led by an integer status. LOCK_ERROR with
   the reason set when Redis could not be asked or answered otherwise. */
static enum lock_status run(struct redis_lock_store *rs, int64_t cid, const char *what, int argc,
                            const char **argv, const size_t *lens, redisReply **reply_r,
                            char address_r[128])
{
	char hkey[KEY_MAX], xkey[KEY_MAX], err[256];
	const char *args[16];
	size_t arg_lens[16];
	redisReply *r = NULL;
	enum lock_status ret = LOCK_ERROR;

	*reply_r = NULL;
	snprintf(hkey, sizeof(hkey), "%slk:%lld", rs->prefix, (long long)cid);
	snprintf(xkey, sizeof(xkey), "%slx:%lld", rs->prefix, (long long)cid);
	args[0] = "EVAL";
	args[1] = script;
	args[2] = "2";
	args[3] = hkey;
	args[4] = xkey;
	for (int i = 0; i < 5; i++)
		arg_lens[i] = strlen(args[i]);
	for (int i = 0; i < argc; i++) {
		args[5 + i] = argv[i];
		arg_lens[5 + i] = lens != NULL && lens[i] != (size_t)-1 ? lens[i] : strlen(argv[i]);
	}
	struct redis_conn *c = redis_pool_get(rs->pool, err, sizeof(err));
	if (c == NULL) {
		lock_store__set_error("%s", err);
		return LOCK_ERROR;
	}
	snprintf(address_r, 128, "%s", redis_conn_address(c));
	r = redis_command(c, 5 + argc, args, arg_lens);
	if (r == NULL) {
		lock_store__set_error("%s", redis_conn_error(c));
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	           r->element[0]->type != REDIS_REPLY_INTEGER) {
		reply_error(address_r, what, r);
	} else {
		*reply_r = r;
		r = NULL;
		ret = LOCK_OK;
	}
	if (r != NULL)
		freeReplyObject(r);
	redis_pool_put(rs->pool, &c);
	return ret;
}

/* The lock at r->element[i] (token) and [i + 1] (record), read at now. */
static enum lock_status reply_lock(const redisReply *r, size_t i, int64_t cid, uint64_t now,
                                   struct pool *pool, const char *address, struct lock *lock_r)
{
	const char *bad;
	const redisReply *tok = r->element[i], *rec = r->element[i + 1];
	if (tok->type != REDIS_REPLY_STRING || rec->type != REDIS_REPLY_STRING) {
		lock_store__set_error("Redis %s: lock store script: unexpected reply", address);
		return LOCK_ERROR;
	}
	if (lock_store_redis_unpack(tok->str, tok->len, rec->str, rec->len, now, pool, lock_r,
	                            &bad) < 0) {
		lock_store__set_error("Redis %s: malformed lock record (%s) in context %lld",
		                      address, bad, (long long)cid);
		return LOCK_ERROR;
	}
	lock_r->cid = cid;
	return LOCK_OK;
}

/* The status of a reply of lock, refresh or unlock; LOCK_ERROR for one the script does not
   make. with_lock: an OK or a conflict carries now, a token and a record. */
static enum lock_status reply_status(const redisReply *r, bool with_lock, const char *address)
{
	long long st = r->element[0]->integer;
	bool has_lock = with_lock && (st == LOCK_OK || st == LOCK_CONFLICT);
	if (st < LOCK_OK || st > LOCK_NOT_OWNER ||
	    (has_lock && (r->elements != 4 || r->element[1]->type != REDIS_REPLY_INTEGER)) ||
	    (st == LOCK_LIMIT &&
	     (r->elements != 2 || r->element[1]->type != REDIS_REPLY_INTEGER))) {
		lock_store__set_error("Redis %s: lock store script: unexpected reply", address);
		return LOCK_ERROR;
	}
	return (enum lock_status)st;
}

static void fmt_i64(char out[24], int64_t v)
{
	snprintf(out, 24, "%lld", (long long)v);
}

static enum lock_status redis_lock(struct lock_store *store, struct pool *pool,
                                   const struct lock_request *req, const char *token,
                                   uint32_t timeout_s, struct lock *lock_r)
{
	struct redis_lock_store *rs = (struct redis_lock_store *)store;
	char principal[24], timeout[24], max[24], address[128];
	redisReply *r;
	fmt_i64(principal, req->principal);
	fmt_i64(timeout, timeout_s);
	fmt_i64(max, store->max_locks);
	const char *argv[] = {"lock",
	                      token,
	                      req->path,
	                      req->depth == LOCK_DEPTH_0 ? "0" : "i",
	                      req->scope == LOCK_SCOPE_EXCLUSIVE ? "x" : "s",
	                      req->lock_null ? "1" : "0",
	                      principal,
	                      timeout,
	                      req->owner_len > 0 ? req->owner : "",
	                      max};
	size_t lens[] = {(size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1,     (size_t)-1,
	                 (size_t)-1, (size_t)-1, (size_t)-1, req->owner_len, (size_t)-1};
	enum lock_status ret = run(rs, req->cid, "taking a lock", 10, argv, lens, &r, address);
	if (ret != LOCK_OK)
		return ret;
	ret = reply_status(r, true, address);
	if (ret == LOCK_OK || ret == LOCK_CONFLICT) {
		uint64_t now = (uint64_t)r->element[1]->integer;
		if (reply_lock(r, 2, req->cid, now, pool, address, lock_r) != LOCK_OK)
			ret = LOCK_ERROR;
		else if (ret == LOCK_CONFLICT)
			lock_store__set_status_error(ret, lock_r);
	} else if (ret == LOCK_LIMIT) {
		lock_store__set_error("context %lld holds %lld locks already (the maximum)",
		                      (long long)req->cid, r->element[1]->integer);
	} else if (ret != LOCK_ERROR) {
		lock_store__set_error("Redis %s: lock store script: unexpected reply", address);
		ret = LOCK_ERROR;
	}
	freeReplyObject(r);
	return ret;
}

/* refresh and unlock: the same checks in the script. */
static enum lock_status token_op(struct redis_lock_store *rs, struct pool *pool, int64_t cid,
                                 const char *op, const char *token, const char *path,
                                 int64_t principal, uint32_t timeout_s, struct lock *lock_r)
{
	char pr[24], timeout[24], address[128];
	redisReply *r;
	fmt_i64(pr, principal);
	fmt_i64(timeout, timeout_s);
	const char *argv[] = {op, token, path, pr, timeout};
	enum lock_status ret = run(rs, cid, op, 5, argv, NULL, &r, address);
	if (ret != LOCK_OK)
		return ret;
	ret = reply_status(r, lock_r != NULL, address);
	if (ret == LOCK_OK && lock_r != NULL) {
		if (reply_lock(r, 2, cid, (uint64_t)r->element[1]->integer, pool, address,
		               lock_r) != LOCK_OK)
			ret = LOCK_ERROR;
	} else if (ret == LOCK_CONFLICT || ret == LOCK_LIMIT) {
		lock_store__set_error("Redis %s: lock store script: unexpected reply", address);
		ret = LOCK_ERROR;
	} else if (ret != LOCK_OK && ret != LOCK_ERROR) {
		lock_store__set_status_error(ret, NULL);
	}
	freeReplyObject(r);
	return ret;
}

static enum lock_status redis_refresh(struct lock_store *store, struct pool *pool, int64_t cid,
                                      const char *token, const char *path, int64_t principal,
                                      uint32_t timeout_s, struct lock *lock_r)
{
	return token_op((struct redis_lock_store *)store, pool, cid, "refresh", token, path,
	                principal, timeout_s, lock_r);
}

static enum lock_status redis_unlock(struct lock_store *store, int64_t cid, const char *token,
                                     const char *path, int64_t principal)
{
	return token_op((struct redis_lock_store *)store, NULL, cid, "unlock", token, path,
	                principal, 0, NULL);
}

static enum lock_status redis_list(struct lock_store *store, struct pool *pool, int64_t cid,
                                   const char *path, enum lock_list_mode mode,
                                   struct lock **locks_r, size_t *count_r)
{
	struct redis_lock_store *rs = (struct redis_lock_store *)store;
	char address[128];
	redisReply *r;
	const char *argv[] = {mode == LOCK_LIST_COVERING ? "covering" : "below", path};
	enum lock_status ret = run(rs, cid, "listing locks", 2, argv, NULL, &r, address);
	if (ret != LOCK_OK)
		return ret;
	if (r->element[0]->integer != LOCK_OK || r->elements < 2 || r->elements % 2 != 0 ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		lock_store__set_error("Redis %s: lock store script: unexpected reply", address);
		ret = LOCK_ERROR;
		goto out;
	}
	size_t n = (r->elements - 2) / 2;
	uint64_t now = (uint64_t)r->element[1]->integer;
	if (n > 0)
		*locks_r = pool_calloc(pool, n, sizeof(**locks_r));
	for (size_t i = 0; i < n && ret == LOCK_OK; i++)
		ret = reply_lock(r, 2 + 2 * i, cid, now, pool, address, &(*locks_r)[i]);
	if (ret == LOCK_OK)
		*count_r = n;
out:
	freeReplyObject(r);
	return ret;
}

/* remove and mapped: {0, count}. */
static enum lock_status count_op(struct lock_store *store, int64_t cid, const char *op,
                                 const char *path, size_t *count_r)
{
	struct redis_lock_store *rs = (struct redis_lock_store *)store;
	char address[128];
	redisReply *r;
	const char *argv[] = {op, path};
	enum lock_status ret = run(rs, cid, op, 2, argv, NULL, &r, address);
	if (ret != LOCK_OK)
		return ret;
	if (r->element[0]->integer != LOCK_OK || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_INTEGER || r->element[1]->integer < 0) {
		lock_store__set_error("Redis %s: lock store script: unexpected reply", address);
		ret = LOCK_ERROR;
	} else {
		*count_r = (size_t)r->element[1]->integer;
	}
	freeReplyObject(r);
	return ret;
}

static enum lock_status redis_remove_tree(struct lock_store *store, int64_t cid, const char *path,
                                          size_t *removed_r)
{
	return count_op(store, cid, "remove", path, removed_r);
}

static enum lock_status redis_mapped(struct lock_store *store, int64_t cid, const char *path,
                                     size_t *changed_r)
{
	return count_op(store, cid, "mapped", path, changed_r);
}

static void redis_destroy(struct lock_store *store)
{
	mem_free(&store);
}

static const struct lock_store_ops redis_ops = {
    .lock = redis_lock,
    .refresh = redis_refresh,
    .unlock = redis_unlock,
    .list = redis_list,
    .remove_tree = redis_remove_tree,
    .mapped = redis_mapped,
    .destroy = redis_destroy,
};

struct lock_store *lock_store_redis_create(const struct lock_store_redis_settings *set,
                                           const char **error_r)
{
	if (set->pool == NULL || set->prefix == NULL) {
		*error_r = "Redis lock store needs a pool and a prefix";
		return NULL;
	}
	if (strlen(set->prefix) >= PREFIX_MAX) {
		*error_r = "lock store key prefix is too long (max 255 bytes)";
		return NULL;
	}
	random_init();
	struct redis_lock_store *rs = mem_calloc(1, sizeof(*rs));
	rs->store.ops = &redis_ops;
	rs->store.max_locks = set->max_locks > 0 ? set->max_locks : LOCK_MAX_LOCKS_DEFAULT;
	rs->pool = set->pool;
	snprintf(rs->prefix, sizeof(rs->prefix), "%s", set->prefix);
	return &rs->store;
}
