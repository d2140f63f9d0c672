/* SPDX-License-Identifier: MIT */
/* Unit tests for the If header: the RFC 4918 §10.4 examples, bad grammar, evaluation. */
#include <stdio.h>
#include <string.h>

#include "dav-if.h"
#include "pool.h"
#include "test.h"

#define TOKEN_A "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
#define TOKEN_B "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092"

static struct pool *pool;

/* The parsed header written back in a canonical form: "<tag> (Not <t> [e]) …". */
static const char *canonical(const char *header)
{
	static char out[1024];
	struct dav_if *h;
	const char *error;
	if (dav_if_parse(pool, strv_from_cstr(header), &h, &error) < 0) {
		snprintf(out, sizeof(out), "error: %s", error);
		return out;
	}
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < h->count; i++) {
		const struct dav_if_list *l = &h->lists[i];
		if (l->resource.ptr != NULL &&
		    (i == 0 || h->lists[i - 1].resource.ptr != l->resource.ptr))
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s<%.*s>",
			                      n > 0 ? " " : "", STRV_FMT(l->resource));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s(", n > 0 ? " " : "");
		for (size_t j = 0; j < l->count; j++) {
			const struct dav_if_condition *c = &l->conditions[j];
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s%c%.*s%c",
			                      j > 0 ? " " : "", c->negated ? "Not " : "",
			                      c->is_etag ? '[' : '<', STRV_FMT(c->value),
			                      c->is_etag ? ']' : '>');
		}
		n += (size_t)snprintf(out + n, sizeof(out) - n, ")");
	}
	return out;
}

static void test_rfc_examples(void)
{
	static const char *const same[] = {
	    /* §10.4.6 */
	    "(<" TOKEN_A "> [\"I am an ETag\"]) ([\"I am another ETag\"])",
	    /* §10.4.7 */
	    "(Not <" TOKEN_A "> <" TOKEN_B ">)",
	    /* §10.4.8 */
	    "(<" TOKEN_A ">) (Not <DAV:no-lock>)",
	    /* §10.4.9 */
	    "</resource1> (<" TOKEN_A "> [W/\"A weak ETag\"]) ([\"strong ETag\"])",
	    /* §10.4.10 */
	    "<http://www.example.com/specs/> (<" TOKEN_A ">)",
	    /* §10.4.11, §10.4.12 */
	    "</specs/rfc2518.doc> ([\"4217\"])",
	    "</specs/rfc2518.doc> (Not [\"4217\"])",
	    /* §9.9.7: several lists after one tag, then another tag */
	    ("<http://www.example.com/container/> (<urn:uuid:fe184f2e>) (<urn:uuid:e454f3f3>) "
	     "</other> (<urn:x>)"),
	};
	pool = pool_create(0);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		test_assert_str_eq(canonical(same[i]), same[i]);
	/* white space is free between productions, none needed; "not" in any case */
	test_assert_str_eq(canonical("  (<a:b>)(not<c:d>[\"e\"])\t"),
	                   "(<a:b>) (Not <c:d> [\"e\"])");
	test_assert_str_eq(canonical("</a>(<x:y>)</b>(<x:z>)"), "</a> (<x:y>) </b> (<x:z>)");
	pool_destroy(&pool);
}

static void test_bad_grammar(void)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "(",
	    "()",
	    "(<a:b>",
	    "(<a:b> [\"x\" ])",
	    "(<a:b> [ \"x\"])",
	    "(<a:b> [x])",
	    "(<a:b> [\"x\"",
	    "</r>",
	    "</r> </s> (<a:b>)",
	    "(<a:b>) </r> (<c:d>)",
	    "(junk)",
	    "[\"x\"]",
	    "<a:b>",
	    "(<a b>)",
	    "(<>)",
	    "(Not)",
	    "(<a:b>) x",
	    "(<a:b>)\r\n (<c:d>)",
	};
	pool = pool_create(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i]);
		test_assert(strncmp(canonical(bad[i]), "error: If: ", 11) == 0);
	}
	test_set_context(NULL);
	test_assert_str_eq(canonical("(<a:b>) </r> (<c:d>)"),
	                   "error: If: a resource tag after untagged lists");
	pool_destroy(&pool);
}

