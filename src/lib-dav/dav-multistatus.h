/* SPDX-License-Identifier: MIT */
/* The XML of WebDAV answers: a 207 multistatus body written piece by piece (RFC 4918 §13,
   §14.16), and DAV:error bodies with precondition elements (§16). */
#ifndef TANDEM_DAV_MULTISTATUS_H
#define TANDEM_DAV_MULTISTATUS_H

#include <stddef.h>

#include "buf.h"
#include "strv.h"

/* Everything here appends to a struct buf and never buffers on its own: a streamed answer
   (dav-stream.h) hands each piece to the connection while the next is being written. The
   DAV: namespace is bound to the prefix "D" on the root element; other namespaces are
   declared on the element that uses them. The caller nests the calls as the XML nests:

     dav_ms_begin
       dav_ms_response_begin(href)
         dav_ms_propstat_begin; dav_ms_prop_*…; dav_ms_propstat_end(status)   (repeat)
       dav_ms_response_end
       dav_ms_response_status(href, status, precondition)                      (whole)
     dav_ms_end                                                                        */

/* <?xml …?><D:multistatus xmlns:D="DAV:"> */
void dav_ms_begin(struct buf *out);
/* <D:response><D:href>path</D:href>; path is a decoded absolute path ("/dav/files/a b/"),
   written percent-encoded (dav_href_append). */
void dav_ms_response_begin(struct buf *out, const char *path);
void dav_ms_propstat_begin(struct buf *out);
/* A property element as stored (e.g. a dead property's struct dav_patch xml): trusted to be
   one well-formed element that declares its own namespaces. */
void dav_ms_prop_raw(struct buf *out, struct strv xml);
/* <name xmlns="ns">text</name> (<D:name> for DAV:), the text escaped; ns "" = none. */
void dav_ms_prop_text(struct buf *out, const char *ns, const char *name, struct strv text);
/* <name xmlns="ns"/>: a name alone (propname, a 404 group) */
void dav_ms_prop_empty(struct buf *out, const char *ns, const char *name);
/* An element of DAV: holding raw XML children (resourcetype, lockdiscovery, …). */
void dav_ms_prop_dav_begin(struct buf *out, const char *name);
void dav_ms_prop_dav_end(struct buf *out, const char *name);
/* </D:prop><D:status>HTTP/1.1 status reason</D:status></D:propstat> */
void dav_ms_propstat_end(struct buf *out, int status);
void dav_ms_response_end(struct buf *out);
/* A whole response with a status and no properties, and optionally a precondition
   (precondition = a DAV: element name such as "lock-token-submitted", NULL = none). */
void dav_ms_response_status(struct buf *out, const char *path, int status,
                            const char *precondition);
/* </D:multistatus> */
void dav_ms_end(struct buf *out);

/* A whole error body: <?xml …?><D:error xmlns:D="DAV:"><D:precondition/></D:error>, e.g.
   "propfind-finite-depth" for a refused Depth: infinity (RFC 4918 §9.1, 403). */
void dav_error_body(struct buf *out, const char *precondition);

/* path percent-encoded per segment (RFC 3986 pchar, minus "&"), which also makes it safe in
   XML text: unreserved characters, sub-delims but "&", ":", "@" and "/" stay, every other
   byte (UTF-8 included) becomes %XX. */
void dav_href_append(struct buf *out, const char *path);
/* text with &, <, > and " escaped, and control characters XML 1.0 cannot carry dropped. */
void dav_xml_text_append(struct buf *out, struct strv text);

#endif
