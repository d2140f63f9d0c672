/* SPDX-License-Identifier: MIT */
/* Folder permissions (docs/internals/folders.md): the OX permission bits, the viewer's groups
   and effective rights, and checking and storing a folder's permission list. */
#include <stddef.h>
#include <string.h>

#include "cache.h"
#include "folder-private.h"
#include "pool.h"

#define LEVEL_MASK 0x7fu

/* --- permission bits --- */

uint32_t folder_perm_pack(const struct folder_perm *perm)
{
	return FOLDER_BITS(perm->folder & LEVEL_MASK, perm->read & LEVEL_MASK,
	                   perm->write & LEVEL_MASK, perm->del & LEVEL_MASK, perm->admin);
}

void folder_perm_unpack(uint32_t bits, struct folder_perm *perm_r)
{
	perm_r->folder = bits & LEVEL_MASK;
	perm_r->read = (bits >> 7) & LEVEL_MASK;
	perm_r->write = (bits >> 14) & LEVEL_MASK;
	perm_r->del = (bits >> 21) & LEVEL_MASK;
	perm_r->admin = (bits & FOLDER_BITS_ADMIN) != 0;
}

static bool folder_level_known(unsigned v)
{
	return v == 0 || v == 1 || v == 2 || v == 4 || v == 64;
}

static bool object_level_known(unsigned v)
{
	return v == 0 || v == 1 || v == 2 || v == 64;
}

int folder_bits_check(int64_t bits, const char **error_r)
{
	struct folder_perm p;
	if (bits < 0 || bits > (int64_t)(FOLDER_BITS_ADMIN | (FOLDER_BITS_ADMIN - 1))) {
		*error_r = "bits must be between 0 and 536870911 (nothing above bit 28)";
		return -1;
	}
	folder_perm_unpack((uint32_t)bits, &p);
	if (!folder_level_known(p.folder)) {
		*error_r = "the folder level (bits 0-6) must be 0, 1, 2, 4 or 64";
		return -1;
	}
	if (!object_level_known(p.read) || !object_level_known(p.write) ||
	    !object_level_known(p.del)) {
		*error_r = "the read, write and delete levels must each be 0, 1, 2 or 64";
		return -1;
	}
	return 0;
}

bool folder_perm_may_create(const struct folder_perm *perm)
{
	return perm->folder >= FOLDER_LEVEL_CREATE_OBJECTS;
}

static bool object_level_allows(unsigned level, bool own)
{
	return level >= FOLDER_LEVEL_ALL || (own && level >= FOLDER_LEVEL_OWN);
}

bool folder_perm_may_read(const struct folder_perm *perm, bool own)
{
	return object_level_allows(perm->read, own);
}

bool folder_perm_may_write(const struct folder_perm *perm, bool own)
{
	return object_level_allows(perm->write, own);
}

bool folder_perm_may_delete(const struct folder_perm *perm, bool own)
{
	return object_level_allows(perm->del, own);
}

static void perm_max(struct folder_perm *acc, const struct folder_perm *p)
{
	if (p->folder > acc->folder)
		acc->folder = p->folder;
	if (p->read > acc->read)
		acc->read = p->read;
	if (p->write > acc->write)
		acc->write = p->write;
	if (p->del > acc->del)
		acc->del = p->del;
	acc->admin = acc->admin || p->admin;
}

/* --- the viewer's groups and effective rights --- */

static bool cached_groups(struct op *op)
{
	struct cached_groups g;
	size_t size;
	if (cache_get(folder__group_cache, op->cid, op->uid, &g, &size) == 0)
		return false;
	op->group_count = g.count;
	op->groups = pool_alloc(op->pool, (g.count + 1) * sizeof(*op->groups));
	memcpy(op->groups, g.ids, g.count * sizeof(*op->groups));
	return true;
}

int folder_perm__load_groups(struct op *op)
{
	if (op->groups_loaded)
		return 0;
	bool use_cache = op->cached && folder__group_cache != NULL;
	if (use_cache && cached_groups(op)) {
		op->groups_loaded = true;
		return 0;
	}
	uint64_t gen = use_cache ? cache_generation(folder__group_cache) : 0;
	int64_t params[] = {op->cid, op->uid};
	if (folder__select_ids(op, "SELECT group_id FROM group_member WHERE cid=? AND user_id=?",
	                       params, 2, &op->groups, &op->group_count) < 0)
		return -1;
	op->groups_loaded = true;
	if (use_cache && op->group_count <= FOLDER_CACHE_GROUPS_MAX) {
		struct cached_groups g = {.count = (uint32_t)op->group_count};
		if (op->group_count > 0)
			memcpy(g.ids, op->groups, op->group_count * sizeof(*g.ids));
		cache_put(folder__group_cache, op->cid, op->uid, &g,
		          offsetof(struct cached_groups, ids) + g.count * sizeof(*g.ids), gen);
	}
	return 0;
}

static bool entry_applies(const struct op *op, const struct folder_permission *p)
{
	if (!p->group)
		return p->entity == op->uid;
	if (p->entity == FOLDER_GROUP_ALL_USERS)
		return true;
	for (size_t i = 0; i < op->group_count; i++) {
		if (op->groups[i] == p->entity)
			return true;
	}
	return false;
}

/* The one place where effective rights are decided. */
void folder_perm__compute_rights(const struct op *op, struct node *n)
{
	struct folder_perm acc = {0}, p;
	if (!n->is_system && n->owner == op->uid)
		folder_perm_unpack(FOLDER_BITS_OWNER, &acc);
	for (size_t i = 0; i < n->acl_count; i++) {
		if (!entry_applies(op, &n->acl[i]))
			continue;
		folder_perm_unpack(n->acl[i].bits, &p);
		perm_max(&acc, &p);
	}
	n->rights = acc;
}

