/* SPDX-License-Identifier: MIT */
/* The manager's HTML page: plain forms, no script and no external assets, so it works in any
   browser behind the strict Content-Security-Policy the manager sends. Everything taken from
   the member table is escaped, even fields that validation keeps harmless today. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "http-server.h"
#include "lb-state.h"
#include "manager.h"

static const enum balancer_state states[] = {
    BALANCER_READY, BALANCER_DRAIN, BALANCER_MAINT, BALANCER_DISABLED, BALANCER_STANDBY,
};

void manager__html_escape(struct buf *out, struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		switch (s.ptr[i]) {
		case '&':
			buf_append_lit(out, "&amp;");
			break;
		case '<':
			buf_append_lit(out, "&lt;");
			break;
		case '>':
			buf_append_lit(out, "&gt;");
			break;
		case '"':
			buf_append_lit(out, "&quot;");
			break;
		case '\'':
			buf_append_lit(out, "&#39;");
			break;
		default:
			buf_append_char(out, s.ptr[i]);
		}
	}
}

static void esc(struct buf *out, const char *s)
{
	manager__html_escape(out, strv_from_cstr(s));
}

static void head(struct buf *out, const char *title)
{
	buf_append_lit(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	                    "<meta name=\"viewport\" content=\"width=device-width, "
	                    "initial-scale=1\">\n<title>");
	esc(out, title);
	buf_append_lit(out,
	               "</title>\n<style>\n"
	               "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	               "table{border-collapse:collapse;margin:1em 0}\n"
	               "th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;"
	               "vertical-align:middle}\n"
	               "th{background:#f3f3f3}\n"
	               "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	               ".up{color:#070}.down,.err{color:#b00;font-weight:bold}.note{color:#666}\n"
	               ".done{background:#eef7ee;border:1px solid #9c9;padding:.4em .6em}\n"
	               "form{display:inline;margin:0}\n"
	               "input[type=number]{width:4.5em}\n"
	               "fieldset{display:inline-block;border:1px solid #ccc}\n"
	               "label{margin-right:.8em}\n"
	               "</style>\n</head><body>\n");
}

/* The opening of a form posting to /manager/form with its hidden fields. */
static void form_open(struct buf *out, const char *csrf, const char *action, const char *route)
{
	buf_append_lit(out, "<form method=\"post\" action=\"/manager/form\">"
	                    "<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(out, csrf);
	buf_append_lit(out, "\"><input type=\"hidden\" name=\"action\" value=\"");
	esc(out, action);
	buf_append_lit(out, "\">");
	if (route != NULL) {
		buf_append_lit(out, "<input type=\"hidden\" name=\"route\" value=\"");
		esc(out, route);
		buf_append_lit(out, "\">");
	}
}

static void state_select(struct buf *out, const char *name, enum balancer_state selected,
                         const char *label)
{
	buf_append_lit(out, "<select name=\"");
	esc(out, name);
	buf_append_lit(out, "\" aria-label=\"");
	esc(out, label);
	buf_append_lit(out, "\">");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		buf_append_lit(out, "<option");
		if (states[i] == selected)
			buf_append_lit(out, " selected");
		buf_append_char(out, '>');
		esc(out, balancer_state_name(states[i]));
		buf_append_lit(out, "</option>");
	}
	buf_append_lit(out, "</select>");
}

static void number_cell(struct buf *out, uint64_t v)
{
	buf_append_lit(out, "<td class=\"n\">");
	buf_append_u64(out, v);
	buf_append_lit(out, "</td>");
}

void manager__human_bytes(struct buf *out, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		buf_printf(out, "%" PRIu64 " B", bytes);
		return;
	}
	size_t u = 0;
	uint64_t whole = bytes / 1024, rest = bytes % 1024;
	while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		rest = whole % 1024;
		whole /= 1024;
		u++;
	}
	uint64_t tenth = rest * 10 / 1024; /* rounded down: never shows more than there is */
	buf_printf(out, "%" PRIu64 ".%" PRIu64 " %s", whole, tenth, units[u]);
}

/* Human units, the exact count as the cell's tooltip. */
static void bytes_cell(struct buf *out, uint64_t v)
{
	buf_printf(out, "<td class=\"n\" title=\"%" PRIu64 " bytes\">", v);
	manager__human_bytes(out, v);
	buf_append_lit(out, "</td>");
}

