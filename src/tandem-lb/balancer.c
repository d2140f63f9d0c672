/* SPDX-License-Identifier: MIT */
/* The member table: one mutex around the decisions, atomics for the per-request counters. */
#include "balancer.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "array.h"
#include "mem.h"

struct balancer_member {
	struct balancer *b; /* outlives every reference (balancer_destroy's contract) */
	char route[BALANCER_ROUTE_MAX + 1];
	size_t route_len;
	char address[BALANCER_ADDRESS_MAX + 1];
	bool discovered;

	/* Under b->lock. */
	unsigned loadfactor;
	enum balancer_state state;
	bool draining;
	bool healthy;
	unsigned good_run, bad_run; /* consecutive results against the current health */
	uint64_t error_until_ms;
	uint64_t last_check_ms;
	bool last_check_ok;
	int64_t current; /* smooth weighted round-robin: |current| <= sum of loadfactors */

	/* Atomics (__atomic builtins), so that begin/end take no lock. */
	uint64_t refs; /* the table holds one while the member is in it */
	bool removed;  /* out of the table (set once) */
	uint64_t in_flight;
	uint64_t requests;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t errors;
};

struct balancer {
	pthread_mutex_t lock;
	struct balancer_settings set;
	struct array members; /* struct balancer_member *, insertion order */
};

static const char *const state_names[] = {
    [BALANCER_READY] = "ready",       [BALANCER_DRAIN] = "drain",     [BALANCER_MAINT] = "maint",
    [BALANCER_DISABLED] = "disabled", [BALANCER_STANDBY] = "standby",
};

const char *balancer_state_name(enum balancer_state state)
{
	assert((size_t)state < sizeof(state_names) / sizeof(state_names[0]));
	return state_names[state];
}

int balancer_state_parse(const char *name, enum balancer_state *state_r)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*state_r = (enum balancer_state)i;
			return 0;
		}
	}
	return -1;
}

const char *balancer_method_name(enum balancer_method method)
{
	return method == BALANCER_BYBUSYNESS ? "bybusyness" : "byrequests";
}

int balancer_method_parse(const char *name, enum balancer_method *method_r)
{
	if (strcmp(name, "byrequests") == 0)
		*method_r = BALANCER_BYREQUESTS;
	else if (strcmp(name, "bybusyness") == 0)
		*method_r = BALANCER_BYBUSYNESS;
	else
		return -1;
	return 0;
}

