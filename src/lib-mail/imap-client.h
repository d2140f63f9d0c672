/* SPDX-License-Identifier: MIT */
/* A blocking IMAP client on libetpan for the mail API (docs/internals/mail.md): connect, log
   in, list folders with counts, select, sort server-side (or here when the server has no
   SORT) and fetch a page of envelopes. libetpan parses every server response; Tandem parses
   only the URL (mail-url.c). Blocking: call it on a worker thread, never on the event loop.
   One client is used by one thread at a time. The process must ignore SIGPIPE (tandemd does):
   libetpan writes to a peer that may have gone. */
#ifndef TANDEM_IMAP_CLIENT_H
#define TANDEM_IMAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail-url.h"

struct pool;

/* What went wrong, so that the API can answer for it. */
enum mail_error_kind {
	MAIL_OK,
	MAIL_UNAVAILABLE, /* the mail system cannot be reached, hung up or timed out: 503 */
	MAIL_AUTH,        /* it refused the login: 503 naming the refusal */
	MAIL_BUSY,        /* the node's cap on IMAP connections is reached: 503 */
	MAIL_NOT_FOUND,   /* no such folder or message: 404 */
	MAIL_REFUSED,     /* the server answered NO or BAD to a command: 502 */
	MAIL_TOO_LARGE,   /* a message above the caller's cap: 413 */
	MAIL_EXISTS,      /* a folder of that name exists: 409 */
};

struct mail_error {
	enum mail_error_kind kind;
	char message[256]; /* names the server and what failed */
};

/* A folder's special use (RFC 6154), from its LIST attributes. */
enum imap_special_use {
	IMAP_SPECIAL_NONE,
	IMAP_SPECIAL_TRASH,
	IMAP_SPECIAL_SENT,
	IMAP_SPECIAL_DRAFTS,
	IMAP_SPECIAL_JUNK,
	IMAP_SPECIAL_ARCHIVE,
	IMAP_SPECIAL_COUNT
};

/* "trash", "sent", "drafts", "junk", "archive"; NULL for IMAP_SPECIAL_NONE. */
const char *imap_special_use_name(enum imap_special_use use);

/* The URL's server, one of its folders, one message. */
struct imap_folder {
	const char *name; /* UTF-8 (the server has it in modified UTF-7) */
	char delimiter;   /* 0: flat */
	enum imap_special_use special_use;
	bool noselect;
	bool subscribed; /* in LSUB */
	uint32_t total, unread;
};

struct mail_address {
	const char *name; /* decoded to UTF-8; NULL when absent */
	const char *email;
};

/* IMAP_FLAG_* */
#define IMAP_FLAG_SEEN     (1u << 0)
#define IMAP_FLAG_ANSWERED (1u << 1)
#define IMAP_FLAG_FLAGGED  (1u << 2)
#define IMAP_FLAG_DELETED  (1u << 3)
#define IMAP_FLAG_DRAFT    (1u << 4)
#define IMAP_FLAG_FORWARD  (1u << 5) /* the keyword $Forwarded (set only, not reported) */

struct imap_message {
	uint32_t uid;
	uint32_t flags; /* IMAP_FLAG_* */
	uint32_t size;
	int64_t date;        /* the Date: header as Unix seconds; else the arrival time */
	const char *subject; /* decoded to UTF-8; "" when absent */
	struct mail_address from;
};

enum imap_sort {
	IMAP_SORT_DATE,
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_FROM,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_SIZE,
};

struct imap_client;

/* Connects (TLS for imaps://) with timeout_ms for the connection and each command. 0, or -1
   with err (MAIL_UNAVAILABLE). */
int imap_client_connect(const struct mail_url *url, unsigned timeout_ms,
                        struct imap_client **client_r, struct mail_error *err);
/* Closes and frees; sets *client to NULL. NULL is a no-op. */
void imap_client_destroy(struct imap_client **client);
/* LOGIN as user; with master non-NULL as Dovecot's master-user form "user*master". 0, or -1
   with err (MAIL_AUTH when refused). The password is not kept. */
int imap_client_login(struct imap_client *client, const char *user, const char *master,
                      const char *password, struct mail_error *err);
/* Whether the last command failed at the connection level (the client is then useless). */
bool imap_client_broken(const struct imap_client *client);
/* Whether the server announced SORT (after login); tests may turn it off to check the
   fallback. */
bool imap_client_has_sort(const struct imap_client *client);
void imap_client_disable_sort(struct imap_client *client);

/* Every folder (LIST "" "*") with STATUS (MESSAGES UNSEEN) of the selectable ones and
   whether it is subscribed (LSUB), sorted by name with INBOX first; in pool. 0 or -1 with
   err. */
