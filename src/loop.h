/*
 * loop: the event loop of one chatd process (epoll and a few timers).
 *
 * Everything in a chatd process runs on this one thread: accepting
 * requests, answering them, waking parked polls. A module that needs to
 * hear about a descriptor embeds a struct loop_io and gives it a callback;
 * one that needs to run later embeds a struct loop_timer. There are only a
 * handful of timers per process (the waiter's next deadline, the watcher,
 * the idle reaper), so they live in a plain list.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_LOOP_H
#define CHATD_LOOP_H

#include <stdint.h>

struct loop_io;
typedef void (*loop_io_fn)(struct loop_io *, uint32_t events);

struct loop_io {
	int	   fd;
	loop_io_fn fn;
	uint32_t   events; /* registered with epoll, 0 if none */
};

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop_timer *);

struct loop_timer {
	int64_t		   when; /* loop_now() ms, or -1 when unset */
	loop_timer_fn	   fn;
	struct loop_timer *next;
};

/*
 * Work posted to run once at the end of the current loop iteration, after
 * every ready event has been handled: how requests that arrived together
 * are written to the store together (one commit, one fsync).
 */
struct loop_post;
typedef void (*loop_post_fn)(struct loop_post *);

struct loop_post {
	loop_post_fn	  fn;
	int		  posted;
	struct loop_post *next;
};

int	loop_init(void);
void	loop_post(struct loop_post *, loop_post_fn);
void	loop_io_set(struct loop_io *, uint32_t);
void	loop_io_closing(struct loop_io *);
void	loop_timer_init(struct loop_timer *, loop_timer_fn);
void	loop_timer_at(struct loop_timer *, int64_t);
void	loop_timer_cancel(struct loop_timer *);
int	loop_run_once(int);
int64_t loop_now(void);
int64_t loop_wall_ms(void);

#endif
