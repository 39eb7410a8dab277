/*
 * A libFuzzer target: lib/jscan.c against libjq's parser (the property in
 * jscan_diff.h).  Build and run with `make fuzz`; it aborts on the first
 * text on which they disagree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../fuzz/jscan_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;

	if (size > 1 << 20)
		return 0;
	why = jscan_diff((const char *)data, size, 0);
	if (why) {
		fprintf(stderr, "jscan and jv disagree: %s\n", why);
		abort();
	}
	return 0;
}
