/* SPDX-License-Identifier: MIT */
/* Unit tests for the WebDAV request body parsers: hostile bodies, limits, namespaces,
   property values kept exactly. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "dav-xml.h"
#include "pool.h"
#include "test.h"

static const struct dav_xml_limits limits = {.max_size = 64 * 1024, .max_depth = 0};
static struct pool *pool;

/* The status a PROPFIND body gets (0 when accepted); error_r gets the message. */
static int propfind_status(const char *body, struct dav_propfind **pf_r, const char **error_r)
{
	int status = 0;
	*error_r = NULL;
	if (dav_xml_parse_propfind(pool, strv_from_cstr(body), &limits, pf_r, &status, error_r) ==
	    0)
		return 0;
	test_assert(status != 0 && *error_r != NULL);
	return status;
}

static void test_propfind_forms(void)
{
	struct dav_propfind *pf = NULL;
	const char *error;
	pool = pool_create(0);
	test_assert_int_eq(propfind_status("", &pf, &error), 0);
	test_assert_int_eq(pf->kind, DAV_PROPFIND_ALLPROP);
	test_assert_int_eq(pf->count, 0);
	test_assert_int_eq(propfind_status(" \r\n\t", &pf, &error), 0);
	test_assert_int_eq(pf->kind, DAV_PROPFIND_ALLPROP);

	/* odd prefixes, a default namespace, a property in no namespace */
	test_assert_int_eq(propfind_status("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                                   "<Q:propfind xmlns:Q=\"DAV:\" xmlns:D=\"urn:not-dav\">"
	                                   "<Q:prop><D:getetag/><Q:getetag/>"
	                                   "<x xmlns=\"http://ex.com/\">ignored</x><bare/>"
	                                   "</Q:prop></Q:propfind>",
	                                   &pf, &error),
	                   0);
	test_assert_int_eq(pf->kind, DAV_PROPFIND_PROP);
	test_assert_int_eq(pf->count, 4);
	if (pf->count == 4) {
		test_assert_str_eq(pf->names[0].ns, "urn:not-dav");
		test_assert_str_eq(pf->names[0].name, "getetag");
		test_assert_str_eq(pf->names[1].ns, "DAV:");
		test_assert_str_eq(pf->names[2].ns, "http://ex.com/");
		test_assert_str_eq(pf->names[2].name, "x");
		test_assert_str_eq(pf->names[3].ns, "");
		test_assert_str_eq(pf->names[3].name, "bare");
	}
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><propname/></propfind>", &pf, &error), 0);
	test_assert_int_eq(pf->kind, DAV_PROPFIND_PROPNAME);
	test_assert_int_eq(propfind_status("<propfind xmlns=\"DAV:\"><allprop/><include>"
	                                   "<supported-live-property-set/><C:x xmlns:C=\"urn:c\"/>"
	                                   "</include><unknown-ext/></propfind>",
	                                   &pf, &error),
	                   0);
	test_assert_int_eq(pf->kind, DAV_PROPFIND_ALLPROP);
	test_assert_int_eq(pf->count, 2);
	if (pf->count == 2)
		test_assert_str_eq(pf->names[1].ns, "urn:c");

	/* well-formed but not a PROPFIND the RFC allows: 422 */
	test_assert_int_eq(
	    propfind_status("<propfind><prop><getetag/></prop></propfind>", &pf, &error), 422);
	test_assert(strstr(error, "{}propfind") != NULL);
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><allprop/><prop/></propfind>", &pf, &error),
	    422);
	test_assert_int_eq(propfind_status("<propfind xmlns=\"DAV:\"/>", &pf, &error), 422);
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><prop/><include/></propfind>", &pf, &error),
	    422);
	pool_destroy(&pool);
}

static void test_malformed(void)
{
	struct dav_propfind *pf;
	const char *error;
	pool = pool_create(0);
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><prop></propfind>", &pf, &error), 400);
	test_assert(strstr(error, "malformed XML body (line 1)") != NULL);
	test_assert_int_eq(propfind_status("garbage", &pf, &error), 400);
	/* namespace errors are malformed too: an undeclared prefix, an empty prefixed binding */
	test_assert_int_eq(propfind_status("<D:propfind><D:allprop/></D:propfind>", &pf, &error),
	                   400);
	test_assert_int_eq(propfind_status("<propfind xmlns=\"DAV:\" xmlns:e=\"\"><allprop/>"
	                                   "</propfind>",
	                                   &pf, &error),
	                   400);
	/* two roots, text after the root */
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><allprop/></propfind><a/>", &pf, &error),
	    400);
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><allprop/></propfind>x", &pf, &error), 400);
	/* an undefined entity (there is no DTD to define any) */
	test_assert_int_eq(
	    propfind_status("<propfind xmlns=\"DAV:\"><prop>&ent;</prop></propfind>", &pf, &error),
	    400);
	pool_destroy(&pool);
}

