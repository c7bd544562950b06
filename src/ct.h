/*
 * ct: comparing secrets in constant time. ct_equal looks at every byte
 * whatever it finds, so how long it takes tells nothing of where two
 * strings of the same length first differ.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_CT_H
#define CHATD_CT_H

#include <stddef.h>

int ct_equal(const void *, const void *, size_t);

#endif
