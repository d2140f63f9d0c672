/* SPDX-License-Identifier: MIT */
/* The manager's state file. Strict on load: a file that cannot be understood stops the daemon,
   because starting without it would silently undo what an operator decided (a member in
   maintenance would take traffic again). */
#include "lb-state.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"
#include "lb-config.h"
#include "log.h"
#include "mem.h"

struct lb_state {
	char *path;           /* NULL = memory only */
	struct array members; /* struct lb_state_member, sorted by route */
};

static __thread char error_msg[512];

static const char *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *fail(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(error_msg, sizeof(error_msg), fmt, args);
	va_end(args);
	return error_msg;
}

struct lb_state *lb_state_create(const char *path)
{
	struct lb_state *s = mem_calloc(1, sizeof(*s));
	s->path = path != NULL ? mem_strdup(path) : NULL;
	array_init(&s->members, sizeof(struct lb_state_member));
	return s;
}

void lb_state_free(struct lb_state **state)
{
	struct lb_state *s = *state;
	if (s == NULL)
		return;
	array_free(&s->members);
	mem_free(&s->path);
	mem_free(state);
}

const char *lb_state_path(const struct lb_state *s)
{
	return s->path;
}

size_t lb_state_count(const struct lb_state *s)
{
	return s->members.count;
}

const struct lb_state_member *lb_state_at(const struct lb_state *s, size_t i)
{
	return i < s->members.count ? ARRAY_IDX(&s->members, struct lb_state_member, i) : NULL;
}

