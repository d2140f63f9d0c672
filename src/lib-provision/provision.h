/* SPDX-License-Identifier: MIT */
/* Provisioning: the configdb directory (servers, filestores, databases, contexts, mappings)
   and the users in the per-context schemas. Every operation is all-or-nothing. */
#ifndef TANDEM_PROVISION_H
#define TANDEM_PROVISION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct provision;

/* Maps onto HTTP statuses in the admin API (docs/admin-api.md). */
enum prov_status {
	PROV_OK = 0,
	PROV_INVALID,     /* 400: bad field value */
	PROV_NOT_FOUND,   /* 404 */
	PROV_CONFLICT,    /* 409: duplicate */
	PROV_UNPLACEABLE, /* 422: nowhere to put it */
	PROV_UNAVAILABLE, /* 503: a database is unreachable or not initialised */
	PROV_READ_ONLY,   /* 503: a write while the primary database is down (reads work) */
	PROV_FORBIDDEN,   /* 403: right credentials, but not allowed now (context disabled) */
	PROV_INTERNAL,    /* 500 */
};

struct prov_error {
	enum prov_status status;
	char message[300];
};

/* Creates the configdb at url (tables, version row, master admin). Fails with CONFLICT if it
   already holds a configdb. For sqlite the file is created. */
int provision_init_configdb(const char *url, const char *master_user, const char *master_pass,
                            struct prov_error *err);

struct sql_settings;
/* Opens an initialised configdb (read_url, its replica, may be NULL). Checks the schema
   version: an older one fails with UNAVAILABLE naming the upgrade to run; it is never
   migrated silently. set (NULL = defaults) applies to every database opened, the user
   databases too: timeouts, replica waits, and the position store of the replication
   monitor, which must outlive prov. */
int provision_open(const char *url, const char *read_url, const struct sql_settings *set,
                   struct provision **prov_r, struct prov_error *err);
void provision_close(struct provision **prov);
/* Contexts per user schema before a new schema is started (default 1000). */
void provision_set_contexts_per_schema(struct provision *prov, int64_t n);

/* 1 = valid, 0 = wrong credentials, -1 = error. A context admin of a disabled context with
   the right password gets -1 with FORBIDDEN and the reason. */
int provision_auth_master(struct provision *prov, const char *login, const char *password,
                          struct prov_error *err);
int provision_auth_context_admin(struct provision *prov, int64_t cid, const char *login,
                                 const char *password, struct prov_error *err);

/* Listings and registrations return new JSON objects shaped as in docs/admin-api.md, or NULL
   with err set. */
json_t *provision_list_servers(struct provision *prov, struct prov_error *err);
json_t *provision_register_server(struct provision *prov, const char *name, struct prov_error *err);
json_t *provision_list_filestores(struct provision *prov, struct prov_error *err);
json_t *provision_register_filestore(struct provision *prov, const char *uri, int64_t size_mb,
                                     int64_t max_contexts, struct prov_error *err);
json_t *provision_list_databases(struct provision *prov, struct prov_error *err);
/* master_id < 0 for a primary. */
json_t *provision_register_database(struct provision *prov, const char *name, const char *url,
                                    bool primary, int64_t master_id, int64_t max_units,
                                    struct prov_error *err);
/* A replica to promote (docs/database.md "Failover"): name is the primary's registration,
   replica one of its replicas'. The administrative credentials (NULL: the registered URLs')
   must allow STOP SLAVE and SET GLOBAL read_only (SUPER). */
struct prov_promotion {
	const char *name, *replica;
	const char *admin_user, *admin_password;
	bool force;       /* promote even if the replica has not applied everything */
	unsigned wait_ms; /* how long the replica may take to apply what it has received */
};
/* Checks the replica has applied everything the old primary (if it answers) or its relay log
   has, stops replication on it, makes it writable, makes the old primary read-only when it
   answers, records the replica as the primary and the old one as fenced, and announces the
   change to every node. PROV_CONFLICT when the replica is behind (nothing changed). */
