/*
 * waiter: parked polls (see waiter.h).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "waiter.h"
#include "xmalloc.h"

struct waiter_poll {
	struct conn	   *conn;
	int64_t		    cursor; /* everything up to it seen */
	int64_t		    session;
	int64_t		    deadline; /* loop_now() ms */
	waiter_answer_fn    answer;
	struct waiter_poll *prev, *next; /* in lists[timeout] */
	unsigned char	    timeout;
	char		    room[WAITER_ROOM_MAX + 1];
};

struct poll_list {
	struct waiter_poll *head, *tail;
};

static struct poll_list	 lists[WAITER_MAX_TIMEOUT + 1];
static struct loop_timer timer;
static int		 parked;

static void waiter_expire(struct loop_timer *);

void
waiter_init(void)
{
	loop_timer_init(&timer, waiter_expire);
}

int
waiter_count(void)
{
	return parked;
}

/* Is a poll of session sid parked here? (A walk of every parked poll.) */
int
waiter_has_session(int64_t sid)
{
	struct waiter_poll *p;
	int		    i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++)
		for (p = lists[i].head; p != NULL; p = p->next)
			if (p->session == sid)
				return 1;
	return 0;
}

/* Set the timer to the earliest deadline of all lists. */
static void
rearm(void)
{
	int64_t next = -1;
	int	i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++) {
		if (lists[i].head != NULL &&
		    (next < 0 || lists[i].head->deadline < next))
			next = lists[i].head->deadline;
	}
	if (next < 0)
		loop_timer_cancel(&timer);
	else
		loop_timer_at(&timer, next);
}

static void
unlink_poll(struct waiter_poll *p)
{
	struct poll_list *l = &lists[p->timeout];

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		l->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		l->tail = p->prev;
	parked--;
}

/* The client went away: forget the poll (conn closes it). */
static void
poll_gone(struct conn *c, void *arg)
{
	struct waiter_poll *p = arg;

	unlink_poll(p);
	free(p);
	rearm();
}

/* Take p out of the waiter, answer it, free it. */
static void
finish(struct waiter_poll *p, const struct event *const *v, size_t n,
    int64_t cursor)
{
	unlink_poll(p);
	p->answer(p->conn, v, n, cursor);
	free(p);
}

/*
 * Park the poll on c: it has seen everything up to cursor, and waits at
 * most timeout seconds for an event that session may see in room.
 */
void
waiter_park(struct conn *c, int64_t cursor, int64_t session, const char *room,
    int timeout, waiter_answer_fn answer)
{
	struct waiter_poll *p;
	struct poll_list   *l;

	if (timeout < 0)
		timeout = 0;
	if (timeout > WAITER_MAX_TIMEOUT)
		timeout = WAITER_MAX_TIMEOUT;
	p = xcalloc(1, sizeof *p);
	p->conn = c;
	p->cursor = cursor;
	p->session = session;
	p->deadline = loop_now() + timeout * 1000LL;
	p->answer = answer;
	p->timeout = (unsigned char)timeout;
	strncpy(p->room, room, WAITER_ROOM_MAX);
	l = &lists[timeout];
	p->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	parked++;
	conn_park(c, poll_gone, p);
	if (l->head == p)
		rearm();
}

/* Answer the polls whose time is up, with no events. */
static void
waiter_expire(struct loop_timer *t)
{
	int64_t		    now = loop_now();
	struct waiter_poll *p;
	int		    i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++) {
		while ((p = lists[i].head) != NULL && p->deadline <= now)
			finish(p, NULL, 0, p->cursor);
	}
	rearm();
}

/*
 * Offer a batch of new rows (ascending ids, every row up to batch_max) to
 * every parked poll: each one that may see some of them is answered with
 * those (at most WAITER_MAX_EVENTS); the others have now seen up to
 * batch_max and go on waiting.
 */
void
waiter_news(const struct event_list *batch, int64_t batch_max)
{
	static const struct event *seen[WAITER_MAX_EVENTS];
	struct waiter_poll	  *p, *next;
	const struct event	  *e;
	size_t			   i, n;
	int			   t;

	for (t = 0; t <= WAITER_MAX_TIMEOUT; t++) {
		for (p = lists[t].head; p != NULL; p = next) {
			next = p->next;
			n = 0;
			for (i = 0; i < batch->n && n < WAITER_MAX_EVENTS;
			     i++) {
				e = &batch->v[i];
				if (e->id > p->cursor &&
				    event_visible(e, p->room, p->session))
					seen[n++] = e;
			}
			if (n == 0) {
				if (batch_max > p->cursor)
					p->cursor = batch_max;
				continue;
			}
			/* Cut at the limit: the next poll goes on from there.
			 */
			finish(p, seen, n,
			    n == WAITER_MAX_EVENTS ? seen[n - 1]->id :
						     batch_max);
		}
	}
	rearm();
}

/* Answer every parked poll now (shutdown): no events, their cursors. */
void
waiter_answer_all(void)
{
	struct waiter_poll *p;
	int		    i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++) {
		while ((p = lists[i].head) != NULL)
			finish(p, NULL, 0, p->cursor);
	}
	rearm();
}
