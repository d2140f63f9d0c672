/* SPDX-License-Identifier: MIT */
/* Folder operations of a storage user: one transaction per call over folder.c. */
#include "storage-folder.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dav-props.h"
#include "filestore.h"
#include "infostore.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "storage-private.h"

enum action {
	LIST,
	LIST_SHARERS,
	LIST_SHARED_BY,
	GET,
	CREATE,
	UPDATE,
	DELETE,
	MOVE,
	COPY_READ,  /* a copy's tree */
	COPY_WRITE, /* a copy's rows */
};

/* A folder of a copy's tree: index 0 is its root. */
struct copy_folder {
	int64_t src, dst;
	size_t parent; /* index of the parent (not for the root) */
	const char *title;
};

/* A file of a copy's tree: its current version, and where its copied content is. */
struct copy_file {
	int64_t src;
	size_t folder; /* index into the folders */
	const char *name;
	int64_t size;
	char md5[33];
	char content_type[INFOSTORE_TYPE_MAX + 1];
	char location[FILESTORE_LOCATION_SIZE];
	char copy[FILESTORE_LOCATION_SIZE]; /* "" until published */
};

struct copy {
	bool members;
	struct copy_folder *folders;
	size_t nfolders;
	struct copy_file *files;
	size_t nfiles;
	int64_t bytes;
	const char *module; /* the root's */
};

/* One call: its input, and what the transaction produced. */
struct op {
	struct storage_user *user;
	enum action action;
	int64_t id; /* folder (parent for LIST and CREATE), or the owner for LIST_SHARED_BY */
	const char *title, *module;
	const struct folder_change *change;
	const struct storage_folder_update *update;
	struct folder **folder_r;
	struct folder ***folders_r;
	size_t *count_r;
	struct folder_sharer **sharers_r, *sharer_r;
	const char **locations;
	size_t location_count;
	struct folder_changes changes; /* announced after the transaction */
	struct folder_error *fe;
	struct storage_folder_place *place;
	struct copy *copy;
};

static int fail(struct folder_error *fe, enum folder_status status, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct folder_error *fe, enum folder_status status, const char *field,
                const char *fmt, ...)
{
	va_list args;
	fe->status = status;
	fe->field = field;
	va_start(args, fmt);
	vsnprintf(fe->message, sizeof(fe->message), fmt, args);
	va_end(args);
	return -1;
}

/* The usage row first (the lock order of uploads and folder_delete()), charging bytes and
   objects (0: only the lock). */
static int lock_usage(struct sql_conn *conn, struct op *op, int64_t bytes, int64_t objects)
{
	struct storage_user *u = op->user;
	struct infostore_charge ch = {.cid = u->cid,
	                              .bytes = bytes,
	                              .objects = objects,
	                              .quota_bytes = u->ctx.quota_bytes,
	                              .max_objects = u->storage->set.max_objects,
	                              .now = (int64_t)time(NULL)};
	int r = infostore_charge(conn, &ch, &op->fe->sql);
	if (r < 0)
		return fail(op->fe, FOLDER_SQL, NULL, "%s", op->fe->sql.message);
	if (r == INFOSTORE_OVER_QUOTA)
		return fail(op->fe, FOLDER_LIMIT, NULL,
		            "the copy exceeds the context's quota of %lld MiB",
		            (long long)u->ctx.quota_mb);
	if (r == INFOSTORE_OVER_OBJECTS)
		return fail(
		    op->fe, FOLDER_LIMIT, NULL,
		    "the context holds its limit of %lld objects (file versions and folders)",
		    (long long)u->storage->set.max_objects);
	return 0;
}

/* With overwrite: deletes the sibling titled title below parent (ASCII case ignored) unless
   it is keep. */
static int replace_sibling(struct sql_conn *conn, struct op *op, int64_t parent, const char *title,
                           int64_t keep)
{
	struct storage_user *u = op->user;
	struct folder **folders;
	size_t count;
	if (!op->place->overwrite || parent == 0)
		return 0;
	if (folder_list(conn, u->pool, u->cid, u->uid, parent, &folders, &count, op->fe) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (folders[i]->id == keep || strcasecmp(folders[i]->title, title) != 0)
			continue;
		if (folder_delete(conn, u->pool, u->cid, u->uid, folders[i]->id, &op->locations,
		                  &op->location_count, &op->changes, op->fe) < 0)
			return -1;
		op->place->replaced = true;
		break;
	}
	return 0;
}