json_t *provision_promote_database(struct provision *prov, const struct prov_promotion *req,
                                   struct prov_error *err);

struct prov_user {
	const char *login;
	const char *display_name;
	const char *given_name;
	const char *sur_name;
	const char *email;
	const char *password;      /* hashed with argon2id here */
	const char *password_hash; /* or an argon2id string given by the caller */
	/* a module access combination (access.h); NULL = the context's default */
	const char *access_combination;
	/* the user's mail system (docs/provisioning.md "Mail"): IMAP and SMTP URLs (mail-url.h)
	   and the IMAP login; NULL = [mail] imap_url / smtp_url and the Tandem login */
	const char *imap_server, *smtp_server, *imap_login;
};

/* The longest imap_server / smtp_server and imap_login provisioning takes. */
#define PROV_MAIL_URL_MAX   300
#define PROV_IMAP_LOGIN_MAX 320

/* The largest quota_mb (8 EiB - 1 MiB): its bytes still fit an int64_t. */
#define PROV_QUOTA_MB_MAX (INT64_MAX / (1024 * 1024))
#define PROV_QUOTA_RANGE  "quota_mb must be between 0 (unlimited) and 8796093022207 (MiB)"

struct prov_context {
	int64_t cid;
	const char *name; /* NULL = "<cid>" */
	int64_t quota_mb; /* 0..PROV_QUOTA_MB_MAX, 0 = unlimited */
	const char *const *mappings;
	size_t mapping_count;
	struct prov_user admin;
	/* Placement: NULL / 0 = the least-used database (primary's name) / filestore id. */
	const char *database;
	int64_t filestore_id;
	/* the default module access combination of its users (access.h); NULL = "all" */
	const char *access_combination;
};

json_t *provision_create_context(struct provision *prov, const struct prov_context *spec,
                                 struct prov_error *err);
json_t *provision_get_context(struct provision *prov, int64_t cid, struct prov_error *err);
/* search NULL = all; otherwise a substring of the name. */
json_t *provision_list_contexts(struct provision *prov, const char *search, struct prov_error *err);
/* name NULL, quota_mb < 0, mappings NULL leave that field unchanged; quota_mb above
   PROV_QUOTA_MB_MAX is refused. */
json_t *provision_change_context(struct provision *prov, int64_t cid, const char *name,
                                 int64_t quota_mb, const char *const *mappings,
                                 size_t mapping_count, struct prov_error *err);
/* Sets the context's default access combination ("" = all). Ends every session of the
   context (the modules travel with the sessions) and announces the change. */
int provision_set_context_access(struct provision *prov, int64_t cid, const char *name,
                                 struct prov_error *err);
/* reason may be NULL when enabling. */
json_t *provision_set_context_enabled(struct provision *prov, int64_t cid, bool enabled,
                                      const char *reason, struct prov_error *err);
int provision_delete_context(struct provision *prov, int64_t cid, struct prov_error *err);

json_t *provision_create_users(struct provision *prov, int64_t cid, const struct prov_user *users,
                               size_t count, struct prov_error *err);
json_t *provision_list_users(struct provision *prov, int64_t cid, struct prov_error *err);
json_t *provision_get_user(struct provision *prov, int64_t cid, int64_t uid,
                           struct prov_error *err);

struct prov_user_change {
	const char *display_name, *given_name, *sur_name, *email, *password; /* NULL = keep */
	int enabled; /* -1 keep, 0 disable (reason required), 1 enable */
	const char *disabled_reason;
	/* NULL = keep, "" = the context's default; a change ends the user's sessions (the
	   modules travel with them) */
	const char *access_combination;
	/* NULL = keep, "" = none (back to [mail]'s defaults and the Tandem login) */
	const char *imap_server, *smtp_server, *imap_login;
};
json_t *provision_change_user(struct provision *prov, int64_t cid, int64_t uid,
                              const struct prov_user_change *change, struct prov_error *err);
