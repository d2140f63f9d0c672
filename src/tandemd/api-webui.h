/* SPDX-License-Identifier: MIT */
/* The web UI's files: index.html at "/" and content-hashed assets at /assets/ (docs/webui.md). */
#ifndef TANDEMD_API_WEBUI_H
#define TANDEMD_API_WEBUI_H

struct api_webui;

/* The directory a node serves when [webui] directory is unset: the first of
   <binary's dir>/../share/tandem/webui (installed) and <binary's dir>/../../web (the build
   tree) that holds an index.html; NULL when neither does. Returns a static buffer. */
const char *api_webui_default_dir(void);

/* Opens dir (which must hold index.html and may hold assets/). Returns 0, or -1 with *error_r
   naming what is wrong. The directory is read on every request: a new install is served
   without a restart. */
int api_webui_open(const char *dir, struct api_webui **ui_r, const char **error_r);
void api_webui_close(struct api_webui **ui);

#endif