static int move(struct sql_conn *conn, struct op *op)
{
	struct storage_user *u = op->user;
	struct storage_folder_place *to = op->place;
	struct folder *f;
	to->replaced = false;
	op->location_count = 0;
	if (lock_usage(conn, op, 0, 0) < 0 ||
	    folder_get(conn, u->pool, u->cid, u->uid, op->id, &f, op->fe) < 0)
		return -1;
	struct folder_change change = {0};
	if (to->title != NULL && strcmp(to->title, f->title) != 0)
		change.title = to->title;
	if (to->parent != 0 && to->parent != f->parent && to->parent != f->view_parent)
		change.parent = to->parent;
	to->folder = f;
	if (change.title == NULL && change.parent == 0)
		return 0;
	if (replace_sibling(conn, op, change.parent != 0 ? change.parent : f->view_parent,
	                    change.title != NULL ? change.title : f->title, op->id) < 0)
		return -1;
	return folder_update(conn, u->pool, u->cid, u->uid, op->id, &change, &to->folder,
	                     &op->changes, op->fe);
}

/* A PATCH that names what may not change: only as the folder is now. */
static int check_unchanged(struct sql_conn *conn, struct op *op)
{
	const struct storage_folder_update *up = op->update;
	struct storage_user *u = op->user;
	struct folder_error *fe = op->fe;
	if (up->parent_node_user != 0) {
		/* Only the parent the caller was shown: "unchanged". */
		if (folder_get(conn, u->pool, u->cid, u->uid, op->id, op->folder_r, fe) < 0)
			return -1;
		if ((*op->folder_r)->view_parent_user != up->parent_node_user) {
			fe->status = FOLDER_INVALID;
			fe->field = "parent";
			snprintf(fe->message, sizeof(fe->message),
			         "parent must be a folder id (\"u:%" PRId64 "\" is not one)",
			         up->parent_node_user);
			return -1;
		}
	}
	if (up->module != NULL) {
		if (folder_get(conn, u->pool, u->cid, u->uid, op->id, op->folder_r, fe) < 0)
			return -1;
		if (strcmp((*op->folder_r)->module, up->module) != 0) {
			fe->status = FOLDER_INVALID;
			fe->field = "module";
			snprintf(fe->message, sizeof(fe->message),
			         "module cannot be changed (folder %" PRId64 " is %s)", op->id,
			         (*op->folder_r)->module);
			return -1;
		}
	}
	return 0;
}

/* --- copy --- */

#define COPY_PAGE 256

/* The readable files of the copy's folder i (their current versions). */
static int copy_read_files(struct sql_conn *conn, struct op *op, size_t i,
                           const struct folder_perm *rights, struct infostore_file *page)
{
	struct storage_user *u = op->user;
	struct copy *c = op->copy;
	const char *after = "";
	size_t got;
	if (!folder_perm_may_read(rights, true))
		return 0;
	/* "read own": only what the user created, as listings show */
	int64_t creator = folder_perm_may_read(rights, false) ? 0 : u->uid;
	do {
		if (infostore_list_page(conn, u->cid, c->folders[i].src, creator, after, COPY_PAGE,
		                        page, &got, &op->fe->sql) < 0)
			return fail(op->fe, FOLDER_SQL, NULL, "%s", op->fe->sql.message);
		for (size_t k = 0; k < got; k++) {
			if (c->nfolders + c->nfiles >= STORAGE_FOLDER_COPY_MAX)
				return fail(op->fe, FOLDER_LIMIT, NULL,
				            "a copy may hold at most %d folders and files",
				            STORAGE_FOLDER_COPY_MAX);
			struct infostore_version v;
			int r = infostore_get_version(conn, u->cid, page[k].id, page[k].version, &v,
			                              &op->fe->sql);
			if (r < 0)
				return fail(op->fe, FOLDER_SQL, NULL, "%s", op->fe->sql.message);
			if (r == 0)
				continue; /* a broken file: checkconsistency's business */
			struct copy_file *f = &c->files[c->nfiles++];
			memset(f, 0, sizeof(*f));
			f->src = page[k].id;
			f->folder = i;
			f->name = pool_strdup(u->pool, page[k].name);
			f->size = v.size;
			snprintf(f->md5, sizeof(f->md5), "%s", v.md5);
			snprintf(f->content_type, sizeof(f->content_type), "%s", v.content_type);
			snprintf(f->location, sizeof(f->location), "%s", v.location);
			c->bytes += v.size;
		}
		if (got > 0)
			after = pool_strdup(u->pool, page[got - 1].name);
	} while (got == COPY_PAGE);
	return 0;
}

