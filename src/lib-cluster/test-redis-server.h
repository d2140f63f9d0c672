/* SPDX-License-Identifier: MIT */
/* A private redis-server for unit tests: started on a free loopback port, killed with the
   test process even when it crashes, plus an admin connection for checks. Test code only. */
#ifndef TANDEM_TEST_REDIS_SERVER_H
#define TANDEM_TEST_REDIS_SERVER_H

#include <stdint.h>

#include <hiredis/hiredis.h>

struct redis_pool;

/* Further redis-server arguments for the next starts (a NULL-terminated array that must
   stay valid), e.g. TLS options. */
void test_redis_set_args(const char *const *args);
/* A loopback TCP port that was free a moment ago. */
uint16_t test_free_port(void);
/* Starts redis-server (the first call picks the port; later calls restart on it) and waits
   until it answers PING. Exits the test with "Bail out!" when it cannot. */
void test_redis_start(void);
/* Sends sig and, unless it is SIGSTOP or SIGCONT, waits for the server to exit. */
void test_redis_signal(int sig);
uint16_t test_redis_port(void);
/* A pool on the server with the given command timeout (the caller destroys it). */
struct redis_pool *test_redis_pool(unsigned timeout_ms);
/* A command on the admin connection (free the reply); exits when the connection fails. */
redisReply *test_redis_cmd(const char *fmt, ...);
/* Closes the admin connection and stops the server. */
void test_redis_stop(void);
void test_sleep_ms(unsigned ms);

#endif
