/* SPDX-License-Identifier: MIT */
/* MKCALENDAR / extended MKCOL create a calendar or tasks folder below the user's private root
   (supported-calendar-component-set decides which), titled by displayname; the segment the
   client chose is kept as a dead property of the folder and resolves for its owner beside
   the folder id. calendar-description, calendar-color, calendar-timezone and other dead
   properties are the folder's dead properties (storage-props.h: the folder's admin flag);
   displayname is its title (docs/internals/calendar.md "CalDAV",
   docs/decisions/0015-caldav-collection-names.md). */
#include <string.h>

#include <libxml/tree.h>

#include "api-caldav-collection.h"
#include "dav-multistatus.h"
#include "http-server.h"
#include "pool.h"
#include "storage-folder.h"
#include "storage-props.h"

#define SEGMENT_MAX 200

static const struct dav_prop_name segment_name = {CALDAV_COLLECTION_NS, CALDAV_COLLECTION_SEGMENT};

static bool module_is_calendar(const struct folder *f)
{
	return f->module != NULL &&
	       (strcmp(f->module, "calendar") == 0 || strcmp(f->module, "tasks") == 0);
}

/* NULL when s may name a collection: 1-200 of A-Z a-z 0-9 . _ ~ @ + -, not only digits
   (those are folder ids), not "." or "..". */
static const char *check_segment(const char *s)
{
	size_t n = strlen(s);
	bool digits = true;
	if (n == 0 || n > SEGMENT_MAX)
		return "a calendar's name in its URL is 1 to 200 characters";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "a calendar's name in its URL is not . or ..";
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && strchr("._~@+-", c) == NULL)
			return "a calendar's name in its URL holds only letters, digits and . _ ~ "
			       "@ + -";
		digits = digits && c >= '0' && c <= '9';
	}
	return digits ? "names of digits only are folder ids: choose another name" : NULL;
}

static const char *stored_segment(struct dav_req *dr, int64_t folder)
{
	return davobj_segment(dr->su, folder, CALDAV_COLLECTION_NS);
}

int caldav_collection_lookup(struct dav_req *dr, const char *segment, struct folder **folder_r)
{
	struct folder **own;
	size_t n;
	struct folder_error fe;
	struct storage_error err;
	*folder_r = NULL;
	if (check_segment(segment) != NULL)
		return 0;
	if (storage_folder_list(dr->su, FOLDER_ID_PRIVATE, &own, &n, &fe, &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!module_is_calendar(own[i]) || own[i]->owner != dr->user.uid)
			continue;
		const char *s = stored_segment(dr, own[i]->id);
		if (s != NULL && strcmp(s, segment) == 0) {
			*folder_r = own[i];
			return 0;
		}
	}
	return 0;
}

const char *caldav_collection_href(struct dav_req *dr, const struct folder *f)
{
	const char *s = f->owner == dr->user.uid ? stored_segment(dr, f->id) : NULL;
	if (s == NULL)
		return caldav_folder_href(dr, f->id);
	return pool_printf(dr->pool, "%s%s/%s/", CALDAV_HOME, dr->user.login, s);
}

static bool is(const struct dav_prop_name *n, const char *ns, const char *name)
{
	return strcmp(n->ns, ns) == 0 && strcmp(n->name, name) == 0;
}

/* Whether a property is a dead one of the collection (kept as the client sent it). */
static bool settable(const struct dav_prop_name *n)
{
	if (is(n, CALDAV_NS, "calendar-description") || is(n, CALDAV_NS, "calendar-timezone"))
		return true;
	return strcmp(n->ns, DAV_NS) != 0 && strcmp(n->ns, CALDAV_NS) != 0 &&
	       strcmp(n->ns, DAVOBJ_CS_NS) != 0 && strcmp(n->ns, CALDAV_COLLECTION_NS) != 0;
}

bool caldav_collection_stored_prop(struct dav_req *dr, const struct folder *f,
                                   const struct dav_prop_name *name, struct buf *out)
{
	struct dav_prop *props;
	size_t n;
	struct storage_error err;
	if (!settable(name) || /* only those are stored: the others cost no read */
	    storage_props_get(dr->su, DAV_PROPS_FOLDER, f->id,
	                      &(struct dav_prop){name->ns, name->name, NULL}, 1, &props, &n,
	                      &err) < 0 ||
	    n == 0)
		return false;
	dav_ms_prop_raw(out, strv_from_cstr(props[0].value));
	return true;
}

/* ----------------------------------------------------------------------- what may be set */

/* NULL when patch p may be applied, else why not. */
static const char *check_patch(const struct dav_patch *p)
{
	if (is(&p->name, CALDAV_NS, "calendar-timezone") && p->op == DAV_PATCH_SET &&
	    (strstr(p->text, "BEGIN:VCALENDAR") == NULL ||
	     strstr(p->text, "BEGIN:VTIMEZONE") == NULL))
		return "calendar-timezone is an iCalendar object holding one VTIMEZONE";
	if (is(&p->name, DAV_NS, "displayname") && p->op == DAV_PATCH_SET && p->text[0] == '\0')
		return "a calendar's displayname is not empty";
	return NULL;
}

