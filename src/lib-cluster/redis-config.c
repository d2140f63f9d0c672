/* SPDX-License-Identifier: MIT */
/* [cluster] store and its store_* keys (see redis-config.h). */
#include "redis-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "redis-transport.h"

#define MSG_SIZE 1400

static __thread char msg[MSG_SIZE];

static int problem(const char *key, const char **key_r, const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int problem(const char *key, const char **key_r, const char **error_r, const char *fmt, ...)
{
	int n = snprintf(msg, sizeof(msg), "[cluster] %s: ", key);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	*key_r = key;
	*error_r = msg;
	return -1;
}

/* A file name from the configuration: relative ones lie beside the configuration file, not
   in whatever directory the daemon was started from. */
static int resolve(const char *config_path, const char *file, char out[REDIS_PATH_MAX])
{
	const char *slash = config_path != NULL ? strrchr(config_path, '/') : NULL;
	int n;
	if (file[0] == '/' || slash == NULL)
		n = snprintf(out, REDIS_PATH_MAX, "%s", file);
	else
		n = snprintf(out, REDIS_PATH_MAX, "%.*s/%s", (int)(slash - config_path),
		             config_path, file);
	return file[0] == '\0' || n < 0 || n >= REDIS_PATH_MAX ? -1 : 0;
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return true;
	}
	return false;
}

/* A password file: one line, read verbatim but for a final newline. */
static int read_secret(const char *config_path, const char *key, const char *file,
                       char out[REDIS_SECRET_MAX], const char **key_r, const char **error_r)
{
	char path[REDIS_PATH_MAX];
	char data[REDIS_SECRET_MAX + 2];
	if (resolve(config_path, file, path) < 0)
		return problem(key, key_r, error_r, "the file name is empty or too long");
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return problem(key, key_r, error_r, "%s: cannot open: %s", path, strerror(errno));
	size_t n = fread(data, 1, sizeof(data), f);
	bool failed = ferror(f) != 0;
	fclose(f);
	if (failed)
		return problem(key, key_r, error_r, "%s: cannot read", path);
	if (n > 0 && data[n - 1] == '\n')
		n--;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	if (n == 0)
		return problem(key, key_r, error_r, "%s is empty", path);
	if (n >= REDIS_SECRET_MAX)
		return problem(key, key_r, error_r, "%s holds more than %d bytes", path,
		               REDIS_SECRET_MAX - 1);
	if (has_control(data, n))
		return problem(key, key_r, error_r,
		               "%s must hold the password on one line, without control characters",
		               path);
	memcpy(out, data, n);
	out[n] = '\0';
	return 0;
}

static int load_password(const struct config *cfg, const char *config_path, struct redis_url *url,
                         const char **key_r, const char **error_r)
{
	const char *file = config_get_str(cfg, "cluster", "store_password_file");
	if (file != NULL) {
		if (url->password[0] != '\0')
			return problem("store_password_file", key_r, error_r,
			               "the store URL gives a password too: give it in one place");
		if (read_secret(config_path, "store_password_file", file, url->password, key_r,
		                error_r) < 0)
			return -1;
	}
	if (url->user[0] != '\0' && url->password[0] == '\0')
		return problem(
		    "store", key_r, error_r,
		    "the URL names the user '%s' but no password (a password in the URL, "
		    "or store_password_file)",
		    url->user);
	return 0;
}

