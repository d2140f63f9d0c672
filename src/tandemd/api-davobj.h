/* SPDX-License-Identifier: MIT */
/* What CalDAV and CardDAV share over the generic folder-object layer (storage-objects.h):
   DAV:error answers in either namespace, counter sync tokens, the homes' folder listings,
   the privileges of a folder, PROPFIND responses with their 404 propstat, and the REPORTs
   that do not depend on the object's format: multiget and sync-collection
   (docs/internals/dav.md "Calendars and address books"). */
#ifndef TANDEMD_API_DAVOBJ_H
#define TANDEMD_API_DAVOBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api-dav.h"
#include "dav-xml.h"
#include "folder.h"

struct _xmlNode;

/* getctag's namespace (Apple's calendarserver extensions). */
#define DAVOBJ_CS_NS "http://calendarserver.org/ns/"

/* status with a DAV:error body holding <D:precondition/> (ns DAV:) or <C:precondition/> (C
   bound to ns), none when NULL, and a text explaining it; a multistatus begun is dropped. */
void davobj_fail(struct dav_req *dr, int status, const char *ns, const char *precondition,
                 const char *message);
/* The same with <D:href>href</D:href> inside the precondition (no-uid-conflict names the
   resource that has the UID). */
void davobj_fail_at(struct dav_req *dr, int status, const char *ns, const char *precondition,
                    const char *href, const char *message);
/* The refusals of a storage call that every protocol answers alike (not found 404,
   forbidden 403 need-privileges, invalid 400 with <C:invalid/> of ns, the rest as the files
   API), and what is not a refusal; a multistatus begun is dropped. */
void davobj_refused(struct dav_req *dr, const struct storage_error *err, const char *ns,
                    const char *invalid);
/* What a CalDAV or CardDAV object's problem (storage_cal_problem, storage_contact_problem)
   answers: status with precondition of ns (NULL: none); status 0 for no such problem. */
struct davobj_problem {
	int status;
	const char *ns, *precondition;
};
/* A failed put or delete of an object: a refusal with a problem of problems[0..count) (indexed
   by the problem) as that says, anything else as davobj_refused(ns, invalid). */
void davobj_storage_failed(struct dav_req *dr, const struct storage_error *err,
                           const struct davobj_problem *problems, size_t count, unsigned problem,
                           const char *ns, const char *invalid);
/* A 207 body begins / is sent. */
void davobj_send_207(struct dav_req *dr);
/* The sync token of a folder at revision, and the revision of a token of that folder: 0,
   or -1 when it is not one this folder gave out ("" is 0: everything). */
const char *davobj_sync_token(struct dav_req *dr, int64_t folder, int64_t revision);
int davobj_sync_parse(struct dav_req *dr, int64_t folder, const char *token, int64_t *since_r);
/* An entity-tag request header without its quotes, or NULL; the ETag answer header. */
const char *davobj_etag_header(struct dav_req *dr, const char *name);
void davobj_etag_out(struct dav_req *dr, const char *etag);

/* Whether a decoded path (or a raw target) is prefix ("/dav/calendars") or below it. */
bool davobj_under(const char *path, const char *prefix);
bool davobj_under_target(struct strv target, const char *prefix);
/* What a path below prefix names: the root (prefix itself), the user's home
   (prefix/<login>/), or something below the home (*rest_r: what follows "<login>/");
   another user's home and what is not under prefix are NONE. */
enum davobj_level { DAVOBJ_NONE, DAVOBJ_ROOT, DAVOBJ_HOME, DAVOBJ_BELOW };
enum davobj_level davobj_level(struct dav_req *dr, const char *path, const char *prefix,
                               const char **rest_r);

/* What follows a collection's segment in a path (rest: from just after the segment): the
   collection itself, one object in it (*name_r, in dr's pool; a trailing slash is
   dropped), or nothing (deeper). */
enum davobj_member { DAVOBJ_MEMBER_NONE, DAVOBJ_MEMBER_COLLECTION, DAVOBJ_MEMBER_OBJECT };
enum davobj_member davobj_member(struct dav_req *dr, const char *rest, const char **name_r);

/* GET or HEAD of an object: 304 with its ETag when If-None-Match names it (or is *), else
   200 with the ETag, type and (not for HEAD) text. */
void davobj_send_object(struct dav_req *dr, const char *etag, const char *type, const char *text,
                        size_t len);
/* A PUT stored: 201 created or 204, with the new ETag. A DELETE done: 204 (etag NULL). */
void davobj_stored(struct dav_req *dr, bool created, const char *etag);
/* OPTIONS: 200 with the DAV and Allow headers. */
void davobj_options(struct dav_req *dr, const char *dav, const char *allow);
/* 405 for a method the resource does not take, with Allow. */
void davobj_not_allowed(struct dav_req *dr, const char *allow);

