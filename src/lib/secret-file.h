/* SPDX-License-Identifier: MIT */
/* Secrets kept in files named by a configuration: the AJP secret, the announce key, the mail
   master password. One way to find and read them, so every such file is held to the same
   rules (a regular file that other users may not read, write or run). */
#ifndef TANDEM_SECRET_FILE_H
#define TANDEM_SECRET_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* The path of file: as given when absolute (or config_path is NULL or has no directory),
   else relative to config_path's directory. -1 when file is empty or the path does not fit. */
int secret_file_path(const char *config_path, const char *file, char *path, size_t size);

/* Reads the file at path whole into out, NUL-terminated (so at most size - 1 bytes). Returns
   the length, or -1 with *error_r saying what is wrong, without the path (a thread's buffer,
   valid until its next call). */
ssize_t secret_file_read(const char *path, char *out, size_t size, const char **error_r);

#endif