int imap_client_folders(struct imap_client *client, struct pool *pool,
                        struct imap_folder **folders_r, size_t *count_r, struct mail_error *err);
/* SELECTs folder read-only (EXAMINE); *total_r its messages. 0 or -1 with err (MAIL_NOT_FOUND
   when the server refuses it). */
int imap_client_select(struct imap_client *client, const char *folder, uint32_t *total_r,
                       struct mail_error *err);
/* The UIDs of the selected folder in order (UID SORT, or by fetching the key when the server
   has no SORT), in pool. */
int imap_client_sorted_uids(struct imap_client *client, struct pool *pool, enum imap_sort key,
                            bool reverse, uint32_t **uids_r, size_t *count_r,
                            struct mail_error *err);
/* Envelope, flags, size and arrival of uids[0..count) (UID FETCH) into msgs_r[i] in the
   order of uids; a UID gone meanwhile has uid 0. Strings in pool. */
int imap_client_fetch(struct imap_client *client, struct pool *pool, const uint32_t *uids,
                      size_t count, struct imap_message *msgs_r, struct mail_error *err);

/* The whole message uid of the selected folder (BODY.PEEK[]: \\Seen is left alone) into pool,
   with its summary in *msg_r. MAIL_NOT_FOUND when there is no such UID, MAIL_TOO_LARGE when it
   is over max bytes (nothing is fetched then). */
int imap_client_fetch_raw(struct imap_client *client, struct pool *pool, uint32_t uid, size_t max,
                          const char **data_r, size_t *size_r, struct imap_message *msg_r,
                          struct mail_error *err);

/* Receives a part's bytes as fetched (still transfer-encoded); -1 stops the fetch. */
typedef int imap_chunk_fn(void *ctx, const char *data, size_t size);

/* The MIME headers (BODY.PEEK[section.MIME]) of one part of message uid of the selected
   folder by IMAP section ("2", "1.3") into pool. MAIL_NOT_FOUND when there is no such UID or
   part. */
int imap_client_fetch_part_mime(struct imap_client *client, struct pool *pool, uint32_t uid,
                                const char *section, const char **mime_r, size_t *mime_size_r,
                                struct mail_error *err);
/* That part's body, still transfer-encoded, given to each in partial fetches of chunk bytes
   (BODY.PEEK[section]<offset.chunk>, \\Seen left alone): memory stays at about chunk (libetpan
   holds each response whole) whatever the part's size. */
int imap_client_fetch_part(struct imap_client *client, uint32_t uid, const char *section,
                           size_t chunk, imap_chunk_fn *each, void *ctx, struct mail_error *err);

/* Folder changes. Names are UTF-8 here, as everywhere in this API: the client
   converts to and from modified UTF-7 at the wire (mail-utf7.h). Each
   checks first with LIST: MAIL_NOT_FOUND for a folder that is not there, MAIL_EXISTS for a
   new name that is taken. Create subscribes the new folder; rename moves the subscription;
   delete drops it. */
/* The folder for use (TRASH, SENT or DRAFTS): the one the server marks so in LIST
   (SPECIAL-USE), else the folder named "Trash", "Sent" or "Drafts", created when missing.
   *name_r lives while the client does, until a folder is renamed or deleted; the server's
   marks are read once per connection, and again when the folder found is gone. */
int imap_client_special_folder(struct imap_client *client, enum imap_special_use use,
                               const char **name_r, struct mail_error *err);
int imap_client_folder_exists(struct imap_client *client, const char *name, bool *exists_r,
                              struct mail_error *err);
int imap_client_folder_create(struct imap_client *client, const char *name, struct mail_error *err);
int imap_client_folder_rename(struct imap_client *client, const char *from, const char *to,
                              struct mail_error *err);
int imap_client_folder_delete(struct imap_client *client, const char *name, struct mail_error *err);
int imap_client_folder_subscribe(struct imap_client *client, const char *name, bool on,
                                 struct mail_error *err);

/* Message changes in a folder selected read-write (SELECT). Each is MAIL_NOT_FOUND when uid
   is not in it. */
int imap_client_select_write(struct imap_client *client, const char *folder, uint32_t *total_r,
                             struct mail_error *err);
/* UID STORE +FLAGS.SILENT add, -FLAGS.SILENT remove (IMAP_FLAG_SEEN, _FLAGGED, _DELETED). */
int imap_client_set_flags(struct imap_client *client, struct pool *pool, uint32_t uid, uint32_t add,
                          uint32_t remove, struct mail_error *err);
/* \\Deleted, then UID EXPUNGE of uid (UIDPLUS), else EXPUNGE. */
int imap_client_expunge(struct imap_client *client, struct pool *pool, uint32_t uid,
                        struct mail_error *err);
/* To folder to (MAIL_NOT_FOUND when it is not there): UID MOVE where the server has MOVE,
   else UID COPY and the expunge above. */
