/* SPDX-License-Identifier: MIT */
/* listannouncements: listens to the nodes' multicast announce for a while and lists who spoke. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announce.h"
#include "array.h"
#include "clock.h"
#include "ctl.h"

static const struct ctl_option options[] = {
    CTL_OPT(0, "group", "ADDR:PORT",
            "multicast group to listen on (default " ANNOUNCE_DEFAULT_GROUP ")", 0),
    CTL_OPT(0, "interface", "ADDR",
            "IPv4 address of the interface to join the group on (default: any)", 0),
    CTL_OPT(0, "cluster", "NAME", "list nodes of this cluster only (default tandem)", 0),
    CTL_OPT(0, "key-file", "PATH",
            "the announce key, in hex (the file [cluster] announce_key_file names, mode o-rwx)",
            CTL_REQUIRED),
    CTL_NUM(0, "seconds", "N", "listen this long (default 3)", 0, 1, 3600),
    CTL_END,
};

static const struct ctl_command command = {
    "listannouncements",
    "--key-file PATH [--group ADDR:PORT] [--interface ADDR] [--cluster NAME] [--seconds N]",
    "Listens to the multicast announce of the nodes ([cluster] announce in tandemd.ini) for N\n"
    "seconds and lists each node heard once: route, HTTP address, state, load (open HTTP\n"
    "connections), version and when it was last heard. Only announcements authenticated\n"
    "with the cluster's announce key (--key-file) count; the others (wrong key, old or\n"
    "replayed, other clusters, malformed) are ignored and counted on stderr. Needs no node\n"
    "API and no admin; exits 0 also when nothing was heard.",
    options,
};

/* One node heard, by route and address (two nodes sharing a route both show up). */
struct heard {
	struct announce_msg msg;
	char address[ANNOUNCE_ADDRESS_MAX + 1]; /* 0.0.0.0 replaced by the sender's address */
	char from[INET_ADDRSTRLEN];
	uint64_t last_wall_ms;
	uint64_t last_mono_ms;
	uint64_t datagrams;
};

static struct heard *find(struct array *nodes, const char *route, const char *address)
{
	for (size_t i = 0; i < nodes->count; i++) {
		struct heard *h = ARRAY_IDX(nodes, struct heard, i);
		if (strcmp(h->msg.route, route) == 0 && strcmp(h->address, address) == 0)
			return h;
	}
	return NULL;
}

static int by_route(const void *a, const void *b)
{
	const struct heard *x = a, *y = b;
	int c = strcmp(x->msg.route, y->msg.route);
	return c != 0 ? c : strcmp(x->address, y->address);
}

/* Datagrams dropped for any reason but another cluster's name. */
static uint64_t dropped_invalid(const struct announce_receiver_stats *st)
{
	uint64_t n = 0;
	for (int i = 0; i < ANNOUNCE_DROP_COUNT; i++) {
		if (i != ANNOUNCE_DROP_OTHER_CLUSTER)
			n += st->dropped[i];
	}
	return n;
}

static void print_json(const struct array *nodes, const char *cluster, const char *group,
                       const struct announce_receiver_stats *st)
{
	json_t *list = json_array();
	char when[32];
	for (size_t i = 0; i < nodes->count; i++) {
		const struct heard *h = ARRAY_IDX(nodes, struct heard, i);
		clock_format_rfc3339(h->last_wall_ms, when, sizeof(when));
		json_t *v = json_object();
		json_object_set_new(v, "route", json_string(h->msg.route));
		json_object_set_new(v, "address", json_string(h->address));
		json_object_set_new(v, "state", json_string(announce_state_name(h->msg.state)));
		json_object_set_new(v, "load", json_integer((json_int_t)h->msg.load));
		json_object_set_new(v, "version", json_string(h->msg.version));
		json_object_set_new(v, "last_seen", json_string(when));
		json_object_set_new(v, "started_ms", json_integer((json_int_t)h->msg.started_ms));
		json_object_set_new(v, "seq", json_integer((json_int_t)h->msg.seq));
		json_object_set_new(v, "datagrams", json_integer((json_int_t)h->datagrams));
		json_object_set_new(v, "from", json_string(h->from));
		json_array_append_new(list, v);
	}
	json_t *out = json_object();
	json_object_set_new(out, "cluster", json_string(cluster));
	json_object_set_new(out, "group", json_string(group));
	json_object_set_new(out, "nodes", list);
	json_object_set_new(out, "other_cluster_datagrams",
	                    json_integer((json_int_t)st->dropped[ANNOUNCE_DROP_OTHER_CLUSTER]));
	json_object_set_new(out, "invalid_datagrams",
	                    json_integer((json_int_t)dropped_invalid(st)));
	json_t *dropped = json_object();
	for (int i = 0; i < ANNOUNCE_DROP_COUNT; i++)
		json_object_set_new(dropped, announce_drop_name((enum announce_drop)i),
		                    json_integer((json_int_t)st->dropped[i]));
	json_object_set_new(out, "dropped", dropped);
	ctl_print_json(out);
	json_decref(out);
}

