/* SPDX-License-Identifier: MIT */
/* vCard 3.0 (RFC 2426) to 4.0 (RFC 6350) and back, for a CardDAV client that asks for the
   version a card was not stored in (docs/internals/contacts.md "Versions"). The card is
   stored as sent; this writes another representation of it. No SQL. */
#ifndef TANDEM_VCARD_CONVERT_H
#define TANDEM_VCARD_CONVERT_H

#include <stddef.h>

#include "pool.h"

/* The VERSION of a card text ("3.0", "4.0"), or "" when it has none. */
const char *vcard_version_of(struct pool *pool, const char *text, size_t len);
/* The card text (one that vcard_parse took) as version to ("3.0" or "4.0"), CRLF line
   ends, folded at 75 octets, into *out_r (the pool) and *len_r. Already of that version:
   text itself. What the other version has no place for is dropped (3.0's NAME,
   PROFILE, MAILER, CLASS, LABEL, AGENT, SORT-STRING; 4.0's CLIENTPIDMAP, XML, and the PID,
   ALTID, SORT-AS, CALSCALE, GEO, TZ, LABEL and INDEX parameters); photos, logos, sounds and
   keys move between 3.0's ENCODING=b and 4.0's data: URIs, PREF between TYPE=pref and
   PREF=1, telephone URIs between tel: and text; 4.0's KIND, GENDER and ANNIVERSARY become
   X-ADDRESSBOOKSERVER-KIND, X-GENDER and X-ANNIVERSARY in 3.0 and back; a 3.0 card gets an
   empty N when it has none, a 4.0 card the FN vcard_parse makes of N. The result is checked
   with vcard_parse: a card it would not take (text vcard_parse reads otherwise than these
   rules, such as a quoted-printable soft break before END) is left as it is. */
void vcard_convert(struct pool *pool, const char *text, size_t len, const char *to,
                   const char **out_r, size_t *len_r);

#endif
