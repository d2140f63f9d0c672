/* SPDX-License-Identifier: MIT */
/* Dead properties: rows of dav_props keyed (cid, kind, object, ns, name). */
#include "dav-props.h"

#include <string.h>

#include "buf.h"
#include "pool.h"
#include "sql.h"

const char *dav_props_check(const struct dav_prop *prop)
{
	size_t name = prop->name != NULL ? strlen(prop->name) : 0;
	if (name == 0)
		return "a property needs a name";
	if (name > DAV_PROPS_NAME_MAX)
		return "a property name may have at most 255 bytes";
	if (prop->ns != NULL && strlen(prop->ns) > DAV_PROPS_NAME_MAX)
		return "a property namespace may have at most 255 bytes";
	if (prop->value != NULL && strlen(prop->value) > DAV_PROPS_VALUE_MAX)
		return "a property value may have at most 65536 bytes";
	return NULL;
}

static bool wanted(const struct dav_prop *names, size_t n, const char *ns, const char *name)
{
	if (names == NULL)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i].ns != NULL ? names[i].ns : "", ns) == 0 &&
		    strcmp(names[i].name, name) == 0)
			return true;
	}
	return false;
}

/* Appends the statement's row (ns, name, value at columns col..col+2) to props[*count_r]. */
static void add_row(struct sql_stmt *s, int col, struct pool *pool, struct dav_prop **props,
                    size_t *count_r, size_t *cap_r)
{
	const char *ns = sql_col_text(s, col), *name = sql_col_text(s, col + 1);
	const char *value = sql_col_text(s, col + 2);
	if (*count_r == *cap_r) {
		/* at most DAV_PROPS_MAX rows per object: growing in the pool is fine */
		*cap_r = *cap_r == 0 ? 16 : *cap_r * 2;
		struct dav_prop *more = pool_calloc(pool, *cap_r, sizeof(*more));
		if (*count_r > 0)
			memcpy(more, *props, *count_r * sizeof(*more));
		*props = more;
	}
	struct dav_prop *p = &(*props)[(*count_r)++];
	p->ns = pool_strdup(pool, ns != NULL ? ns : "");
	p->name = pool_strdup(pool, name != NULL ? name : "");
	p->value = pool_strdup(pool, value != NULL ? value : "");
}

static bool row_wanted(struct sql_stmt *s, int col, const struct dav_prop *names, size_t n)
{
	const char *ns = sql_col_text(s, col), *name = sql_col_text(s, col + 1);
	return wanted(names, n, ns != NULL ? ns : "", name != NULL ? name : "");
}

int dav_props_get(struct sql_conn *conn, struct pool *pool, int64_t cid, enum dav_props_kind kind,
                  int64_t id, const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                  size_t *count_r, struct sql_error *err)
{
	*props_r = NULL;
	*count_r = 0;
	struct sql_stmt *s = sql_prepare(conn,
	                                 "SELECT ns, name, value FROM dav_props WHERE cid=? AND "
	                                 "kind=? AND object=? ORDER BY ns, name",
	                                 err);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	sql_bind_text(s, 2, DAV_PROPS_KIND_NAME(kind));
	sql_bind_int64(s, 3, id);
	size_t cap = 0;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		if (row_wanted(s, 0, names, n))
			add_row(s, 0, pool, props_r, count_r, &cap);
	}
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

int dav_props_get_many(struct sql_conn *conn, struct pool *pool, int64_t cid,
                       enum dav_props_kind kind, const int64_t *ids, size_t count,
                       const struct dav_prop *names, size_t n, struct dav_prop **props_r,
                       size_t *counts_r, struct sql_error *err)
{
	memset(props_r, 0, count * sizeof(*props_r));
	memset(counts_r, 0, count * sizeof(*counts_r));
	if (count == 0)
		return 0;
	struct buf q;
	buf_init(&q, 256 + 2 * count);
	buf_append_str(&q, "SELECT object, ns, name, value FROM dav_props WHERE cid=? AND kind=? "
	                   "AND object IN (?");
	for (size_t i = 1; i < count; i++)
		buf_append_str(&q, ",?");
	buf_append_str(&q, ") ORDER BY object, ns, name");
	struct sql_stmt *s = sql_prepare(conn, q.data, err);
	buf_free(&q);
	if (s == NULL)
		return -1;
	sql_bind_int64(s, 1, cid);
	sql_bind_text(s, 2, DAV_PROPS_KIND_NAME(kind));
	for (size_t i = 0; i < count; i++)
		sql_bind_int64(s, (unsigned)i + 3, ids[i]);
	/* rows come grouped by object: one capacity per run of rows */
	size_t cap = 0, at = count;
	int r;
	while ((r = sql_step(s, err)) > 0) {
		int64_t object = sql_col_int64(s, 0);
		if (at == count || ids[at] != object) {
			for (at = 0; at < count && ids[at] != object; at++)
				;
			cap = 0;
		}
		if (at < count && row_wanted(s, 1, names, n))
			add_row(s, 1, pool, &props_r[at], &counts_r[at], &cap);
	}
	sql_stmt_done(&s);
	return r < 0 ? -1 : 0;
}

int dav_props_put(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t id,
                  const struct dav_prop *prop, struct sql_error *err)
{
	const char *k = DAV_PROPS_KIND_NAME(kind), *ns = prop->ns != NULL ? prop->ns : "";
	if (sql_run(conn, err,
	            "DELETE FROM dav_props WHERE cid=? AND kind=? AND object=? AND ns=? AND name=?",
	            "isiss", cid, k, id, ns, prop->name) < 0)
		return -1;
	if (prop->value == NULL)
		return 0;
	return sql_run(conn, err,
	               "INSERT INTO dav_props (cid, kind, object, ns, name, value) VALUES "
	               "(?, ?, ?, ?, ?, ?)",
	               "isisss", cid, k, id, ns, prop->name, prop->value);
}

int dav_props_count(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t id,
                    int64_t *count_r, struct sql_error *err)
{
	return sql_query_int64(conn, err, count_r,
	                       "SELECT COUNT(*) FROM dav_props WHERE cid=? AND kind=? AND object=?",
	                       "isi", cid, DAV_PROPS_KIND_NAME(kind), id) < 0
	           ? -1
	           : 0;
}

int dav_props_delete(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t id,
                     struct sql_error *err)
{
	return sql_run(conn, err, "DELETE FROM dav_props WHERE cid=? AND kind=? AND object=?",
	               "isi", cid, DAV_PROPS_KIND_NAME(kind), id);
}

int dav_props_copy(struct sql_conn *conn, int64_t cid, enum dav_props_kind kind, int64_t from,
                   int64_t to, struct sql_error *err)
{
	const char *k = DAV_PROPS_KIND_NAME(kind);
	return sql_run(conn, err,
	               "INSERT INTO dav_props (cid, kind, object, ns, name, value) SELECT cid, "
	               "kind, ?, ns, name, value FROM dav_props WHERE cid=? AND kind=? AND "
	               "object=?",
	               "iisi", to, cid, k, from);
}