bool folder_perm__visible(const struct node *n)
{
	return n != NULL && n->exists && n->rights.folder >= FOLDER_LEVEL_SEE;
}

int folder_perm__load_acl(struct op *op, struct node *n)
{
	struct sql_stmt *st = sql_prepare(op->conn,
	                                  "SELECT entity, is_group, bits FROM folder_permission "
	                                  "WHERE cid=? AND folder=? ORDER BY is_group, entity",
	                                  &op->err->sql);
	size_t cap = 0;
	int r;
	if (st == NULL)
		return folder__sql_failed(op);
	sql_bind_int64(st, 1, op->cid);
	sql_bind_int64(st, 2, n->id);
	while ((r = sql_step(st, &op->err->sql)) > 0) {
		n->acl = folder__grow(op->pool, n->acl, n->acl_count, &cap, sizeof(*n->acl));
		struct folder_permission *p = &n->acl[n->acl_count++];
		p->entity = sql_col_int64(st, 0);
		p->group = sql_col_int64(st, 1) != 0;
		p->bits = (uint32_t)sql_col_int64(st, 2);
	}
	sql_stmt_done(&st);
	return r < 0 ? folder__sql_failed(op) : 0;
}

/* --- storing permission lists --- */

int folder_perm__insert_permission(struct sql_conn *conn, int64_t cid, int64_t folder,
                                   const struct folder_permission *p, struct sql_error *err)
{
	return sql_run(conn, err,
	               "INSERT INTO folder_permission (cid, folder, entity, is_group, bits) VALUES "
	               "(?, ?, ?, ?, ?)",
	               "iiiii", cid, folder, p->entity, (int64_t)(p->group ? 1 : 0),
	               (int64_t)p->bits);
}

static int entity_exists(struct op *op, const struct folder_permission *p, bool *exists_r)
{
	int64_t one;
	if (p->group && p->entity == FOLDER_GROUP_ALL_USERS) {
		*exists_r = true;
		return 0;
	}
	int r = sql_query_int64(op->conn, &op->err->sql, &one,
	                        p->group ? "SELECT 1 FROM user_group WHERE cid=? AND id=?"
	                                 : "SELECT 1 FROM users WHERE cid=? AND id=?",
	                        "ii", op->cid, p->entity);
	if (r < 0)
		return folder__sql_failed(op);
	*exists_r = r > 0;
	return 0;
}

/* Checks a new permission list for n; all entries valid, known and unique. */
int folder_perm__check_permissions(struct op *op, const struct node *n,
                                   const struct folder_permission *list, size_t count)
{
	const char *why;
	if (count > FOLDER_PERMISSIONS_MAX)
		return folder__fail(op, FOLDER_INVALID, "permissions",
		                    "at most %d permission entries", FOLDER_PERMISSIONS_MAX);
	for (size_t i = 0; i < count; i++) {
		const struct folder_permission *p = &list[i];
		bool exists;
		if (folder_bits_check(p->bits, &why) < 0)
			return folder__fail(op, FOLDER_INVALID, "permissions",
			                    "permissions[%zu]: %s", i, why);
		if (p->entity < 0 || (!p->group && p->entity == 0))
			return folder__fail(op, FOLDER_INVALID, "permissions",
			                    "permissions[%zu]: entity must be a user or group id",
			                    i);
		for (size_t j = 0; j < i; j++) {
			if (list[j].entity == p->entity && list[j].group == p->group)
				return folder__fail(op, FOLDER_INVALID, "permissions",
				                    "permissions[%zu]: %s %lld is listed twice", i,
				                    p->group ? "group" : "user",
				                    (long long)p->entity);
		}
		if (!p->group && p->entity == n->owner && p->bits != FOLDER_BITS_OWNER)
			return folder__fail(
			    op, FOLDER_INVALID, "permissions",
			    "permissions[%zu]: the owner (user %lld) always keeps full rights "
			    "(bits %lu)",
			    i, (long long)n->owner, (unsigned long)FOLDER_BITS_OWNER);
		if (entity_exists(op, p, &exists) < 0)
			return -1;
		if (!exists)
			return folder__fail(
			    op, FOLDER_INVALID, "permissions",
			    "permissions[%zu]: %s %lld does not exist in this context", i,
			    p->group ? "group" : "user", (long long)p->entity);
	}
	return 0;
}

int folder_perm__replace_permissions(struct op *op, const struct node *n,
                                     const struct folder_permission *list, size_t count)
{
	struct sql_error *se = &op->err->sql;
	bool owner_listed = false;
	if (sql_run(op->conn, se, "DELETE FROM folder_permission WHERE cid=? AND folder=?", "ii",
	            op->cid, n->id) < 0)
		return folder__sql_failed(op);
	for (size_t i = 0; i < count; i++) {
		owner_listed = owner_listed || (!list[i].group && list[i].entity == n->owner);
		if (folder_perm__insert_permission(op->conn, op->cid, n->id, &list[i], se) < 0)
			return folder__sql_failed(op);
	}
	struct folder_permission owner = {n->owner, false, FOLDER_BITS_OWNER};
	if (!owner_listed &&
	    folder_perm__insert_permission(op->conn, op->cid, n->id, &owner, se) < 0)
		return folder__sql_failed(op);
	return 0;
}
