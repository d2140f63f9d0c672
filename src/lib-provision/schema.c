/* SPDX-License-Identifier: MIT */
/* DDL for the configdb and the user schemas, one entry per schema version. The same SQL serves
   SQLite and MariaDB where the dialects agree; ids come from sequence rows, not AUTOINCREMENT.
   A new per-context table (or column) of the user schema also goes into backup-tables.c. */
#include "schema.h"

#define CONFIGDB_V1                                                                                \
	"CREATE TABLE sequence (name VARCHAR(64) NOT NULL PRIMARY KEY, value BIGINT NOT NULL);"    \
	"INSERT INTO sequence (name, value) VALUES ('server', 0), ('filestore', 0), "              \
	"('db_pool', 0), ('db_cluster', 0), ('provision', 0);"                                     \
	"CREATE TABLE server (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL UNIQUE);" \
	"CREATE TABLE filestore (id BIGINT NOT NULL PRIMARY KEY, uri VARCHAR(512) NOT NULL "       \
	"UNIQUE, size_mb BIGINT NOT NULL, max_contexts BIGINT NOT NULL);"                          \
	"CREATE TABLE db_pool (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL "        \
	"UNIQUE, url VARCHAR(512) NOT NULL, role VARCHAR(16) NOT NULL, master_id BIGINT NULL, "    \
	"max_units BIGINT NOT NULL);"                                                              \
	"CREATE TABLE db_cluster (id BIGINT NOT NULL PRIMARY KEY, write_pool BIGINT NOT NULL "     \
	"UNIQUE, max_units BIGINT NOT NULL);"                                                      \
	"CREATE TABLE context (cid BIGINT NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL "       \
	"UNIQUE, enabled INT NOT NULL, disabled_reason VARCHAR(255) NULL, filestore_id BIGINT "    \
	"NOT NULL, quota_mb BIGINT NOT NULL);"                                                     \
	"CREATE TABLE login2context (mapping VARCHAR(128) NOT NULL PRIMARY KEY, cid BIGINT NOT "   \
	"NULL);"                                                                                   \
	"CREATE INDEX login2context_cid ON login2context (cid);"                                   \
	"CREATE TABLE context_location (cid BIGINT NOT NULL PRIMARY KEY, db_cluster BIGINT NOT "   \
	"NULL, schema_name VARCHAR(64) NOT NULL);"                                                 \
	"CREATE TABLE contexts_per_pool (db_cluster BIGINT NOT NULL PRIMARY KEY, contexts BIGINT " \
	"NOT NULL);"                                                                               \
	"CREATE TABLE contexts_per_schema (schema_name VARCHAR(64) NOT NULL PRIMARY KEY, "         \
	"db_cluster BIGINT NOT NULL, contexts BIGINT NOT NULL);"                                   \
	"CREATE TABLE contexts_per_filestore (filestore_id BIGINT NOT NULL PRIMARY KEY, "          \
	"contexts BIGINT NOT NULL);"                                                               \
	"CREATE TABLE master_admin (login VARCHAR(128) NOT NULL PRIMARY KEY, password_hash "       \
	"VARCHAR(255) NOT NULL)"

const struct migration schema_configdb[] = {
    {1, CONFIGDB_V1, CONFIGDB_V1},
};
const size_t schema_configdb_count = sizeof(schema_configdb) / sizeof(schema_configdb[0]);

/* Every row is keyed (cid, id); ids come from ctx_sequence; deletions leave tombstones so
   that clients can sync changes. */
#define USERDB_V1                                                                                  \
	"CREATE TABLE ctx_sequence (cid BIGINT NOT NULL PRIMARY KEY, next_id BIGINT NOT NULL);"    \
	"CREATE TABLE users (cid BIGINT NOT NULL, id BIGINT NOT NULL, login VARCHAR(128) NOT "     \
	"NULL, display_name VARCHAR(256) NOT NULL, given_name VARCHAR(128) NOT NULL, sur_name "    \
	"VARCHAR(128) NOT NULL, email VARCHAR(256) NOT NULL, password_hash VARCHAR(255) NOT "      \
	"NULL, enabled INT NOT NULL, disabled_reason VARCHAR(255) NULL, is_admin INT NOT NULL, "   \
	"created BIGINT NOT NULL, modified BIGINT NOT NULL, PRIMARY KEY (cid, id), UNIQUE (cid, "  \
	"login));"                                                                                 \
	"CREATE TABLE user_group (cid BIGINT NOT NULL, id BIGINT NOT NULL, name VARCHAR(128) NOT " \
	"NULL, display_name VARCHAR(256) NOT NULL, modified BIGINT NOT NULL, PRIMARY KEY (cid, "   \
	"id), UNIQUE (cid, name));"                                                                \
	"CREATE TABLE group_member (cid BIGINT NOT NULL, group_id BIGINT NOT NULL, user_id "       \
	"BIGINT NOT NULL, PRIMARY KEY (cid, group_id, user_id));"                                  \
	"CREATE TABLE tombstone (cid BIGINT NOT NULL, module VARCHAR(16) NOT NULL, id BIGINT NOT " \
	"NULL, deleted BIGINT NOT NULL, PRIMARY KEY (cid, module, id));"                           \
	"CREATE TABLE filestore_usage (cid BIGINT NOT NULL PRIMARY KEY, used_bytes BIGINT NOT "    \
	"NULL)"

