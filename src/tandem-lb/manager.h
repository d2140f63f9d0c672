/* SPDX-License-Identifier: MIT */
/* The balancer manager: an HTML page and a JSON API on their own admin listener, behind
   allowed networks, HTTP Basic credentials and a CSRF token (docs/internals/lb-manager.md). */
#ifndef TANDEM_LB_MANAGER_H
#define TANDEM_LB_MANAGER_H

#include <stddef.h>
#include <stdint.h>

#include "balancer.h"
#include "buf.h"
#include "lb-config.h"
#include "strv.h"

struct lb_state;
struct manager;

/* Called on the manager's thread after each successful change (state, loadfactor, add,
   remove), once the change is in the balancer and in the state file. */
typedef void manager_change_fn(void *ctx);
/* Appends the Prometheus text exposition to out (manager thread). */
typedef void manager_metrics_fn(struct buf *out, void *ctx);

struct manager_settings {
	const char *user;            /* HTTP Basic user name (required) */
	const char *password;        /* plain password, or: */
	const char *password_hash;   /* an argon2id string; exactly one of the two is set */
	const struct lb_cidr *allow; /* networks let in; copied; count 0 = loopback only */
	size_t allow_count;
	uint64_t csrf_ttl_s;          /* how long a CSRF token stays valid; 0 = 3600 */
	manager_change_fn *on_change; /* optional */
	manager_metrics_fn *metrics;  /* optional: GET /metrics, allow list only, no credentials */
	void *ctx;
	/* The [member] sections (borrowed), for manager_apply_shared(); may be NULL with 0. */
	const struct lb_member_config *configured;
	size_t configured_count;
};

/* Creates a stopped manager. The settings are copied. b and state are borrowed and must
   outlive the manager; once manager_start() returned 0, state belongs to the manager's thread
   (read or change it again only after manager_stop()). */
struct manager *manager_create(const struct manager_settings *set, struct balancer *b,
                               struct lb_state *state);
/* Listens on "host:port" (port 0 picks a free one) and serves from one thread of its own.
   Returns 0, or -1 with a message (valid until the next call on this thread). */
int manager_start(struct manager *m, const char *listen, const char **error_r);
/* The bound address ("127.0.0.1:8081"), or NULL when not started. */
const char *manager_address(struct manager *m);
/* Finishes the requests in progress (up to 5 s) and stops the thread. No-op when not
   started. */
void manager_stop(struct manager *m);
/* Stops if needed and frees; NULL is a no-op. */
void manager_destroy(struct manager **m);

/* How many changes this manager has made so far (0 at start). On the manager's thread, e.g.
   in on_change. */
uint64_t manager_changes(const struct manager *m);
/* Thread-safe: hands a peer balancer's state (the state file's JSON; copied) to the manager's
   thread, which makes its state, the balancer and the state file follow it
   (lb_state_follow()); on_change is not called for it. It is dropped when this manager made
   more than `changes` changes by then: the newer one is still on its way to the peers and
   supersedes text. A call replaces one not applied yet. Before manager_start() the text
   waits for the manager's thread; one still waiting at manager_destroy() is dropped. */
void manager_apply_shared(struct manager *m, struct strv text, uint64_t changes);

/* --- internal: shared by manager.c and manager-html.c --- */

/* "<expiry>.<64 hex digits>" and its NUL. */
#define MANAGER_CSRF_TOKEN_MAX 96

/* What the page shows. */
struct manager_page {
	const struct balancer_member_info *members;
	size_t count;
	const struct lb_state *state; /* tells members added through the manager */
	const char *user;
	const char *csrf; /* token for the forms */
	uint64_t now_ms;  /* the snapshot's monotonic time */
	/* after a form's change (POST, redirect, GET): its action ("state", "loadfactor",
	   "add", "remove") and route, both checked; NULL otherwise */
	const char *done;
	const char *done_route;
};

/* "config", "manager" (added through the manager) or "discovery". */
const char *manager__origin(const struct balancer_member_info *info, const struct lb_state *state);
/* Appends the manager page (a complete HTML document; every value escaped). */
void manager__html_page(struct buf *out, const struct manager_page *page);
/* Appends the page that asks to confirm removing member (the form posts confirm=yes). */
void manager__html_confirm_remove(struct buf *out, const char *csrf,
                                  const struct balancer_member_info *member);
/* Appends a byte count in human units ("512 B", "1.5 KiB", "3.2 GiB"). */
void manager__human_bytes(struct buf *out, uint64_t bytes);
/* Appends a small HTML page for a failed form submission, with a link back. */
void manager__html_error(struct buf *out, int status, const char *code, const char *message);
/* Appends s with & < > " ' escaped. */
void manager__html_escape(struct buf *out, struct strv s);

#endif
