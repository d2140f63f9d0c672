/* SPDX-License-Identifier: MIT */
/* The thread that turns the nodes' multicast announcements into members (discovery.c). */
#include "discovery-listener.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

#define WAIT_MS   250 /* also the stop latency */
#define EXPIRE_MS 500

struct discovery_listener {
	struct announce_receiver *receiver;
	struct discovery *d;
	pthread_t thread;
	_Atomic bool stop;
	_Atomic size_t count;
};

static void *listen_main(void *arg)
{
	struct discovery_listener *dl = arg;
	uint64_t next_expire = clock_mono_ms() + EXPIRE_MS;
	bool failing = false;

	pthread_setname_np(pthread_self(), "lb-discovery");
	while (!dl->stop) {
		struct announce_msg msg;
		struct sockaddr_in from;
		const char *error;
		int ret = announce_receiver_next(dl->receiver, WAIT_MS, &msg, &from, &error);
		uint64_t now = clock_mono_ms();
		if (ret > 0) {
			char address[ANNOUNCE_ADDRESS_MAX + 1];
			announce_effective_address(&msg, &from, address, sizeof(address));
			enum discovery_result r = discovery_feed(dl->d, &msg, address, now);
			if (r == DISCOVERY_ADDED || r == DISCOVERY_MOVED)
				log_info("discovery", "member %s at %s %s", msg.route, address,
				         r == DISCOVERY_ADDED ? "joined" : "moved");
			failing = false;
		} else if (ret < 0) {
			if (!failing)
				log_error("discovery", "receiving announcements: %s", error);
			failing = true;
		}
		if (now >= next_expire) {
			size_t gone = discovery_expire(dl->d, now);
			if (gone > 0)
				log_info("discovery", "%zu member(s) went silent and were removed",
				         gone);
			next_expire = now + EXPIRE_MS;
		}
		dl->count = discovery_count(dl->d);
	}
	return NULL;
}

int discovery_listener_start(struct balancer *b, const struct announce_settings *announce,
                             const struct discovery_settings *set, struct discovery_listener **dl_r,
                             const char **error_r)
{
	struct discovery_listener *dl = mem_calloc(1, sizeof(*dl));
	if (announce_receiver_open(announce, set->cluster, &dl->receiver, error_r) < 0) {
		mem_free(&dl);
		return -1;
	}
	dl->d = discovery_create(b, set);
	if (pthread_create(&dl->thread, NULL, listen_main, dl) != 0) {
		*error_r = "cannot start the discovery thread";
		discovery_destroy(&dl->d);
		announce_receiver_close(&dl->receiver);
		mem_free(&dl);
		return -1;
	}
	*dl_r = dl;
	return 0;
}

void discovery_listener_stop(struct discovery_listener **dlp)
{
	struct discovery_listener *dl = *dlp;
	if (dl == NULL)
		return;
	dl->stop = true;
	pthread_join(dl->thread, NULL);
	discovery_destroy(&dl->d);
	announce_receiver_close(&dl->receiver);
	mem_free(dlp);
}

size_t discovery_listener_count(struct discovery_listener *dl)
{
	return dl->count;
}

void discovery_listener_get_stats(struct discovery_listener *dl,
                                  struct announce_receiver_stats *stats_r)
{
	announce_receiver_get_stats(dl->receiver, stats_r);
}
