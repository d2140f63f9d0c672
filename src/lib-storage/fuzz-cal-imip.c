/* SPDX-License-Identifier: MIT */
/* libFuzzer target for iMIP: any bytes as a REPLY (what anyone can mail an organiser) and as
   an organiser's event to build the REQUEST, CANCEL and mail from. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "cal-ical.h"
#include "cal-imip.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(0);
	struct cal_imip_reply r;
	char error[256];
	const char *text = (const char *)data;
	if (cal_imip_parse_reply(pool, text, size, &r, error, sizeof(error)) == 0) {
		assert(r.uid != NULL && r.organizer != NULL && r.attendee != NULL);
		assert(strlen(r.uid) <= CAL_ICAL_UID_MAX);
		assert(strcmp(r.partstat, "ACCEPTED") == 0 || strcmp(r.partstat, "DECLINED") == 0 ||
		       strcmp(r.partstat, "TENTATIVE") == 0);
	}
	const char *itip = cal_imip_itip(pool, text, size, CAL_IMIP_CANCEL);
	if (itip != NULL) {
		struct cal_imip_mail m = {.method = CAL_IMIP_CANCEL,
		                          .from = "a@example.com",
		                          .from_name = "A",
		                          .to = "o@example.com",
		                          .itip = itip,
		                          .message_id = "m@t",
		                          .date = 0};
		(void)cal_imip_message(pool, &m);
	}
	pool_destroy(&pool);
	return 0;
}