/* Index of route, or of the place it would go, in *found_r whether it is there. */
static size_t find(const struct array *members, const char *route, bool *found_r)
{
	size_t lo = 0, hi = members->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(ARRAY_IDX(members, struct lb_state_member, mid)->route, route);
		if (cmp == 0) {
			*found_r = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found_r = false;
	return lo;
}

const struct lb_state_member *lb_state_get(const struct lb_state *s, const char *route)
{
	bool found;
	size_t i = find(&s->members, route, &found);
	return found ? ARRAY_IDX(&s->members, struct lb_state_member, i) : NULL;
}

/* The record for route, created empty if there is none. */
static struct lb_state_member *get_or_insert(struct array *members, const char *route)
{
	bool found;
	size_t i = find(members, route, &found);
	if (!found) {
		size_t n = members->count;
		array_push(members);
		struct lb_state_member *base = members->data;
		memmove(&base[i + 1], &base[i], (n - i) * sizeof(*base));
		memset(&base[i], 0, sizeof(*base));
		snprintf(base[i].route, sizeof(base[i].route), "%s", route);
	}
	return ARRAY_IDX(members, struct lb_state_member, i);
}

void lb_state_copy(struct lb_state *dst, const struct lb_state *src)
{
	if (dst == src)
		return;
	array_clear(&dst->members);
	for (size_t i = 0; i < src->members.count; i++)
		*(struct lb_state_member *)array_push(&dst->members) =
		    *ARRAY_IDX(&src->members, struct lb_state_member, i);
}

static void assert_route(const char *route)
{
	assert(balancer_route_valid(strv_from_cstr(route)));
}

void lb_state_set_state(struct lb_state *s, const char *route, enum balancer_state state)
{
	assert_route(route);
	assert((unsigned)state <= BALANCER_STANDBY);
	struct lb_state_member *e = get_or_insert(&s->members, route);
	e->removed = false;
	e->has_state = true;
	e->state = state;
}

void lb_state_set_loadfactor(struct lb_state *s, const char *route, unsigned loadfactor)
{
	assert_route(route);
	assert(loadfactor >= 1 && loadfactor <= BALANCER_LOADFACTOR_MAX);
	struct lb_state_member *e = get_or_insert(&s->members, route);
	e->removed = false;
	e->has_loadfactor = true;
	e->loadfactor = loadfactor;
}

void lb_state_add(struct lb_state *s, const char *route, const char *url, unsigned loadfactor,
                  enum balancer_state state)
{
	assert_route(route);
	assert(url[0] != '\0' && strlen(url) <= LB_STATE_URL_MAX);
	assert(loadfactor >= 1 && loadfactor <= BALANCER_LOADFACTOR_MAX);
	struct lb_state_member *e = get_or_insert(&s->members, route);
	memset(e, 0, sizeof(*e));
	snprintf(e->route, sizeof(e->route), "%s", route);
	snprintf(e->url, sizeof(e->url), "%s", url);
	e->has_state = true;
	e->state = state;
	e->has_loadfactor = true;
	e->loadfactor = loadfactor;
}

void lb_state_remove(struct lb_state *s, const char *route, bool tombstone)
{
	assert_route(route);
	if (tombstone) {
		struct lb_state_member *e = get_or_insert(&s->members, route);
		memset(e, 0, sizeof(*e));
		snprintf(e->route, sizeof(e->route), "%s", route);
		e->removed = true;
		return;
	}
	bool found;
	size_t i = find(&s->members, route, &found);
	if (found)
		array_delete(&s->members, i);
}

/* ---------------------------------------------------------------- JSON */

static json_t *member_json(const struct lb_state_member *e)
{
	json_t *o = json_object();
	if (e->url[0] != '\0')
		json_object_set_new(o, "url", json_string(e->url));
	if (e->has_state)
		json_object_set_new(o, "state", json_string(balancer_state_name(e->state)));
	if (e->has_loadfactor)
		json_object_set_new(o, "loadfactor", json_integer(e->loadfactor));
	return o;
}

void lb_state_format(const struct lb_state *s, struct buf *out)
{
	char updated[32];
	json_t *root = json_object();
	json_t *members = json_object();
	json_t *removed = json_array();

	clock_format_rfc3339(clock_wall_ms(), updated, sizeof(updated));
	json_object_set_new(root, "version", json_integer(LB_STATE_VERSION));
	json_object_set_new(root, "updated", json_string(updated));
	for (size_t i = 0; i < s->members.count; i++) {
		const struct lb_state_member *e = ARRAY_IDX(&s->members, struct lb_state_member, i);
		if (e->removed)
			json_array_append_new(removed, json_string(e->route));
		else
			json_object_set_new(members, e->route, member_json(e));
	}
	json_object_set_new(root, "members", members);
	json_object_set_new(root, "removed", removed);

	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
	size_t len = json_dumpb(root, NULL, 0, flags);
	char *text = mem_alloc(len + 1);
	json_dumpb(root, text, len, flags);
	buf_append(out, text, len);
	buf_append_char(out, '\n');
	mem_free(&text);
	json_decref(root);
}

/* One member record; where names it in messages. */
static const char *parse_member(const char *route, json_t *o, struct lb_state_member *e)
{
	const char *key;
	json_t *v;

	if (!balancer_route_valid(strv_from_cstr(route)))
		return fail("members: \"%.80s\" is not a valid route (1-%d of A-Z a-z 0-9 - _)",
		            route, BALANCER_ROUTE_MAX);
	if (!json_is_object(o))
		return fail("members.%s: expected an object", route);
	memset(e, 0, sizeof(*e));
	snprintf(e->route, sizeof(e->route), "%s", route);
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "state") == 0) {
			if (!json_is_string(v) ||
			    balancer_state_parse(json_string_value(v), &e->state) < 0)
				return fail(
				    "members.%s.state: expected ready, drain, maint, disabled "
				    "or standby",
				    route);
			e->has_state = true;
		} else if (strcmp(key, "loadfactor") == 0) {
			json_int_t lf = json_is_integer(v) ? json_integer_value(v) : 0;
			if (lf < 1 || lf > BALANCER_LOADFACTOR_MAX)
				return fail("members.%s.loadfactor: expected an integer 1-%d",
				            route, BALANCER_LOADFACTOR_MAX);
			e->has_loadfactor = true;
			e->loadfactor = (unsigned)lf;
		} else if (strcmp(key, "url") == 0) {
			char address[BALANCER_ADDRESS_MAX + 1];
			const char *error;
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > LB_STATE_URL_MAX ||
			    strlen(json_string_value(v)) != json_string_length(v))
				return fail("members.%s.url: expected http://host:port", route);
			if (lb_member_url_parse(json_string_value(v), address, sizeof(address),
			                        &error) < 0)
				return fail("members.%s.url: %s", route, error);
			snprintf(e->url, sizeof(e->url), "%s", json_string_value(v));
		} else {
			return fail(
			    "members.%s: unknown key \"%.40s\" (expected state, loadfactor, "
			    "url)",
			    route, key);
		}
	}
	if (e->url[0] != '\0') {
		/* an added member always has both; fill what a hand edit left out */
		if (!e->has_state)
			e->state = BALANCER_READY;
		if (!e->has_loadfactor)
			e->loadfactor = 50;
		e->has_state = e->has_loadfactor = true;
	}
	return NULL;
}

