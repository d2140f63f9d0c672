/* SPDX-License-Identifier: MIT */
/* Verbs that need no running node: initconfigdb (creates the configdb), hashpassword and
   backupconfigdb. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "password.h"
#include "provision.h"
#include "sql.h"

static const struct ctl_option options[] = {
    CTL_OPT(0, "configdb-url", "URL",
            "where to create it: sqlite:///path/configdb.sqlite or "
            "mariadb://user:pw@host:port/configdb",
            CTL_REQUIRED),
    CTL_OPT(0, "master-user", "NAME", "login of the master admin (e.g. oxadminmaster)",
            CTL_REQUIRED),
    CTL_OPT(0, "master-pass", "PW", "password of the master admin", CTL_REQUIRED),
    CTL_END,
};

static const struct ctl_command command = {
    "initconfigdb",
    "--configdb-url URL --master-user NAME --master-pass PW",
    "Creates the configuration database (tables and the master admin). Talks to the database "
    "directly; run it once per cluster before starting the nodes. An existing configdb is "
    "never touched.",
    options,
};

int cmd_initconfigdb(int argc, char **argv)
{
	struct ctl_args args;
	int exit_code;
	if (!ctl_parse(&command, argc, argv, &args, &exit_code))
		return exit_code;
	struct prov_error err;
	const char *url = ctl_arg(&args, "configdb-url");
	if (provision_init_configdb(url, ctl_arg(&args, "master-user"),
	                            ctl_arg(&args, "master-pass"), &err) < 0)
		return ctl_error("%s", err.message);
	char shown[700];
	sql_url_redact(url, shown, sizeof(shown));
	if (ctl_json_output()) {
		json_t *v = json_pack("{sssb}", "configdb", shown, "created", 1);
		ctl_print_json(v);
		json_decref(v);
	} else {
		printf("configdb created at %s\n", shown);
	}
	return CTL_EXIT_OK;
}

static const struct ctl_option hash_options[] = {
    CTL_END,
};

static const struct ctl_command hash_command = {
    "hashpassword",
    "[PASSWORD]",
    "Prints the argon2id hash of PASSWORD (or of the first line of standard input) in the form "
    "the password_hash column of createusers CSV files and the admin API accept.",
    hash_options,
};

int cmd_hashpassword(int argc, char **argv)
{
	struct ctl_args args;
	int exit_code;
	char line[300];
	const char *password = NULL;

	/* The one positional argument is taken out before option parsing. */
	if (argc >= 2 && argv[argc - 1][0] != '-') {
		password = argv[argc - 1];
		argc--;
	}
	if (!ctl_parse(&hash_command, argc, argv, &args, &exit_code))
		return exit_code;
	if (password == NULL) {
		if (fgets(line, sizeof(line), stdin) == NULL)
			return ctl_usage_error("no password given");
		line[strcspn(line, "\r\n")] = '\0';
		password = line;
	}
	if (password[0] == '\0' || strlen(password) > 256)
		return ctl_usage_error("the password must be 1-256 characters");
	char hash[PASSWORD_HASH_MAX];
	if (password_hash(password, hash) != PASSWORD_OK)
		return ctl_error("hashing failed");
	printf("%s\n", hash);
	return CTL_EXIT_OK;
}

static const struct ctl_option backup_options[] = {
    CTL_OPT(0, "configdb-url", "URL", "the configdb (sqlite:///path/configdb.sqlite)",
            CTL_REQUIRED),
    CTL_OPT('f', "file", "FILE", "the copy to write (must not exist)", CTL_REQUIRED),
    CTL_END,
};

static const struct ctl_command backup_command = {
    "backupconfigdb",
    "--configdb-url URL -f FILE",
    "Copies an SQLite configdb into FILE as one consistent snapshot (VACUUM INTO) while the "
    "nodes keep using it; restore by putting the copy in its place with the nodes stopped. For "
    "a MariaDB configdb use mariadb-dump --single-transaction (docs/operations.md).",
    backup_options,
};

int cmd_backupconfigdb(int argc, char **argv)
{
	struct ctl_args args;
	struct sql_url url;
	const char *problem;
	int exit_code;
	if (!ctl_parse(&backup_command, argc, argv, &args, &exit_code))
		return exit_code;
	const char *file = ctl_arg(&args, "file");
	if (sql_url_parse(ctl_arg(&args, "configdb-url"), &url, &problem) < 0)
		return ctl_usage_error("--configdb-url: %s", problem);
	if (url.driver != SQL_DRIVER_SQLITE)
		return ctl_error("the configdb is on MariaDB: back it up with mariadb-dump "
		                 "--single-transaction (docs/operations.md)");
	if (strchr(file, '\'') != NULL)
		return ctl_usage_error("-f/--file: a path with a quote is not supported");
	if (access(file, F_OK) == 0)
		return ctl_error("%s exists; give a new file", file);

	struct sql_db *db;
	struct sql_conn *conn = NULL;
	struct sql_error err;
	if (sql_db_open(ctl_arg(&args, "configdb-url"), NULL, false, &db, &err) < 0)
		return ctl_error("%s", err.message);
	char sql[4200];
	snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", file);
	int r = sql_conn_get(db, SQL_READ, 0, &conn, &err);
	if (r == 0)
		r = sql_exec(conn, sql, &err);
	sql_conn_put(&conn);
	sql_db_close(&db);
	if (r < 0)
		return ctl_error("copying the configdb to %s: %s", file, err.message);
	if (ctl_json_output()) {
		json_t *v = json_pack("{ss}", "file", file);
		ctl_print_json(v);
		json_decref(v);
	} else {
		printf("configdb copied to %s\n", file);
	}
	return CTL_EXIT_OK;
}
