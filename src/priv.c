/*
 * priv: users, groups, file modes and the drop from root (see priv.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

#define MAX_GROUPS 256

/* The group named name into *gid; -1 after logging that there is none. */
static int
group_id(const char *option, const char *name, gid_t *gid)
{
	struct group *gr;

	if ((gr = getgrnam(name)) == NULL) {
		log_error("--%s %s: no such group", option, name);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/*
 * Look up --user, --db-group and --socket-group, and decide whether to
 * drop: only as root, and only to another user. -1 after logging why.
 */
int
priv_lookup(const struct conf *conf, struct priv *p)
{
	struct passwd *pw;
	gid_t	       gid;

	memset(p, 0, sizeof *p);
	p->uid = geteuid();
	p->gid = getegid();
	if (conf->user != NULL) {
		if ((pw = getpwnam(conf->user)) == NULL) {
			log_error("--user %s: no such user", conf->user);
			return -1;
		}
		if (pw->pw_uid != geteuid() && geteuid() != 0) {
			log_error("--user %s: chatd must be started as root to "
				  "become another user",
			    conf->user);
			return -1;
		}
		p->drop = pw->pw_uid != geteuid();
		p->chown_db = p->drop;
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
	}
	p->db_gid = p->gid;
	if (conf->db_group != NULL) {
		if (group_id("db-group", conf->db_group, &p->db_gid) == -1)
			return -1;
		p->chown_db = 1;
	}
	if (conf->socket_group != NULL &&
	    group_id("socket-group", conf->socket_group, &gid) == -1)
		return -1;
	return 0;
}

/* May uid (in groups) create files in the directory st describes? */
static int
may_write(const struct stat *st, uid_t uid, const gid_t *groups, int n)
{
	int i;

	if (uid == 0 || st->st_uid == uid)
		return uid == 0 || (st->st_mode & S_IWUSR);
	for (i = 0; i < n; i++)
		if (groups[i] == st->st_gid)
			return (st->st_mode & S_IWGRP) != 0;
	return (st->st_mode & S_IWOTH) != 0;
}

/*
 * The directory of path: there (and writable by the user if need_write),
 * or missing with a parent to make it in (*make set). -1 after logging.
 */
static int
check_dir(const char *option, const char *path, const struct conf *conf,
    const struct priv *p, int need_write, int *make)
{
	char	    copy[PATH_MAX], parent[PATH_MAX], *dir;
	struct stat st;
	gid_t	    groups[MAX_GROUPS];
	int	    n = MAX_GROUPS;

	snprintf(copy, sizeof copy, "%s", path);
	dir = dirname(copy);
	*make = 0;
	if (stat(dir, &st) == -1) {
		snprintf(parent, sizeof parent, "%s", dir);
		if (errno != ENOENT || stat(dirname(parent), &st) == -1 ||
		    !S_ISDIR(st.st_mode)) {
			log_error("--%s %s: directory %s: %s", option, path,
			    dir, strerror(errno == 0 ? ENOENT : errno));
			return -1;
		}
		*make = 1;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("--%s %s: %s is not a directory", option, path, dir);
		return -1;
	}
	if (!need_write || !p->drop)
		return 0;
	if (getgrouplist(conf->user, p->gid, groups, &n) == -1)
		n = 0;
	if (!may_write(&st, p->uid, groups, n)) {
		log_error("--db %s: directory %s is not writable by user %s, "
			  "who must create the database's -wal and -shm "
			  "files there",
		    path, dir, conf->user);
		return -1;
	}
	return 0;
}

/*
 * Every check of who runs chatd and where its files go, before anything
 * is made: root needs --user or --allow-root; the directories of --db and
 * --socket exist (or can be made), the first writable by the user.
 */
int
priv_check(const struct conf *conf, struct priv *p)
{
	if (geteuid() == 0 && conf->user == NULL && !conf->allow_root) {
		log_error("refusing to run as root: give --user NAME (the "
			  "user to run as once ready) or --allow-root");
		return -1;
	}
	if (check_dir("db", conf->db_path, conf, p, 1, &p->make_dir) == -1)
		return -1;
	return check_dir(
	    "socket", conf->socket_path, conf, p, 0, &p->make_socket_dir);
}

/* Make the directory of path with mode, for uid:gid if own. */
static int
make_dir(const char *path, mode_t mode, const struct priv *p, int own)
{
	char copy[PATH_MAX], *dir;

	snprintf(copy, sizeof copy, "%s", path);
	dir = dirname(copy);
	if (mkdir(dir, mode) == -1 && errno != EEXIST) {
		log_error("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (chmod(dir, mode) == -1 ||
	    (own && chown(dir, p->uid, p->db_gid) == -1)) {
		log_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	log_info("made directory %s, mode %o", dir, (unsigned)mode);
	return 0;
}

/*
 * Before the database is made: the umask for its files (0600, or 0640
 * with --db-group) and the missing directories.
 */
int
priv_prepare(const struct conf *conf, const struct priv *p)
{
	umask(conf->db_group != NULL ? 0027 : 0077);
	/* With --db-group, set-group-ID: a new -wal is of that group too. */
	if (p->make_dir &&
	    make_dir(conf->db_path, conf->db_group != NULL ? 02750 : 0700, p,
		p->chown_db) == -1)
		return -1;
	if (p->make_socket_dir && make_dir(conf->socket_path, 0755, p, 0) == -1)
		return -1;
	return 0;
}

/* Give one database file to the user, and nothing to others. */
static int
own_file(const char *path, const struct priv *p)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (p->chown_db && chown(path, p->uid, p->db_gid) == -1)
		return -1;
	if (st.st_mode & 0007) {
		log_warn("%s was mode %04o, readable by any user: now %04o",
		    path, (unsigned)(st.st_mode & 0777),
		    (unsigned)(st.st_mode & 0770));
		if (chmod(path, st.st_mode & 0770) == -1)
			return -1;
	}
	return 0;
}

/*
 * Once the schema is in place: the database, its WAL and shm belong to
 * the user (and --db-group), and to no one else; so does the log file,
 * which the user opens again on SIGHUP.
 */
int
priv_own_db(const struct conf *conf, const struct priv *p)
{
	static const char *const tails[] = { "", "-wal", "-shm" };
	char			 path[PATH_MAX];
	size_t			 i;

	for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		snprintf(path, sizeof path, "%s%s", conf->db_path, tails[i]);
		if (own_file(path, p) == -1) {
			log_error("%s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (p->drop && conf->log_file != NULL &&
	    chown(conf->log_file, p->uid, (gid_t)-1) == -1) {
		log_error("%s: %s", conf->log_file, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Become the user, with its groups, for good: once done, root cannot be
 * had back (checked). -1 after logging why.
 */
int
priv_drop(const struct conf *conf, const struct priv *p)
{
	if (!p->drop)
		return 0;
	if (initgroups(conf->user, p->gid) == -1 || setgid(p->gid) == -1 ||
	    setuid(p->uid) == -1) {
		log_error("becoming user %s: %s", conf->user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() != p->uid || getegid() != p->gid) {
		log_error(
		    "user %s: root could be had back: refused", conf->user);
		return -1;
	}
	return 0;
}