/* The tree to copy: the root, then breadth first what the user sees below it. */
static int copy_read(struct sql_conn *conn, struct op *op)
{
	struct storage_user *u = op->user;
	struct copy *c = op->copy;
	struct folder *root, **children;
	size_t count;
	c->nfolders = c->nfiles = 0;
	c->bytes = 0;
	if (folder_get(conn, u->pool, u->cid, u->uid, op->id, &root, op->fe) < 0)
		return -1;
	c->module = pool_strdup(u->pool, root->module);
	c->folders[c->nfolders++] = (struct copy_folder){.src = root->id, .title = root->title};
	if (!c->members)
		return 0;
	struct infostore_file *page = pool_calloc(u->pool, COPY_PAGE, sizeof(*page));
	struct folder_perm rights = root->rights;
	for (size_t i = 0; i < c->nfolders; i++) {
		if (i > 0 &&
		    folder_get(conn, u->pool, u->cid, u->uid, c->folders[i].src, &root, op->fe) < 0)
			return -1;
		rights = root->rights;
		if (strcmp(root->module, "infostore") == 0 &&
		    copy_read_files(conn, op, i, &rights, page) < 0)
			return -1;
		if (folder_list(conn, u->pool, u->cid, u->uid, c->folders[i].src, &children, &count,
		                op->fe) < 0)
			return -1;
		for (size_t k = 0; k < count; k++) {
			if (c->nfolders + c->nfiles >= STORAGE_FOLDER_COPY_MAX)
				return fail(op->fe, FOLDER_LIMIT, NULL,
				            "a copy may hold at most %d folders and files",
				            STORAGE_FOLDER_COPY_MAX);
			c->folders[c->nfolders++] = (struct copy_folder){
			    .src = children[k]->id, .parent = i, .title = children[k]->title};
		}
	}
	return 0;
}

/* The copy's rows, charged first as uploads are. */
static int copy_write(struct sql_conn *conn, struct op *op)
{
	struct storage_user *u = op->user;
	struct copy *c = op->copy;
	struct storage_folder_place *to = op->place;
	const char *title = to->title != NULL ? to->title : c->folders[0].title;
	struct folder *f;
	to->replaced = false;
	op->location_count = 0;
	if (lock_usage(conn, op, c->bytes, (int64_t)c->nfiles) < 0)
		return -1;
	for (size_t i = 0; i < c->nfolders; i++) {
		if (c->folders[i].src == to->parent) {
			op->fe->loop = true;
			return fail(op->fe, FOLDER_INVALID, "parent",
			            "a folder cannot be copied into itself or its own subfolder");
		}
	}
	if (replace_sibling(conn, op, to->parent, title, 0) < 0)
		return -1;
	int64_t now = (int64_t)time(NULL), id, version;
	for (size_t i = 0; i < c->nfolders; i++) {
		struct copy_folder *cf = &c->folders[i];
		if (folder_create(conn, u->pool, u->cid, u->uid,
		                  i == 0 ? to->parent : c->folders[cf->parent].dst,
		                  i == 0 ? title : cf->title, i == 0 ? c->module : NULL,
		                  u->storage->set.max_objects, &f, &op->changes, op->fe) < 0)
			return -1;
		cf->dst = f->id;
		if (i == 0)
			to->folder = f;
		if (dav_props_copy(conn, u->cid, DAV_PROPS_FOLDER, cf->src, cf->dst, &op->fe->sql) <
		    0)
			return fail(op->fe, FOLDER_SQL, NULL, "%s", op->fe->sql.message);
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		struct copy_file *cf = &c->files[i];
		struct infostore_upload row = {.cid = u->cid,
		                               .folder = c->folders[cf->folder].dst,
		                               .uid = u->uid,
		                               .name = cf->name,
		                               .size = cf->size,
		                               .md5 = cf->md5,
		                               .content_type = cf->content_type,
		                               .location = cf->copy,
		                               .now = now};
		if (infostore_add_version(conn, &row, NULL, &id, &version, &op->fe->sql) < 0 ||
		    dav_props_copy(conn, u->cid, DAV_PROPS_FILE, cf->src, id, &op->fe->sql) < 0)
			return fail(op->fe, FOLDER_SQL, NULL, "%s", op->fe->sql.message);
	}
	/* as the user sees it now, with its members */
	return folder_get(conn, u->pool, u->cid, u->uid, to->folder->id, &to->folder, op->fe);
}