/* Whether the property fragment p holds a child element {ns}name (with name="value" when
   value is not NULL). */
static bool holds(struct dav_req *dr, const struct dav_patch *p, const char *ns, const char *name,
                  const char *value)
{
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	xmlDocPtr doc =
	    dav_xml_parse_doc(dr->pool, strv_make(p->xml, p->xml_len), &limits, &status, &error);
	bool found = false;
	if (doc == NULL)
		return false;
	for (xmlNode *c = xmlDocGetRootElement(doc)->children; c != NULL && !found; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
		    strcmp((const char *)c->ns->href, ns) != 0 ||
		    strcmp((const char *)c->name, name) != 0)
			continue;
		xmlChar *v = value != NULL ? xmlGetProp(c, (const xmlChar *)"name") : NULL;
		found = value == NULL || (v != NULL && strcmp((const char *)v, value) == 0);
		xmlFree(v);
	}
	xmlFreeDoc(doc);
	return found;
}

/* The module supported-calendar-component-set p asks for ("calendar", "tasks"), or NULL when
   it names neither VEVENT nor VTODO. */
static const char *module_of(struct dav_req *dr, const struct dav_patch *p)
{
	if (holds(dr, p, CALDAV_NS, "comp", "VEVENT"))
		return "calendar"; /* VEVENT with VTODO: a calendar, its tasks are refused */
	return holds(dr, p, CALDAV_NS, "comp", "VTODO") ? "tasks" : NULL;
}

/* ---------------------------------------------------------------------------- MKCALENDAR */

/* The segment of /dav/calendars/<login>/<segment>[/], or NULL. */
static const char *path_segment(struct dav_req *dr)
{
	const char *home = pool_printf(dr->pool, "%s%s/", CALDAV_HOME, dr->user.login);
	size_t n = strlen(home);
	if (strncmp(dr->path, home, n) != 0)
		return NULL;
	const char *s = dr->path + n;
	size_t l = strcspn(s, "/");
	if (l == 0 || (s[l] == '/' && s[l + 1] != '\0'))
		return NULL;
	return pool_strndup(dr->pool, s, l);
}

