/* SPDX-License-Identifier: MIT */
/* A blocking SMTP client on libcurl for sending mail (docs/internals/mail.md "Sending"): one
   message to its recipients, authenticated as the user through the master user (SASL identity
   "user*master": the submission server's Dovecot SASL makes the user the sender's identity).
   The message is read from a file descriptor as it is sent, so its size does not matter to
   memory. Call it on a worker thread, never on the event loop. */
#ifndef TANDEM_SMTP_CLIENT_H
#define TANDEM_SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "imap-client.h"
#include "mail-url.h"

struct smtp_client_settings {
	const struct mail_url *url; /* smtp:// plain, submission:// STARTTLS, smtps:// TLS */
	unsigned timeout_ms;        /* for the connection and each response */
	const char *master_user;
	const char *master_password;
};

/* Sends the message (size bytes of fd from offset 0, CRLF line ends) from the envelope sender
   from to rcpts[0..count), logging in as login*master_user. 0, or -1 with err: MAIL_REFUSED
   when the server answered a command with 4xx/5xx (its reason in the message: a recipient it
   does not take, a message too big), MAIL_AUTH when it refused the login, MAIL_UNAVAILABLE
   when it cannot be reached, hung up or timed out. */
int smtp_client_send(const struct smtp_client_settings *set, const char *login, const char *from,
                     const char *const *rcpts, size_t count, int fd, uint64_t size,
                     struct mail_error *err);

/* The kind for libcurl's result code and the server's last SMTP reply code (0: none). */
enum mail_error_kind smtp_client_error_kind(int curl_code, long reply);

#endif
