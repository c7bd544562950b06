/*
 * fcgi: the libfcgi front. Listening, accepting, and reading a request.
 *
 * libfcgi reads the request (FCGX_Accept_r: the begin record and the
 * params; then the body from its stdin stream) once conn_read.c has seen
 * it whole, so that its blocking reads never wait; then chatd keeps
 * only the socket and the request id and frees libfcgi's buffers; the
 * answer is framed by conn.c. The listening socket is non-blocking and
 * watched by the loop, so FCGX_Accept_r is only called when a connection
 * is waiting, and its failure with EAGAIN means there are no more.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_FCGI_H
#define CHATD_FCGI_H

#include "app.h"
#include "conf.h"

int  fcgi_check_socket(const struct conf *);
int  fcgi_listen(const struct conf *);
void fcgi_start(struct app *, int);
void fcgi_stop(void);
void fcgi_limits_changed(void);

#endif