/* Folders with OX permission bits, and the infostore (files with versions). System folders
   have fixed ids per context (1 private, 2 public, 3 shared, 4 files); type is derived, not
   stored. File contents live in the filestore at filestore_location. */
#define USERDB_V2                                                                                  \
	"CREATE TABLE folder (cid BIGINT NOT NULL, id BIGINT NOT NULL, parent BIGINT NOT NULL, "   \
	"owner BIGINT NOT NULL, module VARCHAR(16) NOT NULL, title VARCHAR(256) NOT NULL, "        \
	"is_system INT NOT NULL, default_for VARCHAR(16) NULL, created BIGINT NOT NULL, "          \
	"modified BIGINT NOT NULL, PRIMARY KEY (cid, id));"                                        \
	"CREATE INDEX folder_parent ON folder (cid, parent);"                                      \
	"CREATE TABLE folder_permission (cid BIGINT NOT NULL, folder BIGINT NOT NULL, entity "     \
	"BIGINT NOT NULL, is_group INT NOT NULL, bits BIGINT NOT NULL, PRIMARY KEY (cid, folder, " \
	"entity, is_group));"                                                                      \
	"CREATE INDEX folder_permission_entity ON folder_permission (cid, entity, is_group);"      \
	"CREATE TABLE infostore (cid BIGINT NOT NULL, id BIGINT NOT NULL, folder BIGINT NOT "      \
	"NULL, "                                                                                   \
	"name VARCHAR(255) NOT NULL, version INT NOT NULL, size BIGINT NOT NULL, md5 CHAR(32) "    \
	"NOT "                                                                                     \
	"NULL, content_type VARCHAR(128) NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT "  \
	"NULL, created_by BIGINT NOT NULL, modified_by BIGINT NOT NULL, PRIMARY KEY (cid, id), "   \
	"UNIQUE (cid, folder, name));"                                                             \
	"CREATE TABLE infostore_version (cid BIGINT NOT NULL, file BIGINT NOT NULL, version INT "  \
	"NOT NULL, size BIGINT NOT NULL, md5 CHAR(32) NOT NULL, content_type VARCHAR(128) NOT "    \
	"NULL, filestore_location VARCHAR(255) NOT NULL, created BIGINT NOT NULL, created_by "     \
	"BIGINT NOT NULL, PRIMARY KEY (cid, file, version))"

/* Quota held by uploads while their bytes arrive (one row per upload, expiring unless it is
   refreshed: a crashed node's holds lapse), and the context's object count (file versions and
   folders other than system and default ones) beside its usage, counted from the rows. */
#define USERDB_V3                                                                                  \
	"CREATE TABLE filestore_reservation (cid BIGINT NOT NULL, id VARCHAR(64) NOT NULL, bytes " \
	"BIGINT NOT NULL, expires BIGINT NOT NULL, PRIMARY KEY (cid, id));"                        \
	"ALTER TABLE filestore_usage ADD COLUMN objects BIGINT NOT NULL DEFAULT 0;"                \
	"UPDATE filestore_usage SET objects=(SELECT COUNT(*) FROM infostore_version v WHERE "      \
	"v.cid=filestore_usage.cid)+(SELECT COUNT(*) FROM folder f WHERE "                         \
	"f.cid=filestore_usage.cid AND f.is_system=0 AND f.default_for IS NULL)"

/* WebDAV dead properties (PROPPATCH), per folder or file: kind 'folder' or 'file'; the value
   is the property's XML content as UTF-8 text (at most 64 KiB, so MEDIUMTEXT on MariaDB).
   Namespace and name compare byte-exact (XML names are case-sensitive). */
#define USERDB_V4_TABLE(text, bin)                                                                 \
	"CREATE TABLE dav_props (cid BIGINT NOT NULL, kind VARCHAR(8) NOT NULL, object BIGINT "    \
	"NOT NULL, ns VARCHAR(255) " bin " NOT NULL, name VARCHAR(255) " bin                       \
	" NOT NULL, value " text " NOT NULL, PRIMARY KEY (cid, kind, object, ns, name))"
