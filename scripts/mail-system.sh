#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A private mail system for tests and the demo: Dovecot (IMAP + LMTP) and Postfix (SMTP
# submission) from Debian with a generated configuration in DIR, listening on 127.0.0.1 only,
# on ports chosen at start. It has a master user (for Tandem's `user*master` logins,
# docs/mail.md) and test mailboxes. Postfix authenticates by Dovecot's SASL and delivers every
# recipient domain by LMTP to this Dovecot (local part = mailbox, unknown ones refused at
# RCPT); nothing ever leaves the machine (default and relay transports are "error").
#
#   scripts/mail-system.sh start DIR [USER:PASSWORD ...]   start; prints DIR/env (ports, master)
#   scripts/mail-system.sh stop DIR                        stop it (by its PID files)
#   scripts/mail-system.sh smtp-stop|smtp-start DIR        stop/start Postfix alone (same port)
#   scripts/mail-system.sh deliver DIR USER < MESSAGE      deliver one RFC 5322 message by LMTP
#
# MAIL_NO_SORT=1 at start: the server announces no SORT (for Tandem's fallback).
# MAIL_SPECIAL_USE=de at start: the \Sent, \Trash and \Drafts folders are "Gesendete Elemente",
# "Gelöschte Elemente" and "Entwürfe" instead of Sent, Trash and Drafts.
# Users default to alice:alice-pw, bob:bob-pw and outside:outside-pw (outside@outside.test:
# an address outside the Tandem context, for iMIP tests). The master user is "tandem" with a random
# password, kept in DIR/master-password (mode 0600): the file [mail] master_password_file
# names. Needs root (Dovecot drops to the "mail" user for the mailboxes, to dovenull and
# dovecot for its own processes; Postfix to postfix) and `scripts/deps.sh test` (dovecot-imapd
# dovecot-lmtpd postfix).
set -euo pipefail

