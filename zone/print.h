/* Writes zones in canonical presentation form: absolute names, one record
 * per line (`owner TTL CLASS TYPE RDATA`), the SOA first then canonical
 * order, as zone_walk gives it. The output parses back (in zonelet and in
 * ldns) to the same records. */
#ifndef ZL_ZONE_PRINT_H
#define ZL_ZONE_PRINT_H

#include <stdio.h>

#include "zone/zone.h"

/* Formats one record as a line with '\n' and NUL into buf. Returns the
 * length or ZL_ESPACE. */
int zone_rec_to_text(const dns_rr_t *rec, char *buf, size_t cap);

/* Writes every record of z to f. Returns ZL_OK, ZL_EIO or ZL_ENOMEM. */
int zone_print(const zone_t *z, FILE *f);

#endif