/* The request URI has etag "\"I am an ETag\"" and lock TOKEN_A; </specs/rfc2518.doc> has
   etag "\"4217\"" and lock TOKEN_B; nothing else exists. */
static const char *etag_of(void *ctx, struct strv resource)
{
	if (resource.ptr == NULL)
		return "\"I am an ETag\"";
	if (strv_eq_cstr(resource, "/specs/rfc2518.doc"))
		return "\"4217\"";
	return NULL;
}

static bool has_lock(void *ctx, struct strv resource, struct strv token)
{
	if (resource.ptr == NULL)
		return strv_eq_cstr(token, TOKEN_A);
	return strv_eq_cstr(resource, "/specs/rfc2518.doc") && strv_eq_cstr(token, TOKEN_B);
}

/* "true"/"false" and the submitted tokens: "true A@-" (TOKEN_A on the request URI). */
static const char *evaluate(const char *header)
{
	static char out[256];
	static const struct dav_if_callbacks cb = {etag_of, has_lock, NULL};
	struct dav_if *h;
	const char *error;
	struct dav_if_token *seen;
	size_t n_seen;
	if (dav_if_parse(pool, strv_from_cstr(header), &h, &error) < 0)
		return error;
	bool ok = dav_if_evaluate(h, &cb, pool, &seen, &n_seen);
	size_t n = (size_t)snprintf(out, sizeof(out), "%s", ok ? "true" : "false");
	for (size_t i = 0; i < n_seen; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, " %s@%.*s",
		                      strv_eq_cstr(seen[i].token, TOKEN_A) ? "A" : "B",
		                      seen[i].resource.ptr == NULL ? 1 : (int)seen[i].resource.len,
		                      seen[i].resource.ptr == NULL ? "-" : seen[i].resource.ptr);
	return out;
}

static void test_evaluate(void)
{
	pool = pool_create(0);
	test_assert_str_eq(evaluate("(<" TOKEN_A "> [\"I am an ETag\"]) ([\"I am another ETag\"])"),
	                   "true A@-");
	test_assert_str_eq(evaluate("(<" TOKEN_A "> [\"other\"]) ([\"I am another ETag\"])"),
	                   "false A@-");
	test_assert_str_eq(evaluate("([\"other\"]) ([\"I am an ETag\"])"), "true");
	/* a weak tag never matches strongly */
	test_assert_str_eq(evaluate("([W/\"I am an ETag\"])"), "false");
	test_assert_str_eq(evaluate("(Not [W/\"I am an ETag\"])"), "true");
	test_assert_str_eq(evaluate("(Not <" TOKEN_A "> <" TOKEN_B ">)"), "false");
	test_assert_str_eq(evaluate("(Not <" TOKEN_B ">)"), "true");
	/* §10.4.8: the token is submitted, and the header true even if the lock was gone */
	test_assert_str_eq(evaluate("(<" TOKEN_A ">) (Not <DAV:no-lock>)"), "true A@-");
	test_assert_str_eq(evaluate("(<urn:gone>) (Not <DAV:no-lock>)"), "true");
	test_assert_str_eq(evaluate("(<DAV:no-lock>)"), "false");
	/* tagged: each list against its own resource */
	test_assert_str_eq(evaluate("</specs/rfc2518.doc> ([\"4217\"])"), "true");
	test_assert_str_eq(evaluate("</specs/rfc2518.doc> (Not [\"4217\"])"), "false");
	test_assert_str_eq(evaluate("</specs/rfc2518.doc> (<" TOKEN_A ">)"), "false");
	test_assert_str_eq(evaluate("</specs/rfc2518.doc> (<" TOKEN_B ">) </x> (<" TOKEN_B ">)"),
	                   "true B@/specs/rfc2518.doc");
	test_assert_str_eq(evaluate("</nothing> ([\"4217\"])"), "false");
	/* a token in a false list is still submitted (every condition is looked at) */
	test_assert_str_eq(evaluate("([\"x\"] <" TOKEN_A ">) (<" TOKEN_A ">)"), "true A@-");
	pool_destroy(&pool);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"RFC 4918 examples", test_rfc_examples},
	    {"bad grammar", test_bad_grammar},
	    {"evaluation", test_evaluate},
	    {NULL, NULL},
	};
	return test_run(cases);
}