static void print_table(const struct array *nodes)
{
	static const char *const titles[] = {"route", "address", "state",
	                                     "load",  "version", "last seen"};
	struct ctl_table table;
	char text[64];
	uint64_t now = clock_mono_ms();

	ctl_table_init(&table, titles, sizeof(titles) / sizeof(titles[0]));
	for (size_t i = 0; i < nodes->count; i++) {
		const struct heard *h = ARRAY_IDX(nodes, struct heard, i);
		uint64_t age = now - h->last_mono_ms;
		ctl_table_add(&table, h->msg.route);
		ctl_table_add(&table, h->address);
		ctl_table_add(&table, announce_state_name(h->msg.state));
		snprintf(text, sizeof(text), "%llu", (unsigned long long)h->msg.load);
		ctl_table_add(&table, text);
		ctl_table_add(&table, h->msg.version);
		snprintf(text, sizeof(text), "%llu.%llus ago", (unsigned long long)(age / 1000),
		         (unsigned long long)(age % 1000 / 100));
		ctl_table_add(&table, text);
	}
	ctl_table_print(&table, stdout);
}

static void print_dropped(const struct announce_receiver_stats *st)
{
	fprintf(stderr,
	        "tandemctl: listannouncements: ignored %llu datagrams of other clusters and %llu "
	        "invalid ones",
	        (unsigned long long)st->dropped[ANNOUNCE_DROP_OTHER_CLUSTER],
	        (unsigned long long)dropped_invalid(st));
	const char *sep = " (";
	for (int i = 0; i < ANNOUNCE_DROP_COUNT; i++) {
		if (i == ANNOUNCE_DROP_OTHER_CLUSTER || st->dropped[i] == 0)
			continue;
		fprintf(stderr, "%s%s %llu", sep, announce_drop_name((enum announce_drop)i),
		        (unsigned long long)st->dropped[i]);
		sep = ", ";
	}
	fprintf(stderr, "%s%s%s\n", sep[0] == ',' ? ")" : "",
	        st->last_problem != NULL ? "; last problem: " : "",
	        st->last_problem != NULL ? st->last_problem : "");
}

int cmd_listannouncements(int argc, char **argv)
{
	struct ctl_args args;
	int ret;
	if (!ctl_parse(&command, argc, argv, &args, &ret))
		return ret;

	const char *group =
	    ctl_has(&args, "group") ? ctl_arg(&args, "group") : ANNOUNCE_DEFAULT_GROUP;
	const char *cluster = ctl_has(&args, "cluster") ? ctl_arg(&args, "cluster") : "tandem";
	struct announce_key key;
	struct announce_settings set = {
	    .group = group, .interface = ctl_arg(&args, "interface"), .key = &key};
	uint64_t seconds = ctl_arg_number(&args, "seconds", 3);
	const char *error;

	if (announce_settings_check(&set, &error) < 0)
		return ctl_usage_error("%s", error);
	if (!announce_name_valid(cluster))
		return ctl_usage_error("--cluster: 1-64 letters, digits, '-' or '_'");
	if (announce_key_load_file(ctl_arg(&args, "key-file"), &key, &error) < 0)
		return ctl_usage_error("--key-file %s", error);

	struct announce_receiver *r;
	ret = announce_receiver_open(&set, cluster, &r, &error);
	announce_key_wipe(&key); /* the receiver has its copy */
	if (ret < 0)
		return ctl_error("%s", error);

	struct array nodes = ARRAY_INIT(struct heard);
	uint64_t deadline = clock_mono_ms() + seconds * 1000;
	ret = CTL_EXIT_OK;
	for (;;) {
		uint64_t now = clock_mono_ms();
		if (now >= deadline)
			break;
		struct announce_msg msg;
		struct sockaddr_in from;
		int got = announce_receiver_next(r, deadline - now, &msg, &from, &error);
		if (got < 0) {
			ret = ctl_error("%s", error);
			break;
		}
		if (got == 0)
			break;
		char address[ANNOUNCE_ADDRESS_MAX + 1];
		announce_effective_address(&msg, &from, address, sizeof(address));
		struct heard *h = find(&nodes, msg.route, address);
		if (h == NULL) {
			h = array_push(&nodes);
			memcpy(h->address, address, sizeof(address));
		}
		h->msg = msg;
		inet_ntop(AF_INET, &from.sin_addr, h->from, sizeof(h->from));
		h->last_wall_ms = clock_wall_ms();
		h->last_mono_ms = clock_mono_ms();
		h->datagrams++;
	}
	struct announce_receiver_stats st;
	announce_receiver_get_stats(r, &st);
	announce_receiver_close(&r);
	if (ret == CTL_EXIT_OK) {
		if (nodes.count > 1)
			qsort(nodes.data, nodes.count, sizeof(struct heard), by_route);
		if (ctl_json_output())
			print_json(&nodes, cluster, group, &st);
		else if (nodes.count == 0)
			printf("no announcements heard\n");
		else
			print_table(&nodes);
		if (st.dropped[ANNOUNCE_DROP_OTHER_CLUSTER] > 0 || dropped_invalid(&st) > 0)
			print_dropped(&st);
	}
	array_free(&nodes);
	return ret;
}