static const char *parse_root(json_t *root, struct array *members)
{
	const char *key, *error;
	json_t *v, *version = NULL, *mo = NULL, *ro = NULL;

	if (!json_is_object(root))
		return fail("expected a JSON object");
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "version") == 0)
			version = v;
		else if (strcmp(key, "members") == 0)
			mo = v;
		else if (strcmp(key, "removed") == 0)
			ro = v;
		else if (strcmp(key, "updated") != 0)
			return fail("unknown key \"%.40s\" (expected version, updated, members, "
			            "removed)",
			            key);
	}
	if (version == NULL || !json_is_integer(version))
		return fail("no \"version\" (this build reads version %d)", LB_STATE_VERSION);
	if (json_integer_value(version) != LB_STATE_VERSION)
		return fail("version %lld is not supported (this build reads version %d%s)",
		            (long long)json_integer_value(version), LB_STATE_VERSION,
		            json_integer_value(version) > LB_STATE_VERSION
		                ? "; written by a newer tandem-lb?"
		                : "");
	if (mo != NULL) {
		if (!json_is_object(mo))
			return fail("members: expected an object keyed by route");
		json_object_foreach(mo, key, v)
		{
			struct lb_state_member e;
			if ((error = parse_member(key, v, &e)) != NULL)
				return error;
			*get_or_insert(members, e.route) = e;
		}
	}
	if (ro != NULL) {
		size_t i;
		if (!json_is_array(ro))
			return fail("removed: expected an array of routes");
		json_array_foreach(ro, i, v)
		{
			const char *route = json_is_string(v) ? json_string_value(v) : "";
			bool found;
			if (!balancer_route_valid(strv_from_cstr(route)))
				return fail(
				    "removed[%zu]: expected a route (1-%d of A-Z a-z 0-9 - _)", i,
				    BALANCER_ROUTE_MAX);
			(void)find(members, route, &found);
			if (found)
				return fail("removed[%zu]: %s is also listed in members", i, route);
			get_or_insert(members, route)->removed = true;
		}
	}
	return NULL;
}

int lb_state_parse(struct lb_state *s, struct strv text, const char *name, const char **error_r)
{
	json_error_t jerr;
	struct array members;
	const char *error;

	json_t *root = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*error_r = fail("%s: line %d: %s", name, jerr.line, jerr.text);
		return -1;
	}
	array_init(&members, sizeof(struct lb_state_member));
	error = parse_root(root, &members);
	json_decref(root);
	if (error != NULL) {
		char copy[sizeof(error_msg)];
		snprintf(copy, sizeof(copy), "%s", error);
		*error_r = fail("%s: %s", name, copy);
		array_free(&members);
		return -1;
	}
	array_free(&s->members);
	s->members = members;
	return 0;
}

/* ---------------------------------------------------------------- file */

