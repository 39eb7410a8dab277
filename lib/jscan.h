/*
 * jscan.h - a targeted JSON scanner: walk an object's members and read
 * the few values wanted, without building anything.  The transcripts ag-cost
 * imports run to gigabytes, mostly tool output nobody bills for; libjq's
 * parser (about 85 MB/s here) builds every value of every line, where
 * this one allocates nothing and stops as soon as a line is known not to
 * matter.
 *
 * What it accepts is strict JSON (RFC 8259): where it says a text is
 * well-formed and names a value, libjq's parser reads the same value
 * (tests/unit/jscan.c and tests/fuzz/jscan.c hold it to that).  It is
 * stricter than jq 1.6, which also takes "nan", "01" or "+1": such lines
 * are skipped as malformed.
 */
#ifndef AG_JSCAN_H
#define AG_JSCAN_H

#include <stddef.h>
#include <stdint.h>

/* Past the value starting at p (leading whitespace skipped), or NULL when
 * it is not one well-formed JSON value. Nesting deeper than 512 fails. */
const char *jscan_value(const char *p, const char *end);

/*
 * Call fn for each member of the object at p..end, in order; key is the
 * decoded key (NUL-terminated; keys longer than 63 bytes are given as ""
 * since nothing looked for is that long), v..vend the raw value.  When
 * whole is set, nothing but whitespace may follow the object.  fn returns
 * 0 to go on, non-zero to stop (the rest is then not checked).
 * Returns 0 when walked to the end, 1 when fn stopped it, -1 malformed.
 */
typedef int (*jscan_fn)(const char *key, const char *v, const char *vend,
    void *arg);
int jscan_object(const char *p, const char *end, int whole, jscan_fn fn,
    void *arg);

/* The string value v..vend decoded into buf (NUL-terminated, UTF-8);
 * -1 when it is not a string or does not fit. */
int jscan_string(const char *v, const char *vend, char *buf, size_t cap);
/* A number that is a non-negative integer below 2^53 ("12", not "12.0");
 * -1 otherwise. */
int jscan_count(const char *v, const char *vend, int64_t *out);
/* Any number; -1 when it is not one. */
int jscan_number(const char *v, const char *vend, double *out);
/* Whether v..vend is the literal null. */
int jscan_is_null(const char *v, const char *vend);

#endif