static void test_hostile(void)
{
	static const char *const bodies[] = {
	    /* billion laughs */
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "]>\n<propfind xmlns=\"DAV:\"><prop><x>&lol4;</x></prop></propfind>",
	    /* external entity */
	    "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
	    "<propfind xmlns=\"DAV:\"><prop><x>&xxe;</x></prop></propfind>",
	    /* external DTD over the network, parameter entities */
	    "<!DOCTYPE propfind SYSTEM \"http://127.0.0.1:1/evil.dtd\"><propfind xmlns=\"DAV:\">"
	    "<allprop/></propfind>",
	    "<!DOCTYPE p [<!ENTITY % pe SYSTEM \"file:///etc/passwd\"> %pe;]><p/>",
	    /* a harmless DOCTYPE is refused all the same */
	    "<!DOCTYPE propfind><propfind xmlns=\"DAV:\"><allprop/></propfind>",
	};
	pool = pool_create(0);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct dav_propfind *pf;
		struct dav_proppatch *pp;
		struct dav_lockinfo *li;
		const char *error = NULL;
		int status = 0;
		char ctx[32];
		snprintf(ctx, sizeof(ctx), "body %zu", i);
		test_set_context(ctx);
		test_assert_int_eq(propfind_status(bodies[i], &pf, &error), 400);
		test_assert(error != NULL && strstr(error, "DOCTYPE") != NULL);
		struct strv b = strv_from_cstr(bodies[i]);
		test_assert_int_eq(dav_xml_parse_proppatch(pool, b, &limits, &pp, &status, &error),
		                   -1);
		test_assert_int_eq(status, 400);
		test_assert_int_eq(dav_xml_parse_lockinfo(pool, b, &limits, &li, &status, &error),
		                   -1);
		test_assert_int_eq(status, 400);
	}
	test_set_context(NULL);
	/* the refusal costs no more than the bytes read */
	test_assert(pool_used(pool) < 16 * 1024);
	pool_destroy(&pool);
}

/* <propfind><prop><a><a>…: depth elements in all. */
static void nested(struct buf *b, unsigned depth)
{
	buf_reset(b);
	buf_append_lit(b, "<propfind xmlns=\"DAV:\"><prop>");
	for (unsigned i = 2; i < depth; i++)
		buf_append_lit(b, "<a>");
	for (unsigned i = 2; i < depth; i++)
		buf_append_lit(b, "</a>");
	buf_append_lit(b, "</prop></propfind>");
}

static void test_limits(void)
{
	struct dav_propfind *pf;
	const char *error;
	struct buf b;
	int status;
	pool = pool_create(0);
	buf_init(&b, 1024 * 1024);
	nested(&b, DAV_XML_DEFAULT_MAX_DEPTH);
	test_assert_int_eq(propfind_status(b.data, &pf, &error), 0);
	nested(&b, DAV_XML_DEFAULT_MAX_DEPTH + 1);
	test_assert_int_eq(propfind_status(b.data, &pf, &error), 400);
	test_assert(strstr(error, "too deeply") != NULL);
	nested(&b, 5000);
	test_assert_int_eq(propfind_status(b.data, &pf, &error), 400);

	const struct dav_xml_limits small = {.max_size = 100, .max_depth = 3};
	nested(&b, 3);
	test_assert_int_eq(dav_xml_parse_propfind(pool, buf_strv(&b), &small, &pf, &status, &error),
	                   0);
	nested(&b, 4);
	test_assert_int_eq(dav_xml_parse_propfind(pool, buf_strv(&b), &small, &pf, &status, &error),
	                   -1);
	test_assert_int_eq(status, 400);
	buf_reset(&b);
	buf_append_lit(&b, "<propfind xmlns=\"DAV:\"><prop>");
	while (b.len <= 100)
		buf_append_lit(&b, "<getetag/>");
	buf_append_lit(&b, "</prop></propfind>");
	test_assert_int_eq(dav_xml_parse_propfind(pool, buf_strv(&b), &small, &pf, &status, &error),
	                   -1);
	test_assert_int_eq(status, 413);
	test_assert(strstr(error, "more than the 100 allowed") != NULL);
	buf_free(&b);
	pool_destroy(&pool);
}