/* getctag (ns DAVOBJ_CS_NS) or DAV:sync-token, whichever n is, of folder at revision. */
bool davobj_is_revision_prop(const struct dav_prop_name *n);
void davobj_revision_prop(struct dav_req *dr, struct buf *out, const struct dav_prop_name *n,
                          int64_t folder, int64_t revision);
/* <name xmlns=ns><D:href>href</D:href></name> */
void davobj_href_prop(struct buf *out, const char *ns, const char *name, const char *href);
/* DAV:current-user-privilege-set of folder f from its OX bits; extra: more <D:privilege>
   elements every reader has (CalDAV's read-free-busy), or NULL. */
void davobj_privileges(struct buf *out, const struct folder *f, const char *extra);
/* The segment a client created folder under (RFC 4791 §5.3.1, RFC 5689): the dead property
   <segment xmlns=ns/> of the folder (docs/decisions/0015), or NULL. */
#define DAVOBJ_SEGMENT "segment"
const char *davobj_segment(struct storage_user *su, int64_t folder, const char *ns);
/* The folders of the user's home for a module test: their own below the private root, and
   those others share with them. 0, or -1 after answering. */
int davobj_home_folders(struct dav_req *dr, bool (*module)(const struct folder *f),
                        struct folder ***folders_r, size_t *count_r);

/* One <D:response> for href of the properties a PROPFIND asks (allprop: those of allprop),
   each written by prop (false: the resource has none, then in a 404 propstat). */
typedef bool davobj_prop_fn(void *ctx, struct buf *out, const struct dav_prop_name *n);
void davobj_response(struct dav_req *dr, struct buf *out, const struct dav_propfind *req,
                     const struct dav_prop_name *allprop, size_t allprop_count, const char *href,
                     davobj_prop_fn *prop, void *ctx);
bool davobj_is(const struct dav_prop_name *n, const char *ns, const char *name);
/* A PROPFIND's body and Depth: 0 with *req_r and *members_r, or -1 after answering. */
int davobj_propfind_parse(struct dav_req *dr, struct dav_propfind **req_r, bool *members_r);

/* The request's XML body (REPORT, extended MKCOL): the document (the caller frees it), or
   NULL after answering 4xx. */
struct _xmlDoc *davobj_parse_body(struct dav_req *dr);
/* The request path as a collection's href (with its trailing slash). */
const char *davobj_collection_href(struct dav_req *dr);

/* XML of a REPORT body: whether n is the element {ns}name; its first child element {ns}name
   (or NULL); an attribute's value (NULL when absent) / an element's text, copied into pool. */
bool davobj_elem(const struct _xmlNode *n, const char *ns, const char *name);
struct _xmlNode *davobj_child(const struct _xmlNode *parent, const char *ns, const char *name);
const char *davobj_attr(struct pool *pool, struct _xmlNode *n, const char *name);
const char *davobj_content(struct pool *pool, struct _xmlNode *n);

/* A REPORT on one collection, for the format-independent parts. */
struct davobj_report {
	struct dav_req *dr;
	int64_t folder;
	const char *base; /* the collection's href */
	struct buf *out;
	bool data; /* <D:prop> asks for the object's data: answer through by_name */
	void *ctx;
	/* The object named name into the answer (a missing one as 404 when missing404): false
	   when the storage failed (answered). */
	bool (*by_name)(struct davobj_report *r, const char *href, const char *name,
	                bool missing404);
	/* The collection an href names: 1 with *name_r (an object of r->folder), 0 none, -1
	   after answering. */
	int (*resolve)(struct davobj_report *r, const char *path, const char **name_r);
	/* changes since (storage_*_changes): 0, or -1 with err */
	int (*changes)(struct davobj_report *r, int64_t since, json_t **changes_r,
	               struct storage_error *err);
	void (*storage_failed)(struct davobj_report *r, const struct storage_error *err);
};
/* A response with the object's ETag only (sync-collection without data). */
void davobj_etag_response(struct davobj_report *r, const char *name, const char *etag);
/* multiget: every <D:href> of root, 404 for those that name no object of the collection. */
int davobj_multiget(struct davobj_report *r, struct _xmlNode *root);
/* sync-collection (RFC 6578) with counter tokens, deletions as 404s. */
int davobj_sync_collection(struct davobj_report *r, struct _xmlNode *root);
/* The 507 of an answer cut at a limit (the client narrows or asks again). */
void davobj_truncated(struct davobj_report *r);

#endif
