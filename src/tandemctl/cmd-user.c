/* SPDX-License-Identifier: MIT */
/* User verbs: createuser, changeuser, deleteuser (by id or by login). */
#include <string.h>

#include "ctl.h"
#include "mail-url.h"

#define CID_OPTION                                                                                 \
	CTL_NUM('c', "contextid", "CID", "context id, 1..2147483647", CTL_REQUIRED, 1, CTL_MAX_CID)
#define USERID_OPTION CTL_NUM('i', "userid", "ID", "the user's id", 0, 1, INT64_MAX)

/* --imapserver, --smtpserver, --imaplogin (docs/provisioning.md "Mail") */
#define MAIL_OPTIONS(clear)                                                                        \
	CTL_OPT(0, "imapserver", "URL",                                                            \
	        "the user's IMAP server (imap:// or imaps://; default [mail] imap_url)" clear, 0), \
	    CTL_OPT(0, "smtpserver", "URL",                                                        \
	            "the user's SMTP server (smtp://, submission:// or smtps://; default [mail] "  \
	            "smtp_url)" clear,                                                             \
	            0),                                                                            \
	    CTL_OPT(0, "imaplogin", "LOGIN",                                                       \
	            "the user's IMAP login (default: the Tandem login)" clear, 0)

/* Copies the mail options given into body, checking the URLs first ("" clears one when
   empty_ok). 0, or a usage error naming the bad URL. */
static int set_mail_options(const struct ctl_args *args, json_t *body, bool empty_ok)
{
	static const struct {
		const char *option, *field;
		enum mail_url_kind kind;
		bool url;
	} opts[] = {{"imapserver", "imap_server", MAIL_URL_IMAP, true},
	            {"smtpserver", "smtp_server", MAIL_URL_SMTP, true},
	            {"imaplogin", "imap_login", MAIL_URL_IMAP, false}};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (!ctl_has(args, opts[i].option))
			continue;
		const char *v = ctl_arg(args, opts[i].option), *why;
		struct mail_url url;
		if (opts[i].url && !(empty_ok && v[0] == '\0') &&
		    mail_url_parse(v, opts[i].kind, &url, &why) < 0)
			return ctl_usage_error("--%s \"%s\": %s", opts[i].option, v, why);
		json_object_set_new(body, opts[i].field, json_string(v));
	}
	return 0;
}

static void user_path(char *path, size_t size, uint64_t cid, int64_t id)
{
	if (id < 0)
		snprintf(path, size, "/admin/v1/contexts/%llu/users", (unsigned long long)cid);
	else
		snprintf(path, size, "/admin/v1/contexts/%llu/users/%lld", (unsigned long long)cid,
		         (long long)id);
}

int cmd_createuser(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    CTL_OPT('u', "username", "LOGIN", "login name", CTL_REQUIRED),
	    CTL_OPT('d', "displayname", "NAME", "display name", CTL_REQUIRED),
	    CTL_OPT('g', "givenname", "NAME", "given name", CTL_REQUIRED),
	    CTL_OPT('s', "surname", "NAME", "surname", CTL_REQUIRED),
	    CTL_OPT('p', "password", "PW", "password", CTL_REQUIRED),
	    CTL_OPT('e', "email", "MAIL", "primary email address", CTL_REQUIRED),
	    CTL_ACCESS_OPTION("the user's modules (default: the context's combination)"),
	    MAIL_OPTIONS(""),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "createuser",
	    "-c CID -u LOGIN -d DISPLAY -g GIVEN -s SUR -p PW -e MAIL\n"
	    "        [--access-combination-name NAME]\n"
	    "        [--imapserver URL] [--smtpserver URL] [--imaplogin LOGIN]",
	    "Creates a user in a context. -A may be the master admin or the context admin.",
	    options};
	struct ctl_args args;
	json_t *answer;
	char path[96];
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	json_t *body =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "login", ctl_arg(&args, "username"),
	              "display_name", ctl_arg(&args, "displayname"), "given_name",
	              ctl_arg(&args, "givenname"), "sur_name", ctl_arg(&args, "surname"),
	              "password", ctl_arg(&args, "password"), "email", ctl_arg(&args, "email"));
	ctl_set_access(&args, body);
	if ((ret = set_mail_options(&args, body, false)) != 0) {
		json_decref(body);
		return ret;
	}
	user_path(path, sizeof(path), cid, -1);
	ret = ctl_call("POST", path, body, &answer);
	json_decref(body);
	if (ret != 0)
		return ret;
	if (ctl_json_output())
		ctl_print_json(answer);
	else
		printf("user %" JSON_INTEGER_FORMAT " created in context %llu (%s)\n",
		       ctl_json_int(answer, "id", 0), (unsigned long long)cid,
		       ctl_json_str(answer, "login", ctl_arg(&args, "username")));
	json_decref(answer);
	return CTL_EXIT_OK;
}