int imap_client_move(struct imap_client *client, struct pool *pool, uint32_t uid, const char *to,
                     struct mail_error *err);
/* Tests: use COPY and EXPUNGE even where the server has MOVE. */
void imap_client_disable_move(struct imap_client *client);

/* APPEND of the message data[0..size) (CRLF line ends) to folder with flags (IMAP_FLAG_*);
   *uid_r its UID from APPENDUID (UIDPLUS), 0 when the server does not say. MAIL_REFUSED when
   the server refuses it (no such folder, over quota). */
int imap_client_append(struct imap_client *c, const char *folder, uint32_t flags, const char *data,
                       size_t size, uint32_t *uid_r, struct mail_error *err);

/* UIDs of the selected folder from from_uid on, without keyword, and (since > 0) that
   arrived on or after since's day (UTC), ascending, into pool (iMIP replies). */
int imap_client_search_unflagged(struct imap_client *client, struct pool *pool, uint32_t from_uid,
                                 int64_t since, const char *keyword, uint32_t **uids_r,
                                 size_t *count_r, struct mail_error *err);
/* Adds keyword (an atom, e.g. "$iMIPProcessed") to message uid of the folder selected for
   writing. */
int imap_client_add_keyword(struct imap_client *client, uint32_t uid, const char *keyword,
                            struct mail_error *err);
/* imap_client_sorted_uids of the folder imap_client_select opened, answered from the last
   such answer on this connection while STATUS (MESSAGES UIDNEXT UIDVALIDITY) of the folder is
   unchanged: no message came or went, and no sort key of a message can change. Forgotten when
   another folder is selected. Costs 4 bytes per message of the folder while kept. */
int imap_client_sorted_uids_cached(struct imap_client *client, struct pool *pool,
                                   enum imap_sort key, bool reverse, uint32_t **uids_r,
                                   size_t *count_r, struct mail_error *err);
/* Search, threads, copy (docs/internals/mail.md "Search and threads"). */
enum imap_search_field {                            /* bits: several are ORed */
	                 IMAP_SEARCH_TEXT = 1 << 0, /* headers and body */
	                 IMAP_SEARCH_FROM = 1 << 1,
	                 IMAP_SEARCH_TO = 1 << 2,
	                 IMAP_SEARCH_SUBJECT = 1 << 3,
	                 IMAP_SEARCH_BODY = 1 << 4,
};
/* The UIDs of the selected folder where one of fields (imap_search_field bits, at least one)
   contains text (UTF-8), ordered by key: UID
   SEARCH CHARSET UTF-8, then UID SORT over the matches where the server has SORT, else the
   matches' key fields fetched and sorted here. In pool. */
int imap_client_search_uids(struct imap_client *client, struct pool *pool, unsigned fields,
                            const char *text, enum imap_sort key, bool reverse, uint32_t **uids_r,
                            size_t *count_r, struct mail_error *err);

struct imap_thread_item; /* imap-thread.h */
/* Whether the server threads (THREAD=REFERENCES or THREAD=ORDEREDSUBJECT); off with
   imap_client_disable_sort. */
bool imap_client_has_thread(const struct imap_client *client);
/* UID THREAD REFERENCES (else ORDEREDSUBJECT) over the selected folder, or over uids[0..count)
   when uids is non-NULL: the messages thread by thread, each in the server's order (parents
   before children). In pool. */
int imap_client_threads(struct imap_client *client, struct pool *pool, const uint32_t *uids,
                        size_t count, struct imap_thread_item **items_r, size_t *count_r,
                        struct mail_error *err);

/* UID COPY of uid of the selected folder to folder to (MAIL_NOT_FOUND when either is not
   there); *new_uid_r the copy's UID where the server answers COPYUID (UIDPLUS), else 0. */
int imap_client_copy(struct imap_client *client, struct pool *pool, uint32_t uid, const char *to,
                     uint32_t *new_uid_r, struct mail_error *err);

/* STATUS (MESSAGES UNSEEN) of one folder. */
int imap_client_status(struct imap_client *client, const char *folder, uint32_t *total_r,
                       uint32_t *unread_r, struct mail_error *err);
/* IDLE (RFC 2177) on the selected folder: whether the server has it; start it (*fd_r the
   socket to poll for readability: the server has news; *pending_r: it has news already, do
   not wait); end it with DONE (the news is read
   and dropped: the caller asks STATUS). Nothing else may be sent between start and done. */
bool imap_client_has_idle(const struct imap_client *client);
int imap_client_idle_start(struct imap_client *client, int *fd_r, bool *pending_r,
                           struct mail_error *err);
int imap_client_idle_done(struct imap_client *client, struct mail_error *err);

#endif
