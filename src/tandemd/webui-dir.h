/* SPDX-License-Identifier: MIT */
/* The web UI's directory (docs/webui.md): index.html, and the content-hashed files in assets/,
   each perhaps with a precompressed .gz beside it. */
#ifndef TANDEMD_WEBUI_DIR_H
#define TANDEMD_WEBUI_DIR_H

struct webui_dir {
	int dir_fd;    /* the UI's directory */
	int assets_fd; /* its assets/, -1 when it has none */
};

/* The directory a node serves when [webui] directory is unset: the first of
   <binary's dir>/../share/tandem/webui (installed) and <binary's dir>/../../web (the build
   tree) that holds an index.html; NULL when neither does. Returns a static buffer. */
const char *webui_dir_default(void);

/* Opens dir, which must hold index.html and may hold assets/. Returns 0, or -1 with *error_r
   naming what is wrong. Files are opened per request: a new install is served without a
   restart, as long as the directory itself stays. */
int webui_dir_open(const char *dir, struct webui_dir **ui_r, const char **error_r);
void webui_dir_close(struct webui_dir **ui);

#endif