int cmd_changeuser(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    USERID_OPTION,
	    CTL_OPT('u', "username", "LOGIN", "the user's login (instead of -i)", 0),
	    CTL_OPT('d', "displayname", "NAME", "new display name", 0),
	    CTL_OPT('g', "givenname", "NAME", "new given name", 0),
	    CTL_OPT('s', "surname", "NAME", "new surname", 0),
	    CTL_OPT('e', "email", "MAIL", "new primary email address", 0),
	    CTL_OPT('p', "password", "PW", "new password", 0),
	    CTL_OPT(0, "disable", "REASON", "disable the user, giving a reason", 0),
	    CTL_OPT(0, "enable", NULL, "enable the user again", 0),
	    CTL_ACCESS_OPTION("the user's modules (\"\" = the context's combination); ends "
	                      "the user's sessions"),
	    MAIL_OPTIONS(" (\"\" = back to the default)"),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "changeuser",
	    "-c CID (-i ID | -u LOGIN)\n"
	    "        [-d NAME] [-g NAME] [-s NAME] [-e MAIL] [-p PW] [--disable REASON | "
	    "--enable]\n"
	    "        [--access-combination-name NAME]\n"
	    "        [--imapserver URL] [--smtpserver URL] [--imaplogin LOGIN]",
	    "Changes a user. -A may be the master admin or the context admin.", options};
	static const struct {
		const char *option, *field;
	} fields[] = {
	    {"displayname", "display_name"}, {"givenname", "given_name"},
	    {"surname", "sur_name"},         {"email", "email"},
	    {"password", "password"},        {"access-combination-name", "access_combination"},
	};
	struct ctl_args args;
	json_t *body, *answer;
	char path[128];
	int64_t id;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;
	if (ctl_has(&args, "disable") && ctl_has(&args, "enable"))
		return ctl_usage_error("--disable and --enable exclude each other");

	body = json_object();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (ctl_has(&args, fields[i].option))
			json_object_set_new(body, fields[i].field,
			                    json_string(ctl_arg(&args, fields[i].option)));
	}
	if (ctl_has(&args, "disable")) {
		json_object_set_new(body, "enabled", json_false());
		json_object_set_new(body, "disabled_reason",
		                    json_string(ctl_arg(&args, "disable")));
	} else if (ctl_has(&args, "enable")) {
		json_object_set_new(body, "enabled", json_true());
	}
	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	ret = set_mail_options(&args, body, true);
	if (ret == 0 && json_object_size(body) == 0)
		ret = ctl_usage_error("nothing to change: give -d, -g, -s, -e, -p, --disable, "
		                      "--enable, --access-combination-name, --imapserver, "
		                      "--smtpserver or --imaplogin");
	else if (ret == 0)
		ret = ctl_target_user(&args, cid, &id);
	if (ret != 0) {
		json_decref(body);
		return ret;
	}
	user_path(path, sizeof(path), cid, id);
	ret = ctl_call("PATCH", path, body, &answer);
	json_decref(body);
	if (ret != 0)
		return ret;
	if (ctl_json_output())
		ctl_print_json(answer);
	else
		printf("user %lld changed in context %llu\n", (long long)id,
		       (unsigned long long)cid);
	json_decref(answer);
	return CTL_EXIT_OK;
}

int cmd_deleteuser(int argc, char **argv)
{
	static const struct ctl_option options[] = {
	    CID_OPTION,
	    USERID_OPTION,
	    CTL_OPT('u', "username", "LOGIN", "the user's login (instead of -i)", 0),
	    CTL_END,
	};
	static const struct ctl_command cmd = {
	    "deleteuser", "-c CID (-i ID | -u LOGIN)",
	    "Deletes a user and their data. The context admin cannot be deleted.", options};
	struct ctl_args args;
	json_t *answer;
	char path[128];
	int64_t id;
	int ret;
	if (!ctl_parse(&cmd, argc, argv, &args, &ret))
		return ret;

	uint64_t cid = ctl_arg_number(&args, "contextid", 0);
	if ((ret = ctl_target_user(&args, cid, &id)) != 0)
		return ret;
	user_path(path, sizeof(path), cid, id);
	if ((ret = ctl_call("DELETE", path, NULL, &answer)) != 0)
		return ret;
	if (answer != NULL && ctl_json_output())
		ctl_print_json(answer);
	else if (!ctl_json_output())
		printf("user %lld deleted from context %llu\n", (long long)id,
		       (unsigned long long)cid);
	json_decref(answer);
	return CTL_EXIT_OK;
}
