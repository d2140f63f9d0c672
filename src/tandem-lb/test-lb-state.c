/* SPDX-License-Identifier: MIT */
/* Unit tests for the manager's state file: round trip, atomic writes, strict loading, apply. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "balancer.h"
#include "buf.h"
#include "lb-state.h"
#include "log.h"
#include "mem.h"
#include "test.h"

static char dir[64];
static char path[128];

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void fresh_dir(void)
{
	if (dir[0] != '\0')
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(dir, sizeof(dir), "/tmp/test-lb-state-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/tandem-lb.state", dir);
}

static void write_text(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	test_assert(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* The file's content in a static buffer ("" if unreadable). */
static const char *read_text(const char *p)
{
	static char text[65536];
	size_t n = 0;
	FILE *f = fopen(p, "r");
	if (f != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

static bool file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* Loads text as the state file; returns the error ("" on success). */
static const char *load_error(const char *text)
{
	static char msg[600];
	struct lb_state *s;
	const char *error;
	write_text(path, text);
	if (lb_state_load(path, &s, &error) == 0) {
		lb_state_free(&s);
		return "";
	}
	test_assert(s == NULL);
	snprintf(msg, sizeof(msg), "%s", error);
	return msg;
}

static void round_trip(void)
{
	const char *error = NULL;
	struct lb_state *s, *t;

	fresh_dir();
	s = lb_state_create(path);

	lb_state_set_state(s, "OX-2", BALANCER_MAINT);
	lb_state_set_loadfactor(s, "OX-2", 20);
	lb_state_set_loadfactor(s, "OX-1", 70);
	lb_state_add(s, "OX-9", "http://10.0.0.9:8009", 30, BALANCER_DRAIN);
	lb_state_remove(s, "OX-5", true);
	test_assert_int_eq(lb_state_count(s), 4);
	test_assert_str_eq(lb_state_at(s, 0)->route, "OX-1"); /* sorted */
	test_assert(lb_state_save(s, &error) == 0);
	test_assert(strstr(read_text(path), "\"version\": 1") != NULL);

	test_assert(lb_state_load(path, &t, &error) == 0);
	test_assert_int_eq(lb_state_count(t), 4);
	const struct lb_state_member *e = lb_state_get(t, "OX-2");
	test_assert(e != NULL && e->has_state && e->state == BALANCER_MAINT && e->has_loadfactor &&
	            e->loadfactor == 20 && e->url[0] == '\0' && !e->removed);
	e = lb_state_get(t, "OX-1");
	test_assert(e != NULL && !e->has_state && e->has_loadfactor && e->loadfactor == 70);
	e = lb_state_get(t, "OX-9");
	test_assert(e != NULL && e->state == BALANCER_DRAIN && e->loadfactor == 30);
	test_assert_str_eq(e != NULL ? e->url : NULL, "http://10.0.0.9:8009");
	e = lb_state_get(t, "OX-5");
	test_assert(e != NULL && e->removed && !e->has_state && !e->has_loadfactor);
	test_assert(lb_state_get(t, "OX-3") == NULL);

	/* what is formatted again is byte for byte what was read, apart from the time */
	struct buf a, b;
	buf_init(&a, 65536);
	buf_init(&b, 65536);
	lb_state_format(s, &a);
	lb_state_format(t, &b);
	const char *ua = strstr(a.data, "\"members\""), *ub = strstr(b.data, "\"members\"");
	test_assert(ua != NULL && ub != NULL);
	if (ua != NULL && ub != NULL)
		test_assert_str_eq(ua, ub);
	buf_free(&a);
	buf_free(&b);
	lb_state_free(&s);
	lb_state_free(&t);
}

static void missing_file_is_empty(void)
{
	struct lb_state *s;
	const char *error;

	fresh_dir();
	test_assert(lb_state_load(path, &s, &error) == 0);
	test_assert(s != NULL && lb_state_count(s) == 0);
	test_assert_str_eq(lb_state_path(s), path);
	lb_state_free(&s);
	test_assert(!file_exists(path)); /* loading writes nothing */
}

static void memory_only_state_saves_nothing(void)
{
	const char *error;
	struct lb_state *s = lb_state_create(NULL);
	lb_state_set_state(s, "OX-1", BALANCER_MAINT);
	test_assert(lb_state_save(s, &error) == 0);
	test_assert(lb_state_path(s) == NULL);
	lb_state_free(&s);
	lb_state_free(&s); /* NULL is a no-op */
}

static void failed_write_keeps_old_file(void)
{
	char tmp[160];
	const char *error = NULL;
	struct lb_state *s;

	fresh_dir();
	s = lb_state_create(path);

	lb_state_set_state(s, "OX-1", BALANCER_MAINT);
	test_assert(lb_state_save(s, &error) == 0);
	char before[65536];
	snprintf(before, sizeof(before), "%s", read_text(path));

	/* the temporary file cannot be created: a directory has its name */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	test_assert(mkdir(tmp, 0700) == 0);
	lb_state_set_state(s, "OX-1", BALANCER_READY);
	test_assert(lb_state_save(s, &error) < 0);
	test_assert(error != NULL && strstr(error, tmp) != NULL);
	test_set_context(error);
	test_assert_str_eq(read_text(path), before);
	test_assert(rmdir(tmp) == 0); /* still the directory: the save did not remove it */
	test_set_context(NULL);

	/* it works again once the obstacle is gone, and leaves no temporary file */
	test_assert(lb_state_save(s, &error) == 0);
	test_assert(strstr(read_text(path), "\"ready\"") != NULL);
	test_assert(!file_exists(tmp));

	/* a state directory that does not exist is an error naming the file */
	struct lb_state *nowhere = lb_state_create("/nonexistent-dir/tandem-lb.state");
	test_assert(lb_state_save(nowhere, &error) < 0);
	test_assert(strstr(error, "/nonexistent-dir/tandem-lb.state.tmp") != NULL);
	lb_state_free(&nowhere);
	lb_state_free(&s);
}

static void corrupt_files_are_errors(void)
{
	char want[300];
	const char *e;

	fresh_dir();

	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {\"state\": \"maint\"");
	snprintf(want, sizeof(want), "%s: line 1: ", path);
	test_assert(strncmp(e, want, strlen(want)) == 0);
	test_set_context(e);
	test_assert(strstr(e, "line 1") != NULL);

	e = load_error("");
	test_assert(strstr(e, path) == e && strstr(e, "empty file") != NULL);
	e = load_error("[]");
	test_assert(strstr(e, path) == e && strstr(e, "expected a JSON object") != NULL);
	e = load_error("{\"members\": {}}");
	test_assert(strstr(e, "no \"version\"") != NULL);
	e = load_error("{\"version\": 2}");
	test_assert(strstr(e, "version 2 is not supported") != NULL && strstr(e, "newer") != NULL);
	e = load_error("{\"version\": 1, \"member\": {}}");
	test_assert(strstr(e, "unknown key \"member\"") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {\"state\": \"off\"}}}");
	test_set_context(e);
	test_assert(strstr(e, "members.OX-1.state") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {\"loadfactor\": 0}}}");
	test_assert(strstr(e, "members.OX-1.loadfactor") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {\"loadfactor\": 50.5}}}");
	test_assert(strstr(e, "members.OX-1.loadfactor") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX 1\": {}}}");
	test_assert(strstr(e, "not a valid route") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {\"url\": \"ftp://x\"}}}");
	test_assert(strstr(e, "members.OX-1.url") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {\"weight\": 3}}}");
	test_assert(strstr(e, "unknown key \"weight\"") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {}, \"OX-1\": {}}}");
	test_assert(strstr(e, "duplicate") != NULL);
	e = load_error("{\"version\": 1, \"members\": {\"OX-1\": {}}, \"removed\": [\"OX-1\"]}");
	test_assert(strstr(e, "also listed in members") != NULL);
	e = load_error("{\"version\": 1, \"removed\": [\"OX-1\", 5]}");
	test_assert(strstr(e, "removed[1]") != NULL);
	test_set_context(NULL);

	/* well-formed edge cases load */
	test_assert_str_eq(load_error("{\"version\": 1}"), "");
	test_assert_str_eq(load_error("{\"version\": 1, \"updated\": \"x\", \"members\": {}, "
	                              "\"removed\": []}"),
	                   "");
	/* an added member written by hand without state and loadfactor gets the defaults */
	struct lb_state *s;
	write_text(path, "{\"version\": 1, \"members\": {\"OX-7\": {\"url\": \"http://h:1\"}}}");
	test_assert(lb_state_load(path, &s, &e) == 0);
	const struct lb_state_member *m = s != NULL ? lb_state_get(s, "OX-7") : NULL;
	test_assert(m != NULL && m->has_state && m->state == BALANCER_READY && m->has_loadfactor &&
	            m->loadfactor == 50);
	lb_state_free(&s);
}

static void parse_failure_leaves_state(void)
{
	const char *error;
	struct lb_state *s = lb_state_create(NULL);
	lb_state_set_state(s, "OX-1", BALANCER_DRAIN);
	test_assert(lb_state_parse(s, STRV_LIT("{\"version\": 1, \"removed\": [\"-\", \"a b\"]}"),
	                           "peer", &error) < 0);
	test_assert(strncmp(error, "peer: removed[1]", 16) == 0);
	test_assert_int_eq(lb_state_count(s), 1);
	test_assert(lb_state_parse(s, STRV_LIT("{\"version\": 1, \"removed\": [\"OX-2\"]}"), "peer",
	                           &error) == 0);
	test_assert_int_eq(lb_state_count(s), 1);
	test_assert(lb_state_get(s, "OX-2") != NULL && lb_state_get(s, "OX-1") == NULL);
	lb_state_free(&s);
}

static void changes_in_memory(void)
{
	struct lb_state *s = lb_state_create(NULL), *backup = lb_state_create(NULL);

	/* an added member keeps its URL through later changes */
	lb_state_add(s, "OX-3", "http://h:3", 40, BALANCER_READY);
	lb_state_set_state(s, "OX-3", BALANCER_MAINT);
	const struct lb_state_member *e = lb_state_get(s, "OX-3");
	test_assert(e != NULL && e->state == BALANCER_MAINT && e->loadfactor == 40);
	test_assert_str_eq(e != NULL ? e->url : NULL, "http://h:3");

	/* removing it forgets it entirely; a configured member leaves a tombstone */
	lb_state_copy(backup, s);
	lb_state_remove(s, "OX-3", false);
	test_assert(lb_state_get(s, "OX-3") == NULL);
	lb_state_set_loadfactor(s, "OX-1", 10);
	lb_state_remove(s, "OX-1", true);
	e = lb_state_get(s, "OX-1");
	test_assert(e != NULL && e->removed && !e->has_loadfactor);

	/* setting a value on a tombstone revives the route */
	lb_state_set_state(s, "OX-1", BALANCER_DRAIN);
	e = lb_state_get(s, "OX-1");
	test_assert(e != NULL && !e->removed && e->has_state && !e->has_loadfactor);
	/* adding over a tombstone replaces it */
	lb_state_remove(s, "OX-1", true);
	lb_state_add(s, "OX-1", "http://h:1", 50, BALANCER_READY);
	e = lb_state_get(s, "OX-1");
	test_assert(e != NULL && !e->removed && e->url[0] != '\0');
	/* removing a route nobody recorded is no change */
	lb_state_remove(s, "OX-8", false);
	test_assert_int_eq(lb_state_count(s), 1);

	/* the backup restores the earlier picture */
	lb_state_copy(s, backup);
	test_assert_int_eq(lb_state_count(s), 1);
	test_assert(lb_state_get(s, "OX-3") != NULL && lb_state_get(s, "OX-1") == NULL);
	lb_state_free(&s);
	lb_state_free(&backup);
}

static struct balancer *config_balancer(void)
{
	struct balancer_settings bs = {BALANCER_BYREQUESTS, 5000, 1, 1};
	struct balancer *b = balancer_create(&bs);
	const char *routes[] = {"OX-1", "OX-2", "OX-3"};
	for (size_t i = 0; i < 3; i++) {
		struct balancer_member_settings ms = {
		    routes[i], "127.0.0.1:8009", 50, BALANCER_READY, false, false};
		const char *error = NULL;
		if (balancer_add(b, &ms, NULL, &error) < 0)
			test__fail(__FILE__, __LINE__, error);
	}
	return b;
}

static bool info(struct balancer *b, const char *route, struct balancer_member_info *info_r)
{
	struct balancer_member *m = balancer_find(b, strv_from_cstr(route));
	if (m == NULL)
		return false;
	balancer_member_get_info(m, 0, info_r);
	balancer_member_unref(&m);
	return true;
}

static void apply_over_config(void)
{
	struct balancer_member_info mi;
	const char *error = NULL;
	struct balancer *b = config_balancer();
	struct lb_state *s;

	fresh_dir();

	write_text(path, "{\n"
	                 "  \"version\": 1,\n"
	                 "  \"members\": {\n"
	                 "    \"OX-1\": {\"state\": \"maint\", \"loadfactor\": 20},\n"
	                 "    \"OX-3\": {\"loadfactor\": 80},\n"
	                 "    \"OX-4\": {\"url\": \"http://10.0.0.4:8010/\", \"loadfactor\": 30, "
	                 "\"state\": \"drain\"},\n"
	                 "    \"OX-9\": {\"state\": \"disabled\"}\n"
	                 "  },\n"
	                 "  \"removed\": [\"OX-2\", \"OX-8\"]\n"
	                 "}\n");
	test_assert(lb_state_load(path, &s, &error) == 0);
	test_assert(s != NULL && lb_state_apply(s, b, &error) == 0);

	test_assert(info(b, "OX-1", &mi) && mi.state == BALANCER_MAINT && mi.loadfactor == 20);
	test_assert(!info(b, "OX-2", &mi)); /* tombstone */
	test_assert(info(b, "OX-3", &mi) && mi.state == BALANCER_READY && mi.loadfactor == 80);
	test_assert(info(b, "OX-4", &mi) && mi.state == BALANCER_DRAIN && mi.loadfactor == 30 &&
	            !mi.discovered);
	test_assert_str_eq(mi.address, "10.0.0.4:8010");
	test_assert(!info(b, "OX-9", &mi)); /* unknown now: kept, not applied, no error */
	test_assert(lb_state_get(s, "OX-9") != NULL);
	test_assert_int_eq(balancer_count(b), 3);

	/* an added route that the configuration has meanwhile: the configured address stays */
	struct balancer *b2 = config_balancer();
	struct lb_state *s2 = lb_state_create(NULL);
	lb_state_add(s2, "OX-1", "http://10.0.0.1:9000", 10, BALANCER_STANDBY);
	test_assert(lb_state_apply(s2, b2, &error) == 0);
	test_assert(info(b2, "OX-1", &mi) && mi.state == BALANCER_STANDBY && mi.loadfactor == 10);
	test_assert_str_eq(mi.address, "127.0.0.1:8009");

	balancer_destroy(&b);
	balancer_destroy(&b2);
	lb_state_free(&s);
	lb_state_free(&s2);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"round_trip", round_trip},
	    {"missing_file_is_empty", missing_file_is_empty},
	    {"memory_only_state_saves_nothing", memory_only_state_saves_nothing},
	    {"failed_write_keeps_old_file", failed_write_keeps_old_file},
	    {"corrupt_files_are_errors", corrupt_files_are_errors},
	    {"parse_failure_leaves_state", parse_failure_leaves_state},
	    {"changes_in_memory", changes_in_memory},
	    {"apply_over_config", apply_over_config},
	    {NULL, NULL},
	};

	log_set_level(LOG_WARN);
	int code = test_run(cases);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return code;
}