static int run_action(struct sql_conn *conn, struct op *op)
{
	struct storage_user *u = op->user;
	struct pool *pool = u->pool;
	struct folder_error *fe = op->fe;
	switch (op->action) {
	case LIST:
		return folder_list(conn, pool, u->cid, u->uid, op->id, op->folders_r, op->count_r,
		                   fe);
	case LIST_SHARERS:
		return folder_list_sharers(conn, pool, u->cid, u->uid, op->sharers_r, op->count_r,
		                           fe);
	case LIST_SHARED_BY:
		return folder_list_shared_by(conn, pool, u->cid, u->uid, op->id, op->sharer_r,
		                             op->folders_r, op->count_r, fe);
	case GET:
		return folder_get(conn, pool, u->cid, u->uid, op->id, op->folder_r, fe);
	case CREATE:
		if (folder_create(conn, pool, u->cid, u->uid, op->id, op->title, op->module,
		                  u->storage->set.max_objects, op->folder_r, &op->changes, fe) < 0)
			return -1;
		if (op->change == NULL || !op->change->set_permissions)
			return 0;
		return folder_update(conn, pool, u->cid, u->uid, (*op->folder_r)->id, op->change,
		                     op->folder_r, &op->changes, fe);
	case UPDATE:
		if (check_unchanged(conn, op) < 0)
			return -1;
		return folder_update(conn, pool, u->cid, u->uid, op->id, &op->update->change,
		                     op->folder_r, &op->changes, fe);
	case DELETE:
		return folder_delete(conn, pool, u->cid, u->uid, op->id, &op->locations,
		                     &op->location_count, &op->changes, fe);
	case MOVE:
		return move(conn, op);
	case COPY_READ:
		return copy_read(conn, op);
	case COPY_WRITE:
		return copy_write(conn, op);
	}
	return -1;
}

static int txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct op *op = ctx;
	int r = run_action(conn, op);
	/* Hand SQL errors on so that BUSY is retried; a refusal leaves err empty and rolls
	   back. */
	if (r < 0 && op->fe->status == FOLDER_SQL)
		*err = op->fe->sql;
	return r;
}

static int run(struct op *op, struct storage_error *err)
{
	struct storage_user *u = op->user;
	bool write = op->action != LIST && op->action != LIST_SHARERS &&
	             op->action != LIST_SHARED_BY && op->action != GET && op->action != COPY_READ;
	memset(op->fe, 0, sizeof(*op->fe));
	int r = storage_transaction(u, write, txn, op, err);
	/* Only now that it is over: also after a failure, since a commit that lost its
	   connection may still have happened (dropping too much costs one reload). */
	folder_changes_announce(&op->changes);
	if (r < 0) {
		/* what WebDAV tells apart, beside fe */
		if (err->status == STORAGE_REFUSED && op->fe->loop)
			err->detail = STORAGE_DETAIL_LOOP;
		if (err->status == STORAGE_REFUSED && op->fe->status == FOLDER_CONFLICT &&
		    (op->action == MOVE || op->action == COPY_WRITE))
			err->detail = STORAGE_DETAIL_EXISTS;
		if (err->status == STORAGE_REFUSED && op->fe->status == FOLDER_SQL) {
			/* folder.c's own failure without a database error kind */
			err->status = STORAGE_FAILED;
			snprintf(err->message, sizeof(err->message), "%s", op->fe->message);
		}
		return -1;
	}
	/* Files go only after the commit: a crash in between leaves orphan files (found by
	   checkconsistency), never rows without files. */
	for (size_t i = 0; i < op->location_count; i++) {
		int rr = filestore_remove(u->ctx.filestore_root, u->cid, op->locations[i]);
		if (rr < 0)
			log_warn("folders", "context %" PRId64 ": removing %s: %s", u->cid,
			         op->locations[i], strerror(-rr));
	}
	return 0;
}

