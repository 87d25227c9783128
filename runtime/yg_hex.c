/*
 * yg_hex.c - lower-case hex text of bytes (see yg_hex.h).
 */
#include "yg_hex.h"

size_t yg_hex_encode(const void *data, size_t n, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *d = data;
    size_t o = 0;
    if (size == 0)
        return 0;
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        buf[o++] = hex[d[i] >> 4];
        buf[o++] = hex[d[i] & 15];
    }
    buf[o] = '\0';
    return o;
}
