/* unit.h - a tiny TAP harness for the C unit tests of lib/. */
#ifndef AG_UNIT_H
#define AG_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

/* cond is evaluated exactly once: it may have side effects. */
#define OK(cond, ...) do { \
	int unit_ok_ = !!(cond); \
	unit_n++; \
	if (unit_ok_) { printf("ok %d - ", unit_n); } \
	else { unit_failed++; printf("not ok %d - ", unit_n); } \
	printf(__VA_ARGS__); printf("\n"); \
	if (!unit_ok_) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	fflush(stdout); \
} while (0)

#define IS(a, b, ...) OK(strcmp((a), (b)) == 0, __VA_ARGS__)

#define DONE() (printf("1..%d\n", unit_n), unit_failed ? 1 : 0)

#endif
