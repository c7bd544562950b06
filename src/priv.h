/*
 * priv: who chatd runs as, and who may read its files.
 *
 * Started as root, chatd opens its socket and its database first, gives
 * the database's files to --user, then becomes that user and its groups
 * for good (priv_drop). Root without --user is refused unless
 * --allow-root. The umask set here makes SQLite create the database, its
 * WAL and shm 0600 (0640 with --db-group), and a missing data directory
 * is made 0700 (2750 with --db-group: set-group-ID, so that the -wal and
 * -shm the user makes later are of that group too). Every check runs in
 * priv_check, before anything is made.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_PRIV_H
#define CHATD_PRIV_H

#include <sys/types.h>

#include "conf.h"

struct priv {
	int   drop;	/* become uid/gid (started as root with --user) */
	uid_t uid;	/* the user's, or our own */
	gid_t gid;	/* the user's primary group */
	gid_t db_gid;	/* --db-group, or gid */
	int   chown_db; /* give the database files to uid:db_gid */
	int   make_dir; /* the data directory is missing: make it */
	int   make_socket_dir;
};

int priv_lookup(const struct conf *, struct priv *);
int priv_check(const struct conf *, struct priv *);
int priv_prepare(const struct conf *, const struct priv *);
int priv_own_db(const struct conf *, const struct priv *);
int priv_drop(const struct conf *, const struct priv *);

#endif
