/* SPDX-License-Identifier: MIT */
/* The tandemctl verbs, in --help order: CTL_VERB(name, summary) with a handler
   `int cmd_<name>(int argc, char **argv)` in one of the cmd-*.c files. Adding a verb is one line
   here plus its source file in CMakeLists.txt. No include guard: included with different
   CTL_VERB definitions (ctl.h declares the handlers, main.c builds the verb table). */

CTL_VERB(initconfigdb, "create the configdb and its master admin (no node needed)")
CTL_VERB(hashpassword, "print the argon2id hash of a password, for createusers CSV files")
CTL_VERB(registerserver, "register the server (cluster) name")
CTL_VERB(registerfilestore, "register a filestore")
CTL_VERB(registerdatabase, "register a user database (primary or replica)")
CTL_VERB(promotedatabase, "make a replica the primary of a database (failover)")
CTL_VERB(listserver, "list registered servers")
CTL_VERB(listfilestore, "list filestores")
CTL_VERB(listdatabase, "list user databases")
CTL_VERB(createcontext, "create a context with its admin user")
CTL_VERB(changecontext, "change a context's name, quota or login mappings")
CTL_VERB(disablecontext, "disable a context")
CTL_VERB(enablecontext, "enable a context")
CTL_VERB(deletecontext, "delete a context with all its data")
CTL_VERB(listcontext, "list contexts")
CTL_VERB(createuser, "create a user in a context")
CTL_VERB(createusers, "create users from a CSV file, in batches")
CTL_VERB(changeuser, "change a user")
CTL_VERB(deleteuser, "delete a user")
CTL_VERB(listuser, "list the users of a context")
CTL_VERB(exportcontext, "write a context (rows, files, configdb records) to an archive")
CTL_VERB(importcontext, "restore a context from an exportcontext archive")
CTL_VERB(backupconfigdb, "copy an SQLite configdb consistently while in use")
CTL_VERB(checkconsistency, "compare file rows with the filestore; --repair fixes them")
CTL_VERB(nodestatus, "show the node at --url: state, version, uptime, connections")
CTL_VERB(drainnode, "drain the node at --url (as SIGTERM): health 503, then exit")
CTL_VERB(clusterstats, "show the cluster: members, sessions per node, stream lag, Redis")
CTL_VERB(listannouncements, "listen to the nodes' multicast announce and list who spoke")