#define USERDB_V4_SQLITE  USERDB_V4_TABLE("TEXT", "")
#define USERDB_V4_MARIADB USERDB_V4_TABLE("MEDIUMTEXT", "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")

/* Calendar objects (VEVENT or VTODO, one UID per object) as their iCalendar text with the
   columns queries need (times in UTC seconds; last_instance NULL = an unbounded series),
   each folder's revision counter, and tombstones of deleted objects for sync
   (docs/internals/calendar.md). */
#define USERDB_V5_TABLE(text, bin)                                                                 \
	"CREATE TABLE cal_object (cid BIGINT NOT NULL, id BIGINT NOT NULL, folder BIGINT NOT "     \
	"NULL, name VARCHAR(255) " bin " NOT NULL, uid VARCHAR(255) " bin " NOT NULL, component "  \
	"VARCHAR(16) NOT NULL, dtstart BIGINT NULL, dtend BIGINT NULL, all_day INT NOT NULL, "     \
	"recurs INT NOT NULL, first_instance BIGINT NULL, last_instance BIGINT NULL, summary "     \
	"VARCHAR(512) NOT NULL, etag VARCHAR(64) NOT NULL, revision BIGINT NOT NULL, size BIGINT " \
	"NOT NULL, ical " text " NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL, "    \
	"created_by BIGINT NOT NULL, modified_by BIGINT NOT NULL, PRIMARY KEY (cid, id), UNIQUE "  \
	"(cid, folder, uid), UNIQUE (cid, folder, name));"                                         \
	"CREATE INDEX cal_object_range ON cal_object (cid, folder, first_instance);"               \
	"CREATE INDEX cal_object_revision ON cal_object (cid, folder, revision);"                  \
	"CREATE TABLE cal_folder_revision (cid BIGINT NOT NULL, folder BIGINT NOT NULL, revision " \
	"BIGINT NOT NULL, PRIMARY KEY (cid, folder));"                                             \
	"CREATE TABLE cal_tombstone (cid BIGINT NOT NULL, folder BIGINT NOT NULL, id BIGINT NOT "  \
	"NULL, name VARCHAR(255) " bin " NOT NULL, revision BIGINT NOT NULL, created_by BIGINT "   \
	"NOT NULL, PRIMARY KEY (cid, folder, id));"                                                \
	"CREATE INDEX cal_tombstone_revision ON cal_tombstone (cid, folder, revision)"
#define USERDB_V5_SQLITE  USERDB_V5_TABLE("TEXT", "")
#define USERDB_V5_MARIADB USERDB_V5_TABLE("MEDIUMTEXT", "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")

/* The context directory (docs/internals/directory.md): resources (rooms, equipment) beside
   groups, and module access: a user's access combination (NULL = the context's default,
   context_access; no row there = every module). Step 5 is the calendar's. */
#define USERDB_V6                                                                                  \
	"CREATE TABLE resource (cid BIGINT NOT NULL, id BIGINT NOT NULL, name VARCHAR(128) NOT "   \
	"NULL, display_name VARCHAR(256) NOT NULL, email VARCHAR(256) NOT NULL, description "      \
	"VARCHAR(1024) NOT NULL, available INT NOT NULL, modified BIGINT NOT NULL, PRIMARY KEY "   \
	"(cid, id), UNIQUE (cid, name));"                                                          \
	"ALTER TABLE users ADD COLUMN access_combination VARCHAR(64) NULL;"                        \
	"CREATE TABLE context_access (cid BIGINT NOT NULL PRIMARY KEY, combination VARCHAR(64) "   \
	"NOT NULL)"

/* Contact objects (docs/internals/contacts.md): the vCard text (3.0 or 4.0) as sent with the
   columns the API shows and searches (emails and phones one per line; search the lowercased
   FN, N, e-mails, phones and organisation for `q=`). Revisions and tombstones share the
   calendar's cal_folder_revision and cal_tombstone, which are per folder. */
#define USERDB_V7_TABLE(text, bin)                                                                 \
	"CREATE TABLE contact_object (cid BIGINT NOT NULL, id BIGINT NOT NULL, folder BIGINT NOT " \
	"NULL, name VARCHAR(255) " bin " NOT NULL, uid VARCHAR(255) " bin " NOT NULL, version "    \
	"VARCHAR(8) NOT NULL, fn VARCHAR(512) NOT NULL, n VARCHAR(512) NOT NULL, emails " text     \
	" NOT NULL, phones " text " NOT NULL, org VARCHAR(512) NOT NULL, birthday VARCHAR(32) "    \
	"NOT NULL, search " text " NOT NULL, etag VARCHAR(64) NOT NULL, revision BIGINT NOT "      \
	"NULL, size BIGINT NOT NULL, vcard " text " NOT NULL, created BIGINT NOT NULL, modified "  \
	"BIGINT NOT NULL, created_by BIGINT NOT NULL, modified_by BIGINT NOT NULL, PRIMARY KEY "   \
	"(cid, id), UNIQUE (cid, folder, uid), UNIQUE (cid, folder, name));"                       \
	"CREATE INDEX contact_object_revision ON contact_object (cid, folder, revision)"