int provision_delete_user(struct provision *prov, int64_t cid, int64_t uid, struct prov_error *err);

/* What a login needs of a user: the password hash to check, whether the user may log in, and
   where their mail is. */
struct prov_login {
	int64_t uid;
	char password_hash[128]; /* PASSWORD_HASH_MAX */
	bool enabled;
	char disabled_reason[256];
	char access[65]; /* its access combination (the context's default if none); "" = all */
	/* its mail system as provisioned; "" = none set ([mail]'s defaults, the Tandem login) */
	char imap_server[PROV_MAIL_URL_MAX + 1];
	char smtp_server[PROV_MAIL_URL_MAX + 1];
	char imap_login[PROV_IMAP_LOGIN_MAX + 1];
};
/* The login row of login in cid, read from the user database (a replica that has the
   context's last write, else the primary). 1 found, 0 no such login, -1 with err set (the
   database or the context unavailable; NOT_FOUND for a context that is gone). */
int provision_login_lookup(struct provision *prov, int64_t cid, const char *login,
                           struct prov_login *row_r, struct prov_error *err);

/* The access combination of user uid (or the context's default) into name_r ("" = none set:
   every module). 1 found, 0 no such user, -1 with err set. */
int provision_user_access(struct provision *prov, int64_t cid, int64_t uid, char name_r[65],
                          struct prov_error *err);

/* Where a context lives, for the groupware API. */
struct prov_location {
	int64_t cid;
	char name[160];
	bool enabled;
	char disabled_reason[256];
	int64_t quota_mb;         /* 0 = unlimited */
	int64_t quota_bytes;      /* the same in bytes, 0 = unlimited */
	char filestore_root[512]; /* local path of the filestore (no trailing '/') */
	int64_t db_cluster;
	char schema[96];
};

/* The user database of cid, with its location. Locations are cached for a few seconds and
   dropped at once when this process changes the context; pools stay open. NULL with err set
   (NOT_FOUND for an unknown context). Thread-safe. */
struct sql_db *provision_context_db(struct provision *prov, int64_t cid,
                                    struct prov_location *loc_r, struct prov_error *err);
/* The same with the location read from the configdb now (and cached for the others):
   for logins, which must see a context disabled or deleted a moment ago. */
struct sql_db *provision_context_db_fresh(struct provision *prov, int64_t cid,
                                          struct prov_location *loc_r, struct prov_error *err);
/* The context a login mapping ("defaultcontext", "1", "acme.example") belongs to. */
int provision_lookup_mapping(struct provision *prov, const char *mapping, int64_t *cid_r,
                             struct prov_error *err);
/* Drops cached data about cid (after a change made elsewhere). */
void provision_invalidate_context(struct provision *prov, int64_t cid);
/* Drops every cached location (the cluster lost track of changes). */
void provision_invalidate_all(struct provision *prov);
/* Called after every committed change to a context (name, quota, mappings, enabled,
   deletion) instead of dropping the local cache directly: the node routes it through its
   invalidation bus, whose subscriber calls provision_invalidate_context on every node. */
typedef void provision_change_fn(int64_t cid, void *ctx);
void provision_set_change_hook(struct provision *prov, provision_change_fn *fn, void *ctx);
/* Announces a change to cid: the hook if set, else the local cache is dropped. */
void provision_context_changed(struct provision *prov, int64_t cid);
/* Called after every committed change to a user (creation, any field, enabled, password,
   deletion) with its id, for the node to publish on its invalidation bus: the receivers drop
   the user's cached login row and group memberships. This library caches no users, so
   without a hook nothing happens. Set before threads use prov. */
typedef void provision_user_change_fn(int64_t cid, int64_t uid, void *ctx);
void provision_set_user_change_hook(struct provision *prov, provision_user_change_fn *fn,
                                    void *ctx);