int storage_folder_list(struct storage_user *user, int64_t parent, struct folder ***folders_r,
                        size_t *count_r, struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = LIST,
	                .id = parent,
	                .folders_r = folders_r,
	                .count_r = count_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_list_sharers(struct storage_user *user, struct folder_sharer **sharers_r,
                                size_t *count_r, struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = LIST_SHARERS,
	                .sharers_r = sharers_r,
	                .count_r = count_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_list_shared_by(struct storage_user *user, int64_t owner,
                                  struct folder_sharer *sharer_r, struct folder ***folders_r,
                                  size_t *count_r, struct folder_error *fe,
                                  struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = LIST_SHARED_BY,
	                .id = owner,
	                .sharer_r = sharer_r,
	                .folders_r = folders_r,
	                .count_r = count_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_get(struct storage_user *user, int64_t id, struct folder **folder_r,
                       struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user, .action = GET, .id = id, .folder_r = folder_r, .fe = fe};
	return run(&op, err);
}

int storage_folder_create(struct storage_user *user, int64_t parent, const char *title,
                          const char *module, const struct folder_change *perms,
                          struct folder **folder_r, struct folder_error *fe,
                          struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = CREATE,
	                .id = parent,
	                .title = title,
	                .module = module,
	                .change = perms,
	                .folder_r = folder_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_update(struct storage_user *user, int64_t id,
                          const struct storage_folder_update *update, struct folder **folder_r,
                          struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user,
	                .action = UPDATE,
	                .id = id,
	                .update = update,
	                .folder_r = folder_r,
	                .fe = fe};
	return run(&op, err);
}

int storage_folder_delete(struct storage_user *user, int64_t id, struct folder_error *fe,
                          struct storage_error *err)
{
	struct op op = {.user = user, .action = DELETE, .id = id, .fe = fe};
	return run(&op, err);
}

int storage_folder_move(struct storage_user *user, int64_t id, struct storage_folder_place *to,
                        struct folder_error *fe, struct storage_error *err)
{
	struct op op = {.user = user, .action = MOVE, .id = id, .place = to, .fe = fe};
	return run(&op, err);
}

/* Copies the tree's file content into the filestore, each published under a new location
   (files[].copy): 0, or -1 with err (the caller removes what was copied, remove_blobs()). */
static int copy_blobs(struct storage_user *user, struct copy *c, struct storage_error *err)
{
	const char *root = user->ctx.filestore_root, *error;
	struct filestore_temp *temp = NULL;
	for (size_t i = 0; i < c->nfiles; i++) {
		struct copy_file *f = &c->files[i];
		int fd = -1, r = filestore_open(root, user->cid, f->location, &fd);
		if (r < 0) {
			log_error("folders", "context %" PRId64 ": copy: %s: %s", user->cid,
			          f->location, strerror(-r));
			storage__refuse(err, STORAGE_BROKEN,
			                "the content of file %" PRId64 " is not available", f->src);
			return -1;
		}
		r = storage__copy_content(user, fd, &temp, err);
		close(fd);
		if (r < 0)
			return -1;
		if (filestore_temp_publish(temp, f->copy, &error) < 0) {
			f->copy[0] = '\0';
			log_error("folders", "context %" PRId64 ": %s", user->cid, error);
			filestore_temp_destroy(&temp);
			return storage__refuse(err, STORAGE_NO_SPACE,
			                       "the file store cannot take the copy");
		}
		filestore_temp_destroy(&temp);
	}
	return 0;
}

static void remove_blobs(struct storage_user *user, struct copy *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].copy[0] != '\0')
			filestore_remove(user->ctx.filestore_root, user->cid, c->files[i].copy);
	}
}

int storage_folder_copy(struct storage_user *user, int64_t id, struct storage_folder_place *to,
                        bool members, struct folder_error *fe, struct storage_error *err)
{
	size_t cap = members ? STORAGE_FOLDER_COPY_MAX : 1;
	struct copy c = {.members = members};
	c.folders = mem_calloc(cap, sizeof(*c.folders));
	c.files = members ? mem_calloc(cap, sizeof(*c.files)) : NULL;
	struct op op = {
	    .user = user, .action = COPY_READ, .id = id, .place = to, .fe = fe, .copy = &c};
	int ret = run(&op, err);
	if (ret == 0 && c.nfiles > 0 && copy_blobs(user, &c, err) < 0) {
		memset(fe, 0, sizeof(*fe));
		ret = -1;
	}
	if (ret == 0) {
		struct op w = {.user = user,
		               .action = COPY_WRITE,
		               .id = id,
		               .place = to,
		               .fe = fe,
		               .copy = &c};
		ret = run(&w, err);
	}
	if (ret < 0)
		remove_blobs(user, &c);
	else
		log_info("folders",
		         "context %" PRId64 ": user %" PRId64 " copied folder %" PRId64
		         " (%zu folders, %zu files)",
		         user->cid, user->uid, id, c.nfolders, c.nfiles);
	mem_free(&c.folders);
	mem_free(&c.files);
	return ret;
}

struct default_op {
	struct storage_user *user;
	const char *module;
	int64_t id;
	int found;
};

static int default_txn(struct sql_conn *conn, void *ctx, struct sql_error *err)
{
	struct default_op *op = ctx;
	op->found = folder_default(conn, op->user->cid, op->user->uid, op->module, &op->id, err);
	return op->found < 0 ? -1 : 0;
}

int storage_folder_default(struct storage_user *user, const char *module, int64_t *id_r,
                           struct storage_error *err)
{
	struct default_op op = {.user = user, .module = module};
	const char *what = "default folder";
	if (storage__run(user, false, default_txn, &op, &what, err) < 0)
		return -1;
	*id_r = op.id;
	return op.found;
}