#define USERDB_V7_SQLITE  USERDB_V7_TABLE("TEXT", "")
#define USERDB_V7_MARIADB USERDB_V7_TABLE("MEDIUMTEXT", "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")

/* Step 8 (calreports): when a tombstone was left (unix seconds; those from before the step
   count from the upgrade), and the highest revision of a folder's pruned tombstones: a sync
   from before it cannot be answered any more (docs/internals/calendar.md "Revisions and
   sync"). */
#define USERDB_V8(now)                                                                             \
	"ALTER TABLE cal_tombstone ADD COLUMN deleted BIGINT NOT NULL DEFAULT 0;"                  \
	"UPDATE cal_tombstone SET deleted=" now ";"                                                \
	"ALTER TABLE cal_folder_revision ADD COLUMN pruned BIGINT NOT NULL DEFAULT 0"

/* Step 9 (contactsdir): the global address book (docs/internals/contacts.md "Global address
   book"): what each user publishes beyond their account (phone, organisation), and the
   directory's revision per context, moved by every change of a user (ctag, sync token). */
#define USERDB_V9                                                                                  \
	"CREATE TABLE gab_published (cid BIGINT NOT NULL, user_id BIGINT NOT NULL, phone "         \
	"VARCHAR(64) NOT NULL, org VARCHAR(256) NOT NULL, modified BIGINT NOT NULL, PRIMARY KEY "  \
	"(cid, user_id));"                                                                         \
	"CREATE TABLE gab_revision (cid BIGINT NOT NULL PRIMARY KEY, revision BIGINT NOT NULL)"

/* Step 10 (benchcal): a put looks its name up in the folder's tombstones (to drop it), which
   without an index read every tombstone of the folder, so a folder's deletions slowed each put;
   a range query filters on first_instance, last_instance and created_by, which the range
   index now holds all of, so rows are read only when they match. */
#define USERDB_V10(drop_range)                                                                     \
	"CREATE INDEX cal_tombstone_name ON cal_tombstone (cid, folder, name);"                    \
	"CREATE INDEX cal_object_window ON cal_object (cid, folder, first_instance, "              \
	"last_instance, created_by);" drop_range

/* Step 11 (mail-auth): where a user's mail is when not at [mail]'s defaults (docs/mail.md
   "Per-user mail servers"): IMAP and SMTP URLs and the IMAP login, NULL = none set. */
#define USERDB_V11                                                                                 \
	"ALTER TABLE users ADD COLUMN imap_server VARCHAR(300) NULL;"                              \
	"ALTER TABLE users ADD COLUMN smtp_server VARCHAR(300) NULL;"                              \
	"ALTER TABLE users ADD COLUMN imap_login VARCHAR(320) NULL"

/* Step 12 (leftovers): scheduling finds attendees and organisers by e-mail, case ignored,
   which without an index read every user (and resource) of the context per address. SQLite
   indexes the expression the lookup compares, LOWER(email); MariaDB cannot index an expression
   but its column collation (utf8mb4_general_ci) already ignores case, so it indexes the column
   and the lookup compares email=? there (storage-schedule.c person_by_email). */
#define USERDB_V12(key)                                                                            \
	"CREATE INDEX users_email ON users (cid, " key ");"                                        \
	"CREATE INDEX resource_email ON resource (cid, " key ")"

const struct migration schema_userdb[] = {
    {1, USERDB_V1, USERDB_V1 ""},
    {2, USERDB_V2, USERDB_V2 ""},
    {3, USERDB_V3, USERDB_V3 ""},
    {4, USERDB_V4_SQLITE, USERDB_V4_MARIADB},
    {5, USERDB_V5_SQLITE, USERDB_V5_MARIADB},
    {6, USERDB_V6, USERDB_V6 ""},
    {7, USERDB_V7_SQLITE, USERDB_V7_MARIADB},
    {8, USERDB_V8("CAST(strftime('%s','now') AS INTEGER)"), USERDB_V8("UNIX_TIMESTAMP()")},
    {9, USERDB_V9, USERDB_V9 ""},
    {10, USERDB_V10("DROP INDEX cal_object_range"),
     USERDB_V10("DROP INDEX cal_object_range ON cal_object")},
    {11, USERDB_V11, USERDB_V11 ""},
    {12, USERDB_V12("LOWER(email)"), USERDB_V12("email")},
};
const size_t schema_userdb_count = sizeof(schema_userdb) / sizeof(schema_userdb[0]);