/* Groups (docs/admin-api.md "Groups"): members by login. name is 1-128 characters of
   letters, digits, '.', '_', '-', unique in the context; display_name 1-256 characters
   (create: NULL = name). */
struct prov_group {
	const char *name, *display_name;        /* change: NULL = keep */
	const char *const *add, *const *remove; /* member logins */
	size_t add_count, remove_count;
};
/* {"id", "name", "display_name", "members": [{"id", "login", "display_name"}]}. An unknown
   member login is INVALID naming it, a duplicate name CONFLICT. */
json_t *provision_create_group(struct provision *prov, int64_t cid, const struct prov_group *g,
                               struct prov_error *err);
/* {"groups": […]} in id order; members without their logins unless logins (the JSON API's
   users see ids and display names). */
json_t *provision_list_groups(struct provision *prov, int64_t cid, bool logins,
                              struct prov_error *err);
json_t *provision_get_group(struct provision *prov, int64_t cid, int64_t gid,
                            struct prov_error *err);
/* Adds and removes members (removing a login that is not a member is INVALID) and renames. */
json_t *provision_change_group(struct provision *prov, int64_t cid, int64_t gid,
                               const struct prov_group *g, struct prov_error *err);
/* CONFLICT while a folder permission names the group (nothing is deleted). */
int provision_delete_group(struct provision *prov, int64_t cid, int64_t gid,
                           struct prov_error *err);
/* Called after every committed change to a group (members, name, deletion), for the node to
   publish on its invalidation bus: receivers drop the context's cached memberships. Set
   before threads use prov. */
typedef void provision_group_change_fn(int64_t cid, int64_t gid, void *ctx);
void provision_set_group_change_hook(struct provision *prov, provision_group_change_fn *fn,
                                     void *ctx);

/* Resources (rooms, equipment) booked by the calendar: name as a group's, display_name
   1-256, email with '@', description 0-1024 characters, available (bookable now). */
struct prov_resource {
	const char *name, *display_name, *email, *description; /* change: NULL = keep */
	int available;                                         /* -1 keep (create: 1), 0, 1 */
};
/* {"id", "name", "display_name", "email", "description", "available"}; a duplicate name or
   e-mail is CONFLICT. */
json_t *provision_create_resource(struct provision *prov, int64_t cid,
                                  const struct prov_resource *r, struct prov_error *err);
/* {"resources": […]} in id order. */
json_t *provision_list_resources(struct provision *prov, int64_t cid, struct prov_error *err);
json_t *provision_get_resource(struct provision *prov, int64_t cid, int64_t id,
                               struct prov_error *err);
json_t *provision_change_resource(struct provision *prov, int64_t cid, int64_t id,
                                  const struct prov_resource *r, struct prov_error *err);
int provision_delete_resource(struct provision *prov, int64_t cid, int64_t id,
                              struct prov_error *err);

/* Called when a context's or a user's sessions must end (docs/security.md): after a password
   change, a user disabled or deleted (uid), a context disabled or deleted (uid 0), and
   before a context id is created (an earlier context with that id may have left sessions).
   Also after a failed transaction: a commit that lost its connection may have happened.
   Set before threads use prov. */
typedef void provision_revoke_fn(int64_t cid, int64_t uid, void *ctx);
void provision_set_revoke_hook(struct provision *prov, provision_revoke_fn *fn, void *ctx);

struct sql_db;
/* Calls fn for the configdb (name "configdb") and for each user database opened so far
   (named by schema), e.g. for status pages. Thread-safe. */
typedef void provision_db_fn(const char *name, struct sql_db *db, void *ctx);
void provision_foreach_db(struct provision *prov, provision_db_fn *fn, void *ctx);

/* Field rules shared with the admin API and tandemctl (docs/admin-api.md). Each returns NULL
   if valid, else a message naming the field. */
const char *provision_check_login(const char *login);
const char *provision_check_mapping(const char *mapping);

#endif