void caldav_collection_create(struct dav_req *dr, const struct caldav_res *res)
{
	bool mkcol = strv_eq_cstr(http_request_head(dr->req)->method, "MKCOL");
	const char *segment = path_segment(dr), *error = NULL, *module = "calendar";
	if (res->kind == CALDAV_CALENDAR || res->kind == CALDAV_HOME_SET ||
	    res->kind == CALDAV_ROOT) {
		davobj_fail(dr, 405, DAV_NS, "resource-must-be-null", "something is there already");
		return;
	}
	if (segment == NULL || (error = check_segment(segment)) != NULL) {
		davobj_fail(dr, 403, CALDAV_NS, "calendar-collection-location-ok",
		            error != NULL ? error
		                          : "calendars are made directly in the calendar home "
		                            "/dav/calendars/<login>/<name>/");
		return;
	}
	struct dav_proppatch *pp;
	int status;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (dav_xml_parse_mkcol(dr->pool, dav_body(dr), &limits, &pp, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	const char *title = segment;
	bool calendar_type = !mkcol;
	struct dav_prop *ops = pool_calloc(dr->pool, pp->count + 1, sizeof(*ops));
	size_t nops = 0;
	ops[nops++] = (struct dav_prop){segment_name.ns, segment_name.name, segment};
	for (size_t i = 0; i < pp->count; i++) {
		const struct dav_patch *p = &pp->patches[i];
		if ((error = check_patch(p)) != NULL) {
			bool tz = is(&p->name, CALDAV_NS, "calendar-timezone");
			davobj_fail(dr, 403, tz ? CALDAV_NS : DAV_NS,
			            tz ? "valid-calendar-data" : NULL, error);
			return;
		}
		if (is(&p->name, DAV_NS, "displayname")) {
			title = p->text;
		} else if (is(&p->name, DAV_NS, "resourcetype")) {
			calendar_type = holds(dr, p, CALDAV_NS, "calendar", NULL);
		} else if (is(&p->name, CALDAV_NS, "supported-calendar-component-set")) {
			if ((module = module_of(dr, p)) == NULL) {
				davobj_fail(
				    dr, 403, CALDAV_NS, "supported-calendar-component",
				    "a collection here holds VEVENT (a calendar) or VTODO (a "
				    "tasks folder)");
				return;
			}
		} else if (settable(&p->name)) {
			ops[nops++] = (struct dav_prop){p->name.ns, p->name.name,
			                                pool_strndup(dr->pool, p->xml, p->xml_len)};
		} else {
			davobj_fail(dr, 403, DAV_NS, "cannot-modify-protected-property",
			            pool_printf(dr->pool, "{%s}%s cannot be set", p->name.ns,
			                        p->name.name));
			return;
		}
	}
	if (!calendar_type) {
		davobj_fail(dr, 403, DAV_NS, "valid-resourcetype",
		            "only calendar collections are made here: resourcetype holds "
		            "<C:calendar/>");
		return;
	}
	struct folder *f, *same;
	struct folder_error fe;
	struct storage_error err;
	if (caldav_collection_lookup(dr, segment, &same) < 0)
		return;
	if (same != NULL) {
		davobj_fail(dr, 405, DAV_NS, "resource-must-be-null", "something is there already");
		return;
	}
	if (storage_folder_create(dr->su, FOLDER_ID_PRIVATE, title, module, NULL, &f, &fe, &err) <
	    0) {
		if (err.status == STORAGE_REFUSED && fe.status == FOLDER_CONFLICT)
			davobj_fail(dr, 409, DAV_NS, NULL,
			            pool_printf(dr->pool,
			                        "a folder named \"%s\" exists already: "
			                        "choose another displayname",
			                        title));
		else
			dav_folder_failed(dr, &fe, &err);
		return;
	}
	size_t failed;
	if (storage_props_patch(dr->su, DAV_PROPS_FOLDER, f->id, ops, nops, &failed, &err) < 0) {
		struct storage_error undo;
		(void)storage_folder_delete(dr->su, f->id, &fe, &undo); /* all or nothing */
		dav_storage_failed(dr, &err);
		return;
	}
	http_response_status(dr->req, 201);
	http_response_header(dr->req, "Cache-Control", "no-cache");
	http_response_send(dr->req);
}

/* ----------------------------------------------------------------------- PROPPATCH, DELETE */

void caldav_collection_proppatch(struct dav_req *dr, const struct caldav_res *res)
{
	struct dav_proppatch *pp;
	int status;
	const char *error;
	const struct dav_xml_limits limits = {.max_size = DAV_XML_MAX_SIZE};
	if (res->kind != CALDAV_CALENDAR) {
		dav_fail(dr, 403, NULL, "DAV-0403", "%s has no properties to change", dr->path);
		return;
	}
	if (dav_xml_parse_proppatch(dr->pool, dav_body(dr), &limits, &pp, &status, &error) < 0) {
		dav_fail(dr, status, NULL, "DAV-0400", "%s", error);
		return;
	}
	struct folder *f = res->folder;
	if (!f->rights.admin) {
		davobj_fail(dr, 403, DAV_NS, "need-privileges",
		            "a calendar's properties are changed by its owner or an administrator "
		            "of the folder");
		return;
	}
	const char *title = NULL;
	struct dav_prop *ops = pool_calloc(dr->pool, pp->count + 1, sizeof(*ops));
	size_t nops = 0, *index = pool_calloc(dr->pool, pp->count + 1, sizeof(*index));
	for (size_t i = 0; i < pp->count; i++) {
		const struct dav_patch *p = &pp->patches[i];
		bool name = is(&p->name, DAV_NS, "displayname");
		if ((!name && !settable(&p->name)) || (name && p->op == DAV_PATCH_REMOVE)) {
			dav_proppatch_answer(dr, pp, i, 403, "cannot-modify-protected-property");
			return;
		}
		if (check_patch(p) != NULL) {
			dav_proppatch_answer(dr, pp, i, 409, NULL);
			return;
		}
		if (name) {
			title = p->text;
			continue;
		}
		index[nops] = i;
		ops[nops++] = (struct dav_prop){
		    p->name.ns, p->name.name,
		    p->op == DAV_PATCH_SET ? pool_strndup(dr->pool, p->xml, p->xml_len) : NULL};
	}
	struct folder_error fe;
	struct storage_error err;
	const char *old = f->title;
	struct storage_folder_update up = {.change = {.title = title}};
	struct folder *changed;
	if (title != NULL && storage_folder_update(dr->su, f->id, &up, &changed, &fe, &err) < 0) {
		if (err.status == STORAGE_REFUSED && fe.status == FOLDER_CONFLICT) {
			for (size_t i = 0; i < pp->count; i++)
				if (is(&pp->patches[i].name, DAV_NS, "displayname")) {
					dav_proppatch_answer(dr, pp, i, 409, NULL);
					break;
				}
			return;
		}
		dav_folder_failed(dr, &fe, &err);
		return;
	}
	size_t failed = nops;
	if (nops > 0 &&
	    storage_props_patch(dr->su, DAV_PROPS_FOLDER, f->id, ops, nops, &failed, &err) < 0) {
		if (title != NULL) { /* all or nothing: the title goes back */
			up.change.title = old;
			struct storage_error undo;
			(void)storage_folder_update(dr->su, f->id, &up, &changed, &fe, &undo);
		}
		if (err.status != STORAGE_REFUSED || failed >= nops)
			dav_storage_failed(dr, &err);
		else
			dav_proppatch_answer(dr, pp, index[failed], 403, NULL);
		return;
	}
	dav_proppatch_answer(dr, pp, pp->count, 200, NULL);
}

void caldav_collection_delete(struct dav_req *dr, const struct caldav_res *res)
{
	struct folder_error fe;
	struct storage_error err;
	if (storage_folder_delete(dr->su, res->folder->id, &fe, &err) < 0) {
		dav_folder_failed(dr, &fe, &err);
		return;
	}
	http_response_status(dr->req, 204);
	http_response_send(dr->req);
}
