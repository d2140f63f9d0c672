/* SPDX-License-Identifier: MIT */
/* Prometheus text exposition: the HELP/TYPE header of a metric family and single samples. */
#include "prom.h"

#include <inttypes.h>

void prom_family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_metric(struct buf *out, const char *name, const char *type, const char *help,
                 uint64_t value)
{
	prom_family(out, name, type, help);
	buf_printf(out, "%s %" PRIu64 "\n", name, value);
}
