/* SPDX-License-Identifier: MIT */
/* Prometheus text exposition: the HELP/TYPE header of a metric family and single samples. */
#ifndef TANDEM_PROM_H
#define TANDEM_PROM_H

#include <stdint.h>

#include "buf.h"

/* "# HELP name help" and "# TYPE name type" (type: "counter" or "gauge"); labelled samples
   follow with buf_printf. */
void prom_family(struct buf *out, const char *name, const char *type, const char *help);
/* A family of one unlabelled sample. */
void prom_metric(struct buf *out, const char *name, const char *type, const char *help,
                 uint64_t value);

#endif