static struct dav_proppatch *proppatch(const char *body)
{
	struct dav_proppatch *pp = NULL;
	const char *error = NULL;
	int status = 0;
	if (dav_xml_parse_proppatch(pool, strv_from_cstr(body), &limits, &pp, &status, &error) <
	    0) {
		test__fail(__FILE__, __LINE__, error);
		return NULL;
	}
	return pp;
}

static void test_proppatch(void)
{
	pool = pool_create(0);
	/* RFC 4918 §9.2.2, with an inherited xml:lang, a default namespace and an attribute */
	struct dav_proppatch *pp = proppatch(
	    "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
	    "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:unused=\"urn:u\"\n"
	    "    xmlns:Z=\"http://ns.example.com/standards/z39.50/\" xml:lang=\"en\">\n"
	    "  <D:set><D:prop>\n"
	    "    <Z:Authors><Z:Author>Jim &amp; Roy &lt;x&gt;</Z:Author>\n"
	    "      <Z:Author xml:lang=\"de\">Jürgen</Z:Author></Z:Authors>\n"
	    "    <t xmlns=\"urn:t\" a=\"1 &quot;q&quot;\"><![CDATA[<raw>]]><u/></t>\n"
	    "  </D:prop></D:set>\n"
	    "  <D:remove><D:prop><Z:Copyright-Owner/></D:prop></D:remove>\n"
	    "  <D:set><D:prop><Z:Authors xml:lang=\"fr\"/><plain>v</plain></D:prop></D:set>\n"
	    "</D:propertyupdate>");
	test_assert(pp != NULL);
	if (pp == NULL)
		goto out;
	test_assert_int_eq(pp->count, 5);
	if (pp->count != 5)
		goto out;
	test_assert_int_eq(pp->patches[0].op, DAV_PATCH_SET);
	test_assert_str_eq(pp->patches[0].name.ns, "http://ns.example.com/standards/z39.50/");
	test_assert_str_eq(pp->patches[0].name.name, "Authors");
	test_assert_str_eq(pp->patches[0].lang, "en");
	test_assert_str_eq(pp->patches[0].xml,
	                   "<Z:Authors xmlns:Z=\"http://ns.example.com/standards/z39.50/\" "
	                   "xml:lang=\"en\"><Z:Author>Jim &amp; Roy &lt;x&gt;</Z:Author>\n"
	                   "      <Z:Author xml:lang=\"de\">Jürgen</Z:Author></Z:Authors>");
	test_assert_int_eq(pp->patches[0].xml_len, strlen(pp->patches[0].xml));
	test_assert_str_eq(pp->patches[1].name.ns, "urn:t");
	test_assert_str_eq(pp->patches[1].xml, "<t xmlns=\"urn:t\" a=\"1 &quot;q&quot;\" "
	                                       "xml:lang=\"en\"><![CDATA[<raw>]]><u/></t>");
	test_assert_int_eq(pp->patches[2].op, DAV_PATCH_REMOVE);
	test_assert_str_eq(pp->patches[2].name.name, "Copyright-Owner");
	test_assert(pp->patches[2].xml == NULL);
	test_assert_str_eq(pp->patches[3].lang, "fr");
	test_assert_str_eq(pp->patches[3].xml,
	                   "<Z:Authors xmlns:Z=\"http://ns.example.com/standards/z39.50/\" "
	                   "xml:lang=\"fr\"/>");
	test_assert_str_eq(pp->patches[4].name.ns, "");
	test_assert_str_eq(pp->patches[4].xml, "<plain xmlns=\"\" xml:lang=\"en\">v</plain>");

	/* a stored value sent back in another request comes out the same again */
	for (size_t i = 0; i < pp->count; i++) {
		const char *xml = pp->patches[i].xml;
		if (xml == NULL)
			continue;
		char *again =
		    pool_printf(pool,
		                "<propertyupdate xmlns=\"DAV:\"><set><prop>%s</prop></set>"
		                "</propertyupdate>",
		                xml);
		struct dav_proppatch *pp2 = proppatch(again);
		test_assert(pp2 != NULL && pp2->count == 1);
		if (pp2 != NULL && pp2->count == 1) {
			test_assert_str_eq(pp2->patches[0].xml, xml);
			test_assert_str_eq(pp2->patches[0].name.ns, pp->patches[i].name.ns);
		}
	}

	int status;
	const char *error;
	struct strv empty = STRV_LIT("");
	test_assert_int_eq(dav_xml_parse_proppatch(pool, empty, &limits, &pp, &status, &error), -1);
	test_assert_int_eq(status, 422);
	struct strv noop = STRV_LIT("<propertyupdate xmlns=\"DAV:\"/>");
	test_assert_int_eq(dav_xml_parse_proppatch(pool, noop, &limits, &pp, &status, &error), -1);
	test_assert_int_eq(status, 422);
	struct strv noprop = STRV_LIT("<propertyupdate xmlns=\"DAV:\"><set/></propertyupdate>");
	test_assert_int_eq(dav_xml_parse_proppatch(pool, noprop, &limits, &pp, &status, &error),
	                   -1);
	test_assert_int_eq(status, 422);
	test_assert_str_eq(error, "DAV:set without DAV:prop");
out:
	pool_destroy(&pool);
}

