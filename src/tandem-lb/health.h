/* SPDX-License-Identifier: MIT */
/* Active health checks: one thread that asks every member's health URI each interval and
   feeds the answers into the balancer (docs/internals/balancer.md, "Health checks"). */
#ifndef TANDEM_LB_HEALTH_H
#define TANDEM_LB_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "balancer.h"
#include "strv.h"

/* Largest response read from a member; a longer one counts as a failed check. */
#define HEALTH_RESPONSE_MAX (16 * 1024)
/* Most header fields in a member's response. */
#define HEALTH_HEADERS_MAX 100

struct health_settings {
	const char *uri; /* path (and query) to GET: starts with '/', no SP, CR, LF or controls */
	uint64_t interval_ms; /* from the start of one round to the start of the next (>= 1) */
	uint64_t timeout_ms;  /* per check, connect to EOF (>= 1) */
	const char *host;     /* Host header value (no CR/LF); NULL = the member's address */
};

/* The counters for /metrics; read with health_checker_get_stats(). */
struct health_checker_stats {
	uint64_t rounds;        /* rounds completed */
	uint64_t checks;        /* checks with a result given to the balancer */
	uint64_t checks_failed; /* of those, not ok (draining counts as ok) */
	uint64_t last_round_ms; /* how long the last completed round took */
};

struct health_checker;

/* Creates a checker over b, not running yet. set is copied; invalid settings are a
   programmer error (asserted): lb-config checks them. b must outlive the checker. */
struct health_checker *health_checker_create(struct balancer *b, const struct health_settings *set);
/* Starts the checker's thread, whose first round begins at once. Returns 0, or -1 with a
   static *error_r and nothing started. Asserted not running. */
int health_checker_start(struct health_checker *hc, const char **error_r);
/* Stops the thread: returns promptly (in a round, the checks not finished yet are abandoned
   without a result, their sockets closed) and holds no member reference afterwards, so the
   balancer may be destroyed. No-op if not running; the checker may be started again.
   start, stop and destroy belong to the owner and are not called concurrently; the functions
   below may be called from any thread until destroy. */
void health_checker_stop(struct health_checker *hc);
/* Stops the thread if running, frees the checker and sets *hc = NULL. NULL is a no-op. */
void health_checker_destroy(struct health_checker **hc);
/* Replaces the settings (reload); thread-safe. A round in progress finishes with the old
   ones; the next round starts at its start + the new interval (at once if that has passed). */
void health_checker_set_settings(struct health_checker *hc, const struct health_settings *set);
/* Asks for a round at once (e.g. after a member was added); thread-safe. If a round is in
   progress, another one starts as soon as it ends. Before start: the first round is at once
   anyway. */
void health_checker_check_now(struct health_checker *hc);
/* Copies the counters; thread-safe. */
void health_checker_get_stats(struct health_checker *hc, struct health_checker_stats *stats_r);

/* Parses a whole response as read until EOF with lib-http's strict response parser
   (http-response-parser.h: status line, header fields, framing, then the body by
   Content-Length, chunked coding or EOF). Returns 0 with the status code and whether the
   decoded body says "status":"draining" (JSON whitespace allowed around the colon), or -1
   with a static *error_r if the head or the body's framing is malformed or cut short. Exposed
   for tests. */
int health_response_parse(struct strv response, unsigned *status_r, bool *draining_r,
                          const char **error_r);

#endif