/* Reads the whole file into out; 1 when it does not exist. */
static int read_file(const char *path, struct buf *out, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		*error_r = fail("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	int ret = -1;
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = fail("%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		buf_append(out, chunk, (size_t)n);
		if (buf_overflowed(out)) {
			*error_r = fail("%s: larger than %d bytes: not a state file", path,
			                LB_STATE_FILE_MAX);
			goto out;
		}
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int lb_state_load(const char *path, struct lb_state **state_r, const char **error_r)
{
	struct buf text;
	struct lb_state *s = lb_state_create(path);

	buf_init(&text, LB_STATE_FILE_MAX);
	int ret = read_file(path, &text, error_r);
	if (ret == 0 && text.len == 0) {
		/* a crash before the first rename never leaves an empty file: someone truncated it
		 */
		*error_r = fail("%s: empty file: not a state file (delete it to start without "
		                "saved manager changes)",
		                path);
		ret = -1;
	} else if (ret == 0) {
		ret = lb_state_parse(s, buf_strv(&text), path, error_r);
	} else if (ret == 1) {
		ret = 0; /* first start */
	}
	buf_free(&text);
	if (ret < 0)
		lb_state_free(&s);
	*state_r = s;
	return ret;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes the rename durable: without it a power cut can bring back the old name's content. */
static int fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ret = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int lb_state_save(const struct lb_state *s, const char **error_r)
{
	char tmp[4096];
	struct buf text;
	int ret = -1, fd = -1;

	if (s->path == NULL)
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", s->path) >= sizeof(tmp)) {
		*error_r = fail("%s: path too long", s->path);
		return -1;
	}
	buf_init(&text, LB_STATE_FILE_MAX);
	lb_state_format(s, &text);
	if (buf_overflowed(&text)) {
		*error_r = fail("%s: state larger than %d bytes", s->path, LB_STATE_FILE_MAX);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		*error_r = fail("cannot write state file %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0) {
		*error_r = fail("cannot write state file %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = fail("cannot write state file %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, s->path) < 0) {
		*error_r = fail("cannot rename %s to %s: %s", tmp, s->path, strerror(errno));
		goto out;
	}
	if (fsync_parent(s->path) < 0) {
		/* the new file is in place; only its durability across a power cut is in doubt */
		log_warn("lb-state", "fsync of the directory of %s: %s", s->path, strerror(errno));
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0) {
		struct stat st;
		if (lstat(tmp, &st) == 0 && S_ISREG(st.st_mode))
			unlink(tmp);
	}
	buf_free(&text);
	return ret;
}

/* ---------------------------------------------------------------- apply */

/* "state maint, loadfactor 20" for the log. */
static void describe(const struct lb_state_member *e, char *out, size_t size)
{
	struct buf b;
	buf_init_fixed(&b, out, size);
	if (e->has_state)
		buf_printf(&b, "state %s", balancer_state_name(e->state));
	if (e->has_loadfactor)
		buf_printf(&b, "%sloadfactor %u", e->has_state ? ", " : "", e->loadfactor);
	if (b.len == 0)
		buf_append_lit(&b, "nothing");
}

static int add_member(const struct lb_state_member *e, struct balancer *b, const char **error_r)
{
	char address[BALANCER_ADDRESS_MAX + 1];
	if (lb_member_url_parse(e->url, address, sizeof(address), error_r) < 0)
		return -1;
	struct balancer_member_settings ms = {
	    .route = e->route,
	    .address = address,
	    .loadfactor = e->loadfactor,
	    .state = e->state,
	};
	return balancer_add(b, &ms, NULL, error_r);
}

int lb_state_apply(const struct lb_state *s, struct balancer *b, const char **error_r)
{
	const char *name = s->path != NULL ? s->path : "state";

	for (size_t i = 0; i < s->members.count; i++) {
		const struct lb_state_member *e = ARRAY_IDX(&s->members, struct lb_state_member, i);
		struct strv route = strv_from_cstr(e->route);
		struct balancer_member *m = balancer_find(b, route);
		bool present = m != NULL;
		balancer_member_unref(&m);

		if (e->removed) {
			if (present) {
				balancer_remove(b, route);
				log_info("lb-state", "member %s: removed (by the manager)",
				         e->route);
			}
			continue;
		}
		char what[64];
		describe(e, what, sizeof(what));
		if (e->url[0] != '\0' && !present) {
			const char *error;
			if (add_member(e, b, &error) < 0) {
				*error_r = fail("%s: member %s: cannot add %s: %s", name, e->route,
				                e->url, error);
				return -1;
			}
			log_info("lb-state", "member %s: added %s, %s (saved by the manager)",
			         e->route, e->url, what);
			continue;
		}
		if (!present) {
			log_info("lb-state", "member %s: no such member now; its saved %s is kept",
			         e->route, what);
			continue;
		}
		if (e->url[0] != '\0')
			log_warn(
			    "lb-state",
			    "member %s: configured now; the configured address wins over %s added "
			    "by the manager",
			    e->route, e->url);
		if (e->has_state)
			(void)balancer_set_state(b, route, e->state);
		if (e->has_loadfactor)
			(void)balancer_set_loadfactor(b, route, e->loadfactor);
		log_info("lb-state", "member %s: %s (saved by the manager)", e->route, what);
	}
	return 0;
}

/* ---------------------------------------------------------------- follow a peer */

static bool member_eq(const struct lb_state_member *a, const struct lb_state_member *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->removed == b->removed && a->has_state == b->has_state &&
	       (!a->has_state || a->state == b->state) && a->has_loadfactor == b->has_loadfactor &&
	       (!a->has_loadfactor || a->loadfactor == b->loadfactor) &&
	       strcmp(a->url, b->url) == 0;
}

static const struct lb_member_config *configured_of(const struct lb_member_config *configured,
                                                    size_t count, const char *route)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(configured[i].route, route) == 0)
			return &configured[i];
	}
	return NULL;
}

static bool member_info(struct balancer *b, const char *route, struct balancer_member_info *info_r)
{
	struct balancer_member *m = balancer_find(b, strv_from_cstr(route));
	if (m == NULL)
		return false;
	balancer_member_get_info(m, clock_mono_ms(), info_r);
	balancer_member_unref(&m);
	return true;
}

static void follow_add(struct balancer *b, const char *route, const char *address,
                       unsigned loadfactor, enum balancer_state state, const char *why)
{
	const char *error;
	struct balancer_member_settings ms = {
	    .route = route,
	    .address = address,
	    .loadfactor = loadfactor,
	    .state = state,
	};
	if (balancer_add(b, &ms, NULL, &error) < 0)
		log_error("lb-state", "member %s: cannot add %s (shared state): %s", route, address,
		          error);
	else
		log_info("lb-state", "member %s: added %s, state %s, loadfactor %u (%s)", route,
		         address, balancer_state_name(state), loadfactor, why);
}

/* Brings one route from record o to record n (either may be NULL; they differ). Records for
   routes that are not in the table and need not be are left as they are, as at start. */
static void follow_route(struct balancer *b, const char *route, const struct lb_state_member *o,
                         const struct lb_state_member *n, const struct lb_member_config *cfg)
{
	struct strv rv = strv_from_cstr(route);
	struct balancer_member_info info;
	bool present = member_info(b, route, &info);

	if (n != NULL && n->removed) {
		if (present && balancer_remove(b, rv) == 0)
			log_info("lb-state", "member %s: removed (shared state)", route);
		return;
	}
	bool has_state = n != NULL && n->has_state, has_lf = n != NULL && n->has_loadfactor;
	enum balancer_state state = has_state ? n->state : cfg != NULL ? cfg->state : info.state;
	unsigned lf = has_lf ? n->loadfactor : cfg != NULL ? cfg->loadfactor : info.loadfactor;

	if (cfg != NULL) {
		if (!present) {
			/* its tombstone went (the peer added it back, or won over a removal) */
			follow_add(b, route, cfg->address, lf, state, "configured; shared state");
			return;
		}
	} else if (n != NULL && n->url[0] != '\0') {
		char address[BALANCER_ADDRESS_MAX + 1];
		const char *error;
		if (lb_member_url_parse(n->url, address, sizeof(address), &error) < 0) {
			log_error("lb-state", "member %s: %s: %s", route, n->url, error);
			return;
		}
		if (present && !info.discovered && strcmp(info.address, address) != 0 &&
		    balancer_remove(b, rv) == 0) {
			log_info("lb-state", "member %s: moves from %s (shared state)", route,
			         info.address);
			present = false;
		}
		if (!present) {
			follow_add(b, route, address, lf, state, "added on a peer; shared state");
			return;
		}
	} else if (o != NULL && o->url[0] != '\0' && present && !info.discovered) {
		if (balancer_remove(b, rv) == 0)
			log_info("lb-state", "member %s: removed (shared state)", route);
		return;
	}
	if (!present) {
		if (n != NULL)
			log_info("lb-state",
			         "member %s: no such member now; its shared record is kept", route);
		return;
	}
	if (state != info.state) {
		(void)balancer_set_state(b, rv, state);
		log_info("lb-state", "member %s: state %s (shared state)", route,
		         balancer_state_name(state));
	}
	if (lf != info.loadfactor) {
		(void)balancer_set_loadfactor(b, rv, lf);
		log_info("lb-state", "member %s: loadfactor %u (shared state)", route, lf);
	}
}

int lb_state_follow(struct lb_state *s, struct strv text, const char *name, struct balancer *b,
                    const struct lb_member_config *configured, size_t configured_count,
                    const char **error_r)
{
	struct lb_state *next = lb_state_create(NULL);
	const char *error;

	if (lb_state_parse(next, text, name, error_r) < 0) {
		lb_state_free(&next);
		return -1;
	}
	/* both arrays are sorted by route: walk them side by side */
	bool changed = false;
	size_t i = 0, j = 0;
	while (i < s->members.count || j < next->members.count) {
		const struct lb_state_member *o = lb_state_at(s, i), *n = lb_state_at(next, j);
		int cmp = o == NULL ? 1 : n == NULL ? -1 : strcmp(o->route, n->route);
		const char *route = cmp <= 0 ? o->route : n->route;
		if (cmp < 0)
			n = NULL;
		else if (cmp > 0)
			o = NULL;
		i += o != NULL;
		j += n != NULL;
		if (member_eq(o, n))
			continue;
		changed = true;
		follow_route(b, route, o, n, configured_of(configured, configured_count, route));
	}
	if (changed) {
		lb_state_copy(s, next);
		if (lb_state_save(s, &error) < 0)
			log_error("lb-state", "%s (the balancer follows the shared state anyway)",
			          error);
	}
	lb_state_free(&next);
	return changed ? 1 : 0;
}