static int lockinfo(const char *body, struct dav_lockinfo **li_r, const char **error_r)
{
	int status = 0;
	if (dav_xml_parse_lockinfo(pool, strv_from_cstr(body), &limits, li_r, &status, error_r) ==
	    0)
		return 0;
	return status;
}

static void test_lockinfo(void)
{
	struct dav_lockinfo *li = NULL;
	const char *error;
	pool = pool_create(0);
	test_assert_int_eq(lockinfo("", &li, &error), 0);
	test_assert(li->refresh);
	test_assert_int_eq(lockinfo("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
	                            "<D:lockinfo xmlns:D='DAV:'>\n"
	                            "  <D:lockscope><D:exclusive/></D:lockscope>\n"
	                            "  <D:locktype><D:write/></D:locktype>\n"
	                            "  <D:owner>\n"
	                            "    <D:href>http://example.org/~ejw/contact.html</D:href>\n"
	                            "  </D:owner>\n"
	                            "</D:lockinfo>",
	                            &li, &error),
	                   0);
	test_assert(!li->refresh);
	test_assert_int_eq(li->scope, DAV_LOCK_EXCLUSIVE);
	test_assert_str_eq(li->owner_xml,
	                   "<D:owner xmlns:D=\"DAV:\">\n"
	                   "    <D:href>http://example.org/~ejw/contact.html</D:href>\n"
	                   "  </D:owner>");
	test_assert_int_eq(lockinfo("<lockinfo xmlns=\"DAV:\"><locktype><write/></locktype>"
	                            "<lockscope><shared/></lockscope></lockinfo>",
	                            &li, &error),
	                   0);
	test_assert_int_eq(li->scope, DAV_LOCK_SHARED);
	test_assert(li->owner_xml == NULL);
	test_assert_int_eq(lockinfo("<lockinfo xmlns=\"DAV:\"><locktype><write/></locktype>"
	                            "</lockinfo>",
	                            &li, &error),
	                   422);
	test_assert_str_eq(error, "DAV:lockinfo has no DAV:lockscope");
	test_assert_int_eq(lockinfo("<lockinfo xmlns=\"DAV:\"><lockscope><exclusive/><shared/>"
	                            "</lockscope><locktype><write/></locktype></lockinfo>",
	                            &li, &error),
	                   422);
	test_assert_int_eq(lockinfo("<lockinfo xmlns=\"DAV:\"><lockscope><exclusive/></lockscope>"
	                            "<locktype><read xmlns=\"urn:x\"/></locktype></lockinfo>",
	                            &li, &error),
	                   422);
	test_assert_int_eq(lockinfo("<lockinfo xmlns=\"DAV:\"><lockscope>", &li, &error), 400);
	pool_destroy(&pool);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"propfind forms", test_propfind_forms},
	    {"malformed bodies", test_malformed},
	    {"hostile bodies", test_hostile},
	    {"size and depth limits", test_limits},
	    {"proppatch values", test_proppatch},
	    {"lockinfo", test_lockinfo},
	    {NULL, NULL},
	};
	return test_run(cases);
}