static int load_sentinel(const struct config *cfg, const char *config_path, struct redis_url *url,
                         const char **key_r, const char **error_r)
{
	const char *user = config_get_str(cfg, "cluster", "store_sentinel_user");
	const char *password = config_get_str(cfg, "cluster", "store_sentinel_password");
	const char *file = config_get_str(cfg, "cluster", "store_sentinel_password_file");
	const char *key = user != NULL       ? "store_sentinel_user"
	                  : password != NULL ? "store_sentinel_password"
	                  : file != NULL     ? "store_sentinel_password_file"
	                                     : NULL;
	if (key == NULL)
		return 0;
	if (!url->sentinel)
		return problem(key, key_r, error_r,
		               "needs a redis-sentinel:// or rediss-sentinel:// store");
	if (password != NULL && file != NULL)
		return problem("store_sentinel_password_file", key_r, error_r,
		               "give store_sentinel_password or store_sentinel_password_file, not "
		               "both");
	if (password != NULL) {
		size_t n = strlen(password);
		if (n == 0 || n >= REDIS_SECRET_MAX || has_control(password, n))
			return problem("store_sentinel_password", key_r, error_r,
			               "must be 1 to %d bytes without control characters",
			               REDIS_SECRET_MAX - 1);
		memcpy(url->sentinel_password, password, n + 1);
	} else if (file != NULL && read_secret(config_path, "store_sentinel_password_file", file,
	                                       url->sentinel_password, key_r, error_r) < 0) {
		return -1;
	}
	if (user != NULL) {
		size_t n = strlen(user);
		if (n == 0 || n >= REDIS_SECRET_MAX || has_control(user, n) ||
		    strchr(user, ' ') != NULL)
			return problem("store_sentinel_user", key_r, error_r,
			               "must be 1 to %d bytes without spaces or control characters",
			               REDIS_SECRET_MAX - 1);
		if (url->sentinel_password[0] == '\0')
			return problem(
			    "store_sentinel_user", key_r, error_r,
			    "needs store_sentinel_password or store_sentinel_password_file");
		memcpy(url->sentinel_user, user, n + 1);
	}
	return 0;
}

static const char *const tls_keys[] = {"store_tls_ca", "store_tls_cert", "store_tls_key",
                                       "store_tls_server_name"};

static int load_tls(const struct config *cfg, const char *config_path, struct redis_url *url,
                    const char **key_r, const char **error_r)
{
	struct redis_tls *tls = &url->tls_config;
	char *files[3] = {tls->ca_file, tls->cert_file, tls->key_file};
	for (size_t i = 0; i < 4; i++) {
		const char *v = config_get_str(cfg, "cluster", tls_keys[i]);
		if (v == NULL)
			continue;
		if (!url->tls)
			return problem(tls_keys[i], key_r, error_r,
			               "needs a rediss:// or rediss-sentinel:// store (TLS)");
		if (i < 3 && resolve(config_path, v, files[i]) < 0)
			return problem(tls_keys[i], key_r, error_r,
			               "the file name is empty or too long");
		if (i == 3) {
			size_t n = strlen(v);
			if (n == 0 || n >= sizeof(tls->server_name) || has_control(v, n) ||
			    strchr(v, ' ') != NULL)
				return problem(tls_keys[i], key_r, error_r,
				               "must be a host name or an IP address");
			memcpy(tls->server_name, v, n + 1);
		}
	}
	if ((tls->cert_file[0] != '\0') != (tls->key_file[0] != '\0'))
		return problem(tls->cert_file[0] != '\0' ? "store_tls_cert" : "store_tls_key",
		               key_r, error_r, "store_tls_cert and store_tls_key go together");
	if (!url->tls)
		return 0;
	const char *bad_file;
	char err[MSG_SIZE - 200];
	if (redis_transport_tls_check(tls, &bad_file, err, sizeof(err)) < 0) {
		const char *key = bad_file == tls->ca_file     ? "store_tls_ca"
		                  : bad_file == tls->cert_file ? "store_tls_cert"
		                  : bad_file == tls->key_file  ? "store_tls_key"
		                                               : "store";
		return problem(key, key_r, error_r, "%s", err);
	}
	return 0;
}

int redis_config_load(const struct config *cfg, const char *config_path, struct redis_url *url_r,
                      const char **key_r, const char **error_r)
{
	const char *error;
	if (redis_url_parse(config_get_str(cfg, "cluster", "store"), url_r, &error) < 0)
		return problem("store", key_r, error_r, "%s", error);
	if (load_password(cfg, config_path, url_r, key_r, error_r) < 0 ||
	    load_sentinel(cfg, config_path, url_r, key_r, error_r) < 0 ||
	    load_tls(cfg, config_path, url_r, key_r, error_r) < 0)
		return -1;
	return 0;
}

int redis_config_unused(const struct config *cfg, const char **key_r, const char **error_r)
{
	static const char *const keys[] = {"store_password_file", "store_sentinel_user",
	                                   "store_sentinel_password",
	                                   "store_sentinel_password_file"};
	for (size_t i = 0; i < 8; i++) {
		const char *key = i < 4 ? keys[i] : tls_keys[i - 4];
		if (config_is_set(cfg, "cluster", key))
			return problem(key, key_r, error_r,
			               "is set but [cluster] store is not Redis");
	}
	return 0;
}
