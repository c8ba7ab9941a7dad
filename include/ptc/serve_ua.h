/* ptc_serve_ua: what a User-Agent says of the phone (src/serve/serve_ua.c);
 * its MAC is ptc_mac_find (include/ptc/mac.h).  Pure functions.
 * Ownership: nothing is kept; the result is written into the caller's out. */
#ifndef PTC_SERVE_UA_H
#define PTC_SERVE_UA_H

#include <stddef.h>

/* The firmware version in a User-Agent: the first dotted number with at
 * least three parts (66.86.0.15, 1.0.9.135, 11.3.7).  1 and the text in out,
 * or 0 (out empty). */
int ptc_serve_ua_firmware(const char *ua, char *out, size_t n);

#endif