/* "1.2 s" / "3 min" for an age in milliseconds. */
static void age(struct buf *out, uint64_t ms)
{
	if (ms < 60000)
		buf_printf(out, "%" PRIu64 ".%" PRIu64 " s", ms / 1000, ms % 1000 / 100);
	else if (ms < 3600000)
		buf_printf(out, "%" PRIu64 " min", ms / 60000);
	else
		buf_printf(out, "%" PRIu64 " h", ms / 3600000);
}

static void member_row(struct buf *out, const struct manager_page *p,
                       const struct balancer_member_info *info)
{
	char label[BALANCER_ROUTE_MAX + 32];

	buf_append_lit(out, "<tr><td>");
	esc(out, info->route);
	buf_append_lit(out, "</td><td>");
	esc(out, info->address);
	buf_append_lit(out, "</td><td>");
	esc(out, manager__origin(info, p->state));
	buf_append_lit(out, "</td>\n<td>");
	form_open(out, p->csrf, "state", info->route);
	snprintf(label, sizeof(label), "state of %s", info->route);
	state_select(out, "value", info->state, label);
	buf_append_lit(out, " <button>Set</button></form></td><td>");
	esc(out, balancer_state_name(info->effective));
	buf_append_lit(out, "</td><td>");
	if (info->healthy)
		buf_append_lit(out, "<span class=\"up\">up</span>");
	else
		buf_append_lit(out, "<span class=\"down\">down</span>");
	if (info->in_error) {
		buf_append_lit(out, " <span class=\"err\">in error");
		if (info->error_until_ms > p->now_ms) {
			buf_append_lit(out, " for ");
			age(out, info->error_until_ms - p->now_ms);
		}
		buf_append_lit(out, "</span>");
	}
	if (info->draining)
		buf_append_lit(out, " <span class=\"note\">draining</span>");
	buf_append_lit(out, "</td>\n<td>");
	form_open(out, p->csrf, "loadfactor", info->route);
	buf_printf(out,
	           "<input type=\"number\" name=\"value\" min=\"1\" max=\"%d\" value=\"%u\" "
	           "aria-label=\"loadfactor of ",
	           BALANCER_LOADFACTOR_MAX, info->loadfactor);
	esc(out, info->route);
	buf_append_lit(out, "\"> <button>Set</button></form></td>");
	number_cell(out, info->requests);
	number_cell(out, info->in_flight);
	number_cell(out, info->errors);
	bytes_cell(out, info->bytes_in);
	bytes_cell(out, info->bytes_out);
	buf_append_lit(out, "<td>");
	if (info->last_check_ms == 0) {
		buf_append_lit(out, "<span class=\"note\">none yet</span>");
	} else {
		age(out, p->now_ms > info->last_check_ms ? p->now_ms - info->last_check_ms : 0);
		buf_append_lit(out, " ago, ");
		if (info->last_check_ok)
			buf_append_lit(out, "ok");
		else
			buf_append_lit(out, "<span class=\"down\">failed</span>");
	}
	buf_append_lit(out, "</td>\n<td>");
	form_open(out, p->csrf, "remove", info->route);
	buf_append_lit(out, "<button>Remove&hellip;</button></form></td></tr>\n");
}

static const struct balancer_member_info *find(const struct manager_page *p, const char *route)
{
	for (size_t i = 0; i < p->count; i++) {
		if (strcmp(p->members[i].route, route) == 0)
			return &p->members[i];
	}
	return NULL;
}

/* What the last form changed, told from the members as they are now. */
static void done_note(struct buf *out, const struct manager_page *p)
{
	const struct balancer_member_info *m = find(p, p->done_route);
	buf_append_lit(out, "<p class=\"done\" role=\"status\">Done: ");
	esc(out, p->done_route);
	if (strcmp(p->done, "remove") == 0) {
		buf_append_lit(out, " removed");
	} else if (m == NULL) {
		buf_append_lit(out, " changed, and gone meanwhile");
	} else if (strcmp(p->done, "state") == 0) {
		buf_append_lit(out, "&rsquo;s state is now <b>");
		esc(out, balancer_state_name(m->state));
		buf_append_lit(out, "</b>");
	} else if (strcmp(p->done, "loadfactor") == 0) {
		buf_printf(out, "&rsquo;s load factor is now <b>%u</b>", m->loadfactor);
	} else {
		buf_append_lit(out, " added: ");
		esc(out, m->address);
		buf_printf(out, ", load factor %u, state ", m->loadfactor);
		esc(out, balancer_state_name(m->state));
	}
	buf_append_lit(out, ".</p>\n");
}

