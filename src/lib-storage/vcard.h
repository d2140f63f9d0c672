/* SPDX-License-Identifier: MIT */
/* vCard 3.0 (RFC 2426) and 4.0 (RFC 6350): a strict, bounded parser of one card as a client
   sends it (validation and the columns contacts are searched and shown by), splitting a .vcf
   file of many cards, and writing a 4.0 card from the JSON form's fields. No SQL
   (docs/internals/contacts.md). */
#ifndef TANDEM_VCARD_H
#define TANDEM_VCARD_H

#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

#define VCARD_MAX_SIZE  (1024 * 1024) /* one card, bytes */
#define VCARD_PHOTO_MAX (256 * 1024)  /* a PHOTO or LOGO value (base64 or URI), bytes */
#define VCARD_PROPS_MAX 2000          /* content lines of one card */
#define VCARD_MULTI_MAX 100           /* EMAIL or TEL properties of one card */
#define VCARD_FIELD_MAX 512           /* FN, N, ORG (bytes, decoded) */
#define VCARD_UID_MAX   255
#define VCARD_BDAY_MAX  32
#define VCARD_SPLIT_MAX 10000 /* cards of one .vcf file */

/* The columns of one card; strings in the pool, "" when absent. */
struct vcard_info {
	const char *version; /* "3.0" or "4.0" */
	const char *uid, *fn, *n, *org, *birthday;
	const char *emails, *phones; /* one per line, in card order */
	bool has_photo;
};

/* Validates one card (BEGIN:VCARD … END:VCARD, nothing else): at most VCARD_MAX_SIZE bytes of
   UTF-8 without NUL; lines unfolded; groups, parameters (quoted or not) and values (escapes;
   quoted-printable in 3.0) parsed; VERSION 3.0 or 4.0 once; UID once; FN (in 3.0 FN or N, FN
   then made from N); the limits above. 0 with *info_r, or -1 with error naming the problem
   (VCARD_TOO_LARGE when it is the size of the card or of a photo). */
#define VCARD_TOO_LARGE (-2)
int vcard_parse(struct pool *pool, const char *text, size_t len, struct vcard_info *info_r,
                char *error, size_t error_size);

struct vcard_slice {
	const char *text; /* into the input */
	size_t len;
};
/* The cards of a .vcf file (each BEGIN:VCARD … END:VCARD at line starts, blank lines between),
   at most max: 0 with *cards_r (the pool) and *count_r, or -1 with error. Cards are not
   validated here. */
int vcard_split(struct pool *pool, const char *text, size_t len, size_t max,
                struct vcard_slice **cards_r, size_t *count_r, char *error, size_t error_size);

/* The fields of the JSON form of a contact. */
struct vcard_fields {
	const char *uid, *fn, *family, *given, *org, *birthday;
	const char *const *emails, *const *phones; /* NULL-terminated, or NULL */
};
/* A vCard 4.0 text of the fields (escaped, folded at 75 bytes, CRLF) in the pool. */
const char *vcard_build(struct pool *pool, const struct vcard_fields *f);

#endif
