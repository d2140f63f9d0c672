/* SPDX-License-Identifier: MIT */
/* Unit tests for the RFC 4180 CSV reader. */
#include <string.h>

#include "csv.h"
#include "test.h"

/* Reads all of text and joins the records as "line:f1|f2;" for comparison; "ERR line: what" on
   an error. */
static void read_all(const char *text, size_t len, struct buf *out)
{
	struct csv_reader r;
	struct csv_record rec;
	const char *error;
	int ret;

	buf_reset(out);
	csv_reader_init(&r, text, len);
	while ((ret = csv_read(&r, &rec, &error)) > 0) {
		buf_printf(out, "%zu:", rec.line);
		for (size_t i = 0; i < rec.count; i++) {
			if (i > 0)
				buf_append_char(out, '|');
			buf_append_strv(out, rec.fields[i]);
		}
		buf_append_char(out, ';');
	}
	if (ret < 0)
		buf_printf(out, "ERR %zu: %s", r.error_line, error);
	csv_reader_deinit(&r);
}

static void check(const char *text, const char *expected)
{
	struct buf out;
	buf_init(&out, 65536);
	test_set_context(text);
	read_all(text, strlen(text), &out);
	test_assert_str_eq(out.data, expected);
	buf_free(&out);
}

static void test_plain(void)
{
	check("", "");
	check("a,b,c", "1:a|b|c;");
	check("a,b\nc,d\n", "1:a|b;2:c|d;");
	check("a,b\r\nc,d\r\n", "1:a|b;2:c|d;");
	check("a,,\n", "1:a||;");
	check(",\n", "1:|;");
	check("\n\na\n\r\n\nb", "3:a;6:b;");
	check("\xef\xbb\xbf"
	      "login,x\n",
	      "1:login|x;");
	check(" spaced , kept \n", "1: spaced | kept ;");
}

static void test_quoted(void)
{
	check("\"a,b\",c\n", "1:a,b|c;");
	check("\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x;");
	check("\"\"\n", "1:;");
	check("\"\",\"\"", "1:|;");
	check("\"multi\nline\",x\ny,z\n", "1:multi\nline|x;3:y|z;");
	check("\"crlf\r\ninside\"\r\nnext\r\n", "1:crlf\r\ninside;3:next;");
	check("a,\"b\"", "1:a|b;");
}

static void test_errors(void)
{
	check("ok\n\"open,x\nmore\n", "1:ok;ERR 2: unterminated quoted field");
	check("\"a\"b,c\n", "ERR 1: text after the closing quote of a field");
	check("x\na\"b\n", "1:x;ERR 2: quote inside an unquoted field (quote the whole field)");
	check("a\rb\n", "ERR 1: carriage return without a line feed");
	check("a\r", "ERR 1: carriage return without a line feed");
}

static void test_field_limit(void)
{
	struct buf text, out;
	buf_init(&text, 1024);
	buf_init(&out, 65536);
	for (int i = 0; i < CSV_MAX_FIELDS; i++)
		buf_append_str(&text, i == 0 ? "x" : ",x");
	read_all(text.data, text.len, &out);
	test_assert(strncmp(out.data, "1:x|x|", 6) == 0);
	buf_append_lit(&text, ",x\n");
	read_all(text.data, text.len, &out);
	test_assert_str_eq(out.data, "ERR 1: too many fields");
	buf_free(&text);
	buf_free(&out);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"plain", test_plain},
	    {"quoted", test_quoted},
	    {"errors", test_errors},
	    {"field_limit", test_field_limit},
	    {NULL, NULL},
	};
	return test_run(cases);
}
