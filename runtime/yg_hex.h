/*
 * yg_hex.h - lower-case hex text of bytes (internal).
 */
#ifndef YG_HEX_H
#define YG_HEX_H

#include <stddef.h>

/* Write the hex text of data[0..n) into buf (size bytes, NUL-terminated).
 * Stops early, at a whole byte, when buf is too small.  Returns the number
 * of characters written (not counting the NUL). */
size_t yg_hex_encode(const void *data, size_t n, char *buf, size_t size);

#endif