bool balancer_route_valid(struct strv route)
{
	if (route.len == 0 || route.len > BALANCER_ROUTE_MAX)
		return false;
	for (size_t i = 0; i < route.len; i++) {
		char c = route.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

bool balancer_exclude_add(struct balancer_exclude *ex, const struct balancer_member *m)
{
	if (ex->count >= BALANCER_EXCLUDE_MAX)
		return false;
	ex->members[ex->count++] = m;
	return true;
}

static void fix_settings(struct balancer_settings *set)
{
	if (set->health_rise == 0)
		set->health_rise = 1;
	if (set->health_fall == 0)
		set->health_fall = 1;
}

struct balancer *balancer_create(const struct balancer_settings *set)
{
	struct balancer *b = mem_calloc(1, sizeof(*b));

	pthread_mutex_init(&b->lock, NULL);
	b->set = *set;
	fix_settings(&b->set);
	array_init(&b->members, sizeof(struct balancer_member *));
	return b;
}

static struct balancer_member *member_at(const struct balancer *b, size_t i)
{
	return *ARRAY_IDX(&b->members, struct balancer_member *, i);
}

struct balancer_member *balancer_member_ref(struct balancer_member *m)
{
	__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

bool balancer_member_removed(const struct balancer_member *m)
{
	return __atomic_load_n(&m->removed, __ATOMIC_ACQUIRE);
}

void balancer_member_unref(struct balancer_member **mp)
{
	struct balancer_member *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		mem_free(&m);
}

void balancer_destroy(struct balancer **bp)
{
	struct balancer *b = *bp;

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->members.count; i++) {
		struct balancer_member *m = member_at(b, i);
		/* A reference still out would point at a freed balancer. */
		assert(__atomic_load_n(&m->refs, __ATOMIC_ACQUIRE) == 1);
		balancer_member_unref(&m);
	}
	array_free(&b->members);
	pthread_mutex_destroy(&b->lock);
	mem_free(bp);
}

void balancer_set_settings(struct balancer *b, const struct balancer_settings *set)
{
	pthread_mutex_lock(&b->lock);
	b->set = *set;
	fix_settings(&b->set);
	pthread_mutex_unlock(&b->lock);
}

/* Under the lock. */
static ptrdiff_t table_find(const struct balancer *b, struct strv route)
{
	for (size_t i = 0; i < b->members.count; i++) {
		const struct balancer_member *m = member_at(b, i);
		if (m->route_len == route.len && memcmp(m->route, route.ptr, route.len) == 0)
			return (ptrdiff_t)i;
	}
	return -1;
}

/* Under the lock. Weights restart from zero whenever the candidate set or a weight changes,
   so no member carries credit earned under other conditions. */
static void reset_weights(struct balancer *b)
{
	for (size_t i = 0; i < b->members.count; i++)
		member_at(b, i)->current = 0;
}

int balancer_add(struct balancer *b, const struct balancer_member_settings *set,
                 struct balancer_member **member_r, const char **error_r)
{
	struct balancer_member *m;
	struct strv route = strv_from_cstr(set->route);
	int ret = -1;

	if (!balancer_route_valid(route)) {
		*error_r = "route must be 1-64 letters, digits, '-' or '_'";
		return -1;
	}
	if (set->address == NULL || set->address[0] == '\0' ||
	    strlen(set->address) > BALANCER_ADDRESS_MAX) {
		*error_r = "address must be host:port of at most 80 bytes";
		return -1;
	}
	if (set->loadfactor < 1 || set->loadfactor > BALANCER_LOADFACTOR_MAX) {
		*error_r = "loadfactor must be between 1 and 100";
		return -1;
	}
	if ((size_t)set->state >= sizeof(state_names) / sizeof(state_names[0])) {
		*error_r = "unknown state";
		return -1;
	}
	m = mem_calloc(1, sizeof(*m));
	m->b = b;
	memcpy(m->route, route.ptr, route.len);
	m->route_len = route.len;
	snprintf(m->address, sizeof(m->address), "%s", set->address);
	m->discovered = set->discovered;
	m->loadfactor = set->loadfactor;
	m->state = set->state;
	m->draining = set->draining;
	/* Up from the start, as in Apache and HAProxy: the balancer serves at once, and a dead
	   member is caught by the first connect failure or after health_fall checks. */
	m->healthy = true;
	m->refs = 1;

	pthread_mutex_lock(&b->lock);
	if (table_find(b, route) >= 0) {
		*error_r = "a member with this route exists";
		goto out;
	}
	if (b->members.count >= BALANCER_MEMBERS_MAX) {
		*error_r = "too many members";
		goto out;
	}
	*(struct balancer_member **)array_push(&b->members) = m;
	if (member_r != NULL) {
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
		*member_r = m;
	}
	m = NULL;
	reset_weights(b);
	ret = 0;
out:
	pthread_mutex_unlock(&b->lock);
	mem_free(&m);
	return ret;
}

int balancer_remove(struct balancer *b, struct strv route)
{
	struct balancer_member *m = NULL;
	ptrdiff_t i;

	pthread_mutex_lock(&b->lock);
	i = table_find(b, route);
	if (i >= 0) {
		m = member_at(b, (size_t)i);
		__atomic_store_n(&m->removed, true, __ATOMIC_RELEASE);
		array_delete(&b->members, (size_t)i);
		reset_weights(b);
	}
	pthread_mutex_unlock(&b->lock);
	if (m == NULL)
		return -1;
	balancer_member_unref(&m);
	return 0;
}

int balancer_remove_member(struct balancer *b, const struct balancer_member *m)
{
	ptrdiff_t found = -1;
	struct balancer_member *gone;

	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->members.count && found < 0; i++) {
		if (member_at(b, i) == m)
			found = (ptrdiff_t)i;
	}
	if (found >= 0) {
		__atomic_store_n(&member_at(b, (size_t)found)->removed, true, __ATOMIC_RELEASE);
		array_delete(&b->members, (size_t)found);
		reset_weights(b);
	}
	pthread_mutex_unlock(&b->lock);
	if (found < 0)
		return -1;
	gone = (struct balancer_member *)m;
	balancer_member_unref(&gone);
	return 0;
}

int balancer_set_state(struct balancer *b, struct strv route, enum balancer_state state)
{
	ptrdiff_t i;

	if ((size_t)state >= sizeof(state_names) / sizeof(state_names[0]))
		return -1;
	pthread_mutex_lock(&b->lock);
	i = table_find(b, route);
	if (i >= 0) {
		member_at(b, (size_t)i)->state = state;
		reset_weights(b);
	}
	pthread_mutex_unlock(&b->lock);
	return i >= 0 ? 0 : -1;
}

int balancer_set_loadfactor(struct balancer *b, struct strv route, unsigned loadfactor)
{
	ptrdiff_t i;

	if (loadfactor < 1 || loadfactor > BALANCER_LOADFACTOR_MAX)
		return -1;
	pthread_mutex_lock(&b->lock);
	i = table_find(b, route);
	if (i >= 0) {
		member_at(b, (size_t)i)->loadfactor = loadfactor;
		reset_weights(b);
	}
	pthread_mutex_unlock(&b->lock);
	return i >= 0 ? 0 : -1;
}

size_t balancer_count(struct balancer *b)
{
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = b->members.count;
	pthread_mutex_unlock(&b->lock);
	return n;
}

static void ref(struct balancer_member *m)
{
	__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
}

struct balancer_member *balancer_find(struct balancer *b, struct strv route)
{
	struct balancer_member *m = NULL;
	ptrdiff_t i;

	pthread_mutex_lock(&b->lock);
	i = table_find(b, route);
	if (i >= 0) {
		m = member_at(b, (size_t)i);
		ref(m);
	}
	pthread_mutex_unlock(&b->lock);
	return m;
}

const char *balancer_member_route(const struct balancer_member *m)
{
	return m->route;
}

const char *balancer_member_address(const struct balancer_member *m)
{
	return m->address;
}

/* ---------------------------------------------------------------- picking (under the lock) */

static enum balancer_state effective_state(const struct balancer_member *m)
{
	/* A node that says it is draining is drained, unless the operator took it out anyway. */
	if (m->draining && (m->state == BALANCER_READY || m->state == BALANCER_STANDBY))
		return BALANCER_DRAIN;
	return m->state;
}

/* Healthy, out of error state and not already tried by this request. */
static bool usable(const struct balancer_member *m, const struct balancer_exclude *ex,
                   uint64_t now_ms)
{
	if (!m->healthy || now_ms < m->error_until_ms)
		return false;
	for (size_t i = 0; ex != NULL && i < ex->count; i++) {
		if (ex->members[i] == m)
			return false;
	}
	return true;
}

static bool candidate(const struct balancer_member *m, enum balancer_state wanted,
                      const struct balancer_exclude *ex, uint64_t now_ms)
{
	return effective_state(m) == wanted && usable(m, ex, now_ms);
}

static bool any_candidate(const struct balancer *b, enum balancer_state wanted,
                          const struct balancer_exclude *ex, uint64_t now_ms)
{
	for (size_t i = 0; i < b->members.count; i++) {
		if (candidate(member_at(b, i), wanted, ex, now_ms))
			return true;
	}
	return false;
}

/* Smooth weighted round-robin (nginx) among the candidates in the wanted state; with
   bybusyness only among the least busy of them (in_flight / loadfactor, compared without
   division), so that ties at low load still spread by loadfactor instead of all landing on
   the first member. In-flight counts only rise under the lock but fall lock-free in
   balancer_end(), so the second pass takes every member at most as busy as the minimum seen
   in the first: the least busy one always qualifies. */
static struct balancer_member *pick_new(struct balancer *b, enum balancer_state wanted,
                                        const struct balancer_exclude *ex, uint64_t now_ms)
{
	struct balancer_member *best = NULL;
	bool busyness = b->set.method == BALANCER_BYBUSYNESS, any = false;
	uint64_t min_in = 0, min_lf = 1;
	int64_t total = 0;

	for (size_t i = 0; busyness && i < b->members.count; i++) {
		struct balancer_member *m = member_at(b, i);
		uint64_t in = __atomic_load_n(&m->in_flight, __ATOMIC_RELAXED);

		if (candidate(m, wanted, ex, now_ms) &&
		    (!any || in * min_lf < min_in * m->loadfactor)) {
			min_in = in;
			min_lf = m->loadfactor;
			any = true;
		}
	}
	for (size_t i = 0; i < b->members.count; i++) {
		struct balancer_member *m = member_at(b, i);

		if (!candidate(m, wanted, ex, now_ms))
			continue;
		if (busyness && __atomic_load_n(&m->in_flight, __ATOMIC_RELAXED) * min_lf >
		                    min_in * m->loadfactor)
			continue;
		m->current += m->loadfactor;
		total += m->loadfactor;
		if (best == NULL || m->current > best->current)
			best = m;
	}
	if (best != NULL)
		best->current -= total;
	return best;
}

/* The sticky member takes this request: ready and drain members always (when usable), a
   standby one only while it would also get new sessions. */
static bool sticky_ok(const struct balancer *b, const struct balancer_member *m,
                      const struct balancer_exclude *ex, uint64_t now_ms)
{
	switch (effective_state(m)) {
	case BALANCER_READY:
	case BALANCER_DRAIN:
		return usable(m, ex, now_ms);
	case BALANCER_STANDBY:
		return usable(m, ex, now_ms) && !any_candidate(b, BALANCER_READY, ex, now_ms);
	case BALANCER_MAINT:
	case BALANCER_DISABLED:
		break;
	}
	return false;
}

struct balancer_member *balancer_pick(struct balancer *b, struct strv route,
                                      const struct balancer_exclude *ex, uint64_t now_ms,
                                      enum balancer_pick_kind *kind_r)
{
	enum balancer_pick_kind kind = BALANCER_PICK_NEW;
	struct balancer_member *m = NULL;

	pthread_mutex_lock(&b->lock);
	if (route.len > 0) {
		ptrdiff_t i = table_find(b, route);
		if (i >= 0) {
			m = member_at(b, (size_t)i);
			kind = BALANCER_PICK_STICKY;
			if (!sticky_ok(b, m, ex, now_ms)) {
				m = NULL;
				kind = BALANCER_PICK_FAILOVER;
			}
		}
	}
	/* Only here do the round-robin weights move: sticky requests never touch them, so the
	   split of new sessions is the configured one whatever the sessions do afterwards. */
	if (m == NULL)
		m = pick_new(b, BALANCER_READY, ex, now_ms);
	if (m == NULL)
		m = pick_new(b, BALANCER_STANDBY, ex, now_ms);
	if (m != NULL) {
		__atomic_add_fetch(&m->in_flight, 1, __ATOMIC_RELAXED);
		ref(m);
	}
	pthread_mutex_unlock(&b->lock);
	if (kind_r != NULL)
		*kind_r = kind;
	return m;
}

/* ---------------------------------------------------------------- per request (lock-free) */

void balancer_begin(struct balancer_member *m)
{
	__atomic_add_fetch(&m->requests, 1, __ATOMIC_RELAXED);
}

void balancer_end(struct balancer_member **mp, uint64_t bytes_in, uint64_t bytes_out, bool error)
{
	struct balancer_member *m = *mp;

	assert(m != NULL);
	__atomic_sub_fetch(&m->in_flight, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->bytes_in, bytes_in, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->bytes_out, bytes_out, __ATOMIC_RELAXED);
	if (error)
		__atomic_add_fetch(&m->errors, 1, __ATOMIC_RELAXED);
	balancer_member_unref(mp);
}

/* ---------------------------------------------------------------- health */

void balancer_member_failed(struct balancer_member *m, uint64_t now_ms)
{
	struct balancer *b = m->b;

	pthread_mutex_lock(&b->lock);
	m->error_until_ms = now_ms + b->set.retry_ms;
	pthread_mutex_unlock(&b->lock);
	__atomic_add_fetch(&m->errors, 1, __ATOMIC_RELAXED);
}

bool balancer_health_result(struct balancer_member *m, bool ok, bool draining, uint64_t now_ms)
{
	struct balancer *b = m->b;
	bool changed = false;

	pthread_mutex_lock(&b->lock);
	m->last_check_ms = now_ms;
	m->last_check_ok = ok;
	if (ok) {
		m->draining = draining;
		m->bad_run = 0;
		if (!m->healthy && ++m->good_run >= b->set.health_rise) {
			m->healthy = true;
			m->good_run = 0;
			changed = true;
		}
	} else {
		m->good_run = 0;
		if (m->healthy && ++m->bad_run >= b->set.health_fall) {
			m->healthy = false;
			m->bad_run = 0;
			changed = true;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return changed;
}

void balancer_set_draining(struct balancer_member *m, bool draining)
{
	pthread_mutex_lock(&m->b->lock);
	m->draining = draining;
	pthread_mutex_unlock(&m->b->lock);
}

/* Under the lock. */
static void fill_info(const struct balancer_member *m, uint64_t now_ms,
                      struct balancer_member_info *in)
{
	memcpy(in->route, m->route, sizeof(in->route));
	memcpy(in->address, m->address, sizeof(in->address));
	in->loadfactor = m->loadfactor;
	in->state = m->state;
	in->effective = effective_state(m);
	in->discovered = m->discovered;
	in->healthy = m->healthy;
	in->draining = m->draining;
	in->in_error = now_ms < m->error_until_ms;
	in->error_until_ms = m->error_until_ms;
	in->last_check_ms = m->last_check_ms;
	in->last_check_ok = m->last_check_ok;
	in->requests = __atomic_load_n(&m->requests, __ATOMIC_RELAXED);
	in->in_flight = __atomic_load_n(&m->in_flight, __ATOMIC_RELAXED);
	in->bytes_in = __atomic_load_n(&m->bytes_in, __ATOMIC_RELAXED);
	in->bytes_out = __atomic_load_n(&m->bytes_out, __ATOMIC_RELAXED);
	in->errors = __atomic_load_n(&m->errors, __ATOMIC_RELAXED);
}

void balancer_member_get_info(struct balancer_member *m, uint64_t now_ms,
                              struct balancer_member_info *info_r)
{
	pthread_mutex_lock(&m->b->lock);
	fill_info(m, now_ms, info_r);
	pthread_mutex_unlock(&m->b->lock);
}

size_t balancer_snapshot(struct balancer *b, uint64_t now_ms, struct balancer_member_info **infos_r)
{
	struct balancer_member_info *infos;
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = b->members.count;
	infos = mem_calloc(n > 0 ? n : 1, sizeof(*infos));
	for (size_t i = 0; i < n; i++)
		fill_info(member_at(b, i), now_ms, &infos[i]);
	pthread_mutex_unlock(&b->lock);
	*infos_r = infos;
	return n;
}