usage() { echo "usage: $0 start|stop|smtp-stop|smtp-start|deliver DIR ..." >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2

# Appends Dovecot mailbox sections (NAME FLAG pairs: special_use \FLAG, auto = subscribe) to
# $special.
set_special() {
	while [ $# -ge 2 ]; do
		special+="  mailbox \"$1\" {
    special_use = \\$2
    auto = subscribe
  }
"
		shift 2
	done
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
	for _ in $(seq 1 200); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

postfix_start() {
	if ! postfix -c "$1/postfix" start </dev/null >"$1/postfix-start.log" 2>&1; then
		cat "$1/postfix-start.log" >&2
		return 1
	fi
	wait_port "$2" || { echo "mail-system: Postfix does not answer on port $2" >&2; return 1; }
}

# Stops a master process by PID: "$@" (a polite stop command), a wait, then SIGKILL for it and
# its children of the time (Dovecot's session processes outlive their master: "stopped" must
# mean that no session answers any more).
stop_master() {
	local pid=$1 kids
	shift
	kill -0 "$pid" 2>/dev/null || return 0
	kids=$(pgrep -P "$pid" || true)
	"$@" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	for k in $kids; do kill -9 "$k" 2>/dev/null || true; done
}

# Stops the private Postfix: "postfix stop", then by PID.
postfix_stop() {
	local pidfile=$1/postfix-queue/pid/master.pid pid
	[ -f "$pidfile" ] || return 0
	pid=$(tr -d ' ' <"$pidfile")
	[ -n "$pid" ] || return 0
	stop_master "$pid" postfix -c "$1/postfix" stop
}

case "$cmd" in
start)
	command -v dovecot >/dev/null || { echo "mail-system: dovecot is missing: run scripts/deps.sh test" >&2; exit 1; }
	command -v postfix >/dev/null || { echo "mail-system: postfix is missing: run scripts/deps.sh test" >&2; exit 1; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null; then
		echo "mail-system: already running in $dir" >&2
		exit 1
	fi
	# the directory must be reachable by the mail and dovecot users
	chmod 755 "$dir"
	mkdir -p "$dir/run" "$dir/state" "$dir/mail"
	chown mail:mail "$dir/mail"
	if ! runuser -u mail -- test -w "$dir/mail"; then
		echo "mail-system: the mail user cannot reach $dir/mail (a parent directory is closed to it)" >&2
		exit 1
	fi
	imap_port=${MAIL_IMAP_PORT:-$(free_port)}
	lmtp_port=${MAIL_LMTP_PORT:-$(free_port)}
	smtp_port=${MAIL_SMTP_PORT:-$(free_port)}
	umask 077
	# a restart in the same DIR keeps the master password (a node may hold it)
	[ -s "$dir/master-password" ] ||
		head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/master-password"
	master_pw=$(cat "$dir/master-password")
	printf 'tandem:{PLAIN}%s\n' "$master_pw" >"$dir/masters"
	: >"$dir/users"
	[ $# -gt 0 ] || set -- alice:alice-pw bob:bob-pw outside:outside-pw
	# Postfix: the mailboxes, by local part in any domain (the rest is refused at RCPT)
	mkdir -p "$dir/postfix"
	: >"$dir/postfix/mailboxes"
	for up in "$@"; do
		printf '%s:{PLAIN}%s\n' "${up%%:*}" "${up#*:}" >>"$dir/users"
		printf '/^%s@[^@]*$/ ok\n' "${up%%:*}" >>"$dir/postfix/mailboxes"
	done
	chgrp dovecot "$dir/masters" "$dir/users"
	chmod 640 "$dir/masters" "$dir/users"
	umask 022
	caps=""
	[ "${MAIL_NO_SORT:-0}" = 0 ] ||
		caps="imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+"
	# the folders for Sent, Trash and Drafts by their SPECIAL-USE flags (RFC 6154); with
	# MAIL_SPECIAL_USE=de under German names, as Outlook-style servers have them, so a test
	# sees Tandem go by the flag and not the name
	special=""
	if [ "${MAIL_SPECIAL_USE:-}" = de ]; then
		set_special "Gesendete Elemente" Sent "Gelöschte Elemente" Trash "Entwürfe" Drafts
	else
		set_special Sent Sent Trash Trash Drafts Drafts
	fi
	cat >"$dir/dovecot.conf" <<EOF
# generated by scripts/mail-system.sh: a private Dovecot on loopback
$caps
instance_name = tandem-mail-$imap_port
base_dir = $dir/run
state_dir = $dir/state
protocols = imap lmtp
listen = 127.0.0.1
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_uid = mail
mail_gid = mail
protocol lmtp {
  postmaster_address = postmaster@localhost
}
passdb {
  driver = passwd-file
  args = $dir/masters
  master = yes
  result_success = continue
}
passdb {
  driver = passwd-file
  args = username_format=%n $dir/users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$dir/mail/%n
}
namespace inbox {
  inbox = yes
  separator = /
$special
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	# not on our stdout/stderr: a caller reading them to the end would wait for Dovecot
	if ! dovecot -c "$dir/dovecot.conf" </dev/null >"$dir/start.log" 2>&1; then
		cat "$dir/start.log" >&2
		exit 1
	fi
	wait_port "$imap_port" || true
	pf=$dir/postfix
	# the data directory: the master (root, which may lack CAP_DAC_OVERRIDE in a container)
	# writes its lock there, the postfix user its caches
	mkdir -p "$dir/postfix-queue" "$dir/postfix-data"
	chown root:postfix "$dir/postfix-data"
	chmod 770 "$dir/postfix-data"
	cat >"$pf/main.cf" <<EOF
# generated by scripts/mail-system.sh: a private Postfix on loopback, nothing leaves it
compatibility_level = 3.6
queue_directory = $dir/postfix-queue
data_directory = $dir/postfix-data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.tandem.test
mydomain = tandem.test
myorigin = tandem.test
mydestination =
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:no local delivery here
default_transport = error:this mail system delivers to its own mailboxes only
relay_transport = error:this mail system delivers to its own mailboxes only
relay_domains =
virtual_mailbox_domains = static:all
virtual_mailbox_maps = regexp:$pf/mailboxes
virtual_transport = lmtp:inet:127.0.0.1:$lmtp_port
message_size_limit = 67108864
mailbox_size_limit = 0
smtpd_sasl_type = dovecot
smtpd_sasl_path = $dir/run/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = reject_unlisted_recipient, permit_sasl_authenticated, reject
smtpd_client_restrictions = permit_sasl_authenticated, reject
smtpd_delay_reject = yes
maillog_file_prefixes = $dir
maillog_file = $dir/postfix.log
biff = no
EOF
	cat >"$pf/master.cf" <<EOF
# generated by scripts/mail-system.sh: submission on 127.0.0.1:$smtp_port, nothing chrooted
127.0.0.1:$smtp_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	postfix_start "$dir" "$smtp_port"
	cat >"$dir/env" <<EOF
MAIL_IMAP_URL=imap://127.0.0.1:$imap_port
MAIL_IMAP_PORT=$imap_port
MAIL_LMTP_PORT=$lmtp_port
MAIL_SMTP_URL=smtp://127.0.0.1:$smtp_port
MAIL_SMTP_PORT=$smtp_port
MAIL_SMTP_PID=$(tr -d ' ' <"$dir/postfix-queue/pid/master.pid")
MAIL_MASTER_USER=tandem
MAIL_MASTER_PASSWORD_FILE=$dir/master-password
MAIL_PID=$(cat "$dir/run/master.pid")
EOF
	cat "$dir/env"
	;;
smtp-stop)
	postfix_stop "$dir"
	;;
smtp-start)
	# shellcheck disable=SC1091
	. "$dir/env"
	postfix_start "$dir" "$MAIL_SMTP_PORT"
	;;
stop)
	postfix_stop "$dir"
	pidfile="$dir/run/master.pid"
	[ -f "$pidfile" ] || exit 0
	stop_master "$(cat "$pidfile")" kill "$(cat "$pidfile")"
	;;
deliver)
	[ $# -eq 1 ] || usage
	# shellcheck disable=SC1091
	. "$dir/env"
	# the message on stdin (so the program goes in -c, not in a here-document)
	/usr/bin/python3 -c '
import smtplib, sys
msg = sys.stdin.buffer.read()
with smtplib.LMTP("127.0.0.1", int(sys.argv[1])) as lmtp:
    lmtp.sendmail("sender@localhost", [sys.argv[2]], msg)
' "$MAIL_LMTP_PORT" "$1"
	;;
*) usage ;;
esac