void manager__html_page(struct buf *out, const struct manager_page *p)
{
	head(out, "tandem-lb balancer manager");
	buf_append_lit(out, "<h1>tandem-lb balancer manager</h1>\n<p>Signed in as <b>");
	esc(out, p->user);
	buf_printf(out,
	           "</b>. %zu member%s. <a href=\"/manager/\">Refresh</a> &middot; JSON: "
	           "<a href=\"/manager/v1/members\">/manager/v1/members</a></p>\n",
	           p->count, p->count == 1 ? "" : "s");
	if (p->done != NULL && p->done_route != NULL)
		done_note(out, p);

	buf_append_lit(out, "<table>\n<thead><tr><th>Route</th><th>Address</th><th>Origin</th>"
	                    "<th>State</th><th>Effective</th><th>Health</th><th>Load factor</th>"
	                    "<th>Requests</th><th>In flight</th><th>Errors</th><th>Bytes in</th>"
	                    "<th>Bytes out</th><th>Last check</th><th></th></tr></thead>\n"
	                    "<tbody>\n");
	for (size_t i = 0; i < p->count; i++)
		member_row(out, p, &p->members[i]);
	if (p->count == 0)
		buf_append_lit(out, "<tr><td colspan=\"14\" class=\"note\">no members</td></tr>\n");
	buf_append_lit(out, "</tbody></table>\n");

	buf_append_lit(out, "<h2>Add a member</h2>\n");
	form_open(out, p->csrf, "add", NULL);
	buf_printf(out,
	           "<fieldset><label>Route <input name=\"route\" required "
	           "pattern=\"[A-Za-z0-9_\\-]{1,%d}\" placeholder=\"OX-3\"></label>"
	           "<label>URL <input name=\"value\" required "
	           "placeholder=\"http://10.0.0.13:8009\"></label>"
	           "<label>Load factor <input type=\"number\" name=\"loadfactor\" min=\"1\" "
	           "max=\"%d\" value=\"50\"></label><label>State ",
	           BALANCER_ROUTE_MAX, BALANCER_LOADFACTOR_MAX);
	state_select(out, "state", BALANCER_READY, "state of the new member");
	buf_append_lit(out, "</label> <button>Add</button></fieldset></form>\n");
	buf_append_lit(out, "<p class=\"note\">Changes take effect at once and are kept in the "
	                    "state file across restarts. States: ready (new sessions and sticky "
	                    "traffic), drain (only sticky traffic), maint (nothing, health checks "
	                    "go on), disabled (nothing, no checks), standby (only while no ready "
	                    "member is usable).</p>\n</body></html>\n");
}

void manager__html_confirm_remove(struct buf *out, const char *csrf,
                                  const struct balancer_member_info *member)
{
	head(out, "Remove a member? - tandem-lb balancer manager");
	buf_append_lit(out, "<h1>Remove member ");
	esc(out, member->route);
	buf_append_lit(out, "?</h1>\n<p>");
	esc(out, member->route);
	buf_append_lit(out, " (");
	esc(out, member->address);
	buf_append_lit(out, ") leaves the balancer at once: no new requests go to it, and its "
	                    "sticky sessions go to the other members. To keep its sessions, set "
	                    "its state to <b>drain</b> instead.</p>\n");
	form_open(out, csrf, "remove", member->route);
	buf_append_lit(out, "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
	                    "<button>Remove ");
	esc(out, member->route);
	buf_append_lit(out, "</button></form> <a href=\"/manager/\">Cancel</a>\n</body></html>\n");
}

void manager__html_error(struct buf *out, int status, const char *code, const char *message)
{
	char title[64];
	snprintf(title, sizeof(title), "%d %s", status, http_status_reason(status));
	head(out, title);
	buf_append_lit(out, "<h1>");
	esc(out, title);
	buf_append_lit(out, "</h1>\n<p><code>");
	esc(out, code);
	buf_append_lit(out, "</code>: ");
	esc(out, message);
	buf_append_lit(out, "</p>\n<p><a href=\"/manager/\">Back to the manager</a></p>\n"
	                    "</body></html>\n");
}
