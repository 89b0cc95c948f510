/* Long double arithmetic for INCRBYFLOAT and HINCRBYFLOAT.
 *
 * Redis computes these in C `long double` (80-bit extended on x86-64) and prints them with "%.17Lf". Rust has no
 * such type, and doing the sum in f64 gives different text (10.5 + 0.1 would print 10.59999999999999964), so the
 * arithmetic is done here, the way Redis does it. Values cross the boundary as strings only.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld: the whole string must be a number, no leading space, no NaN, no overflow. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    long double v;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) || errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf" with trailing zeroes (and a bare '.') removed. */
static size_t format_ld(long double v, char *out, size_t cap) {
    int l;
    if (isinf(v)) {
        l = snprintf(out, cap, v > 0 ? "inf" : "-inf");
        return (size_t)l;
    }
    l = snprintf(out, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > cap) return 0;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    return (size_t)l;
}

/* 1 if `s` parses as a long double, 2 if it does but is infinite, 0 if it does not parse. */
int ferredis_ld_check(const char *s, size_t len) {
    long double v;
    if (!parse_ld(s, len, &v)) return 0;
    return isinf(v) ? 2 : 1;
}

/* a + b, written to out. Returns: 0 ok, 1 `a` is not a float, 2 `b` is not a float, 3 NaN or infinite result,
 * 4 output too small. */
int ferredis_ld_add(const char *a, size_t alen, const char *b, size_t blen, char *out, size_t cap,
                    size_t *outlen) {
    long double x, y, sum;
    if (!parse_ld(a, alen, &x)) return 1;
    if (!parse_ld(b, blen, &y)) return 2;
    sum = x + y;
    if (isnan(sum) || isinf(sum)) return 3;
    *outlen = format_ld(sum, out, cap);
    return *outlen == 0 ? 4 : 0;
}
