/*
 * h_image: GET /api/image/ID, the bytes of an uploaded image.
 *
 * (The upload, POST /api/image, is a send: h_send.c.) The caller needs a
 * live session and must be allowed to see the image's event: a room's
 * image is seen by everyone, a private one by its sender and recipient.
 * Any other case is 404 not_found, so that ids do not tell whether a
 * private image exists. The bytes go out with the type they were judged
 * to have when stored, nosniff, inline, and a long private cache life:
 * an image never changes.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "reply.h"
#include "session.h"

#define IMAGE_PREFIX "/api/image/"

/*
 * The id at the end of the path: 1 to 18 digits, no sign, no leading
 * zero (one image, one address); 0 if it is not one.
 */
static int64_t
image_id(const char *path)
{
	const char *s = path + sizeof IMAGE_PREFIX - 1;
	int64_t	    v = 0;
	size_t	    n;

	if (s[0] == '0')
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 18)
			return 0;
		v = v * 10 + (s[n] - '0');
	}
	return v;
}

void
h_image_get(struct app *app, struct conn *c)
{
	struct store_session s;
	struct store_image   img;
	enum store_result    r;
	int64_t		     id;

	if (session_require(app, c, &s) == -1)
		return;
	if ((id = image_id(c->req.path)) <= 0) {
		reply_error(c, API_NOT_FOUND, "No such image.", NULL);
		return;
	}
	r = store_image_get(app->store, id, s.id, &img);
	if (r == STORE_NOT_FOUND)
		reply_error(c, API_NOT_FOUND, "No such image.", NULL);
	else if (r != STORE_OK)
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
	else
		reply_image(c, img.type, img.data, img.len);
	free(img.data);
}
