/*
 * Unit tests: the targeted JSON scanner, by hand and differentially
 * against libjq's parser on seeded mutations of transcript-shaped lines.
 */
#include <stdlib.h>

#include "../fuzz/jscan_diff.h"
#include "unit.h"

static const char *const corpus[] = {
	"{\"parentUuid\":null,\"isSidechain\":false,\"userType\":\"external\","
	"\"cwd\":\"/home/u/p\",\"sessionId\":\"0b1c\",\"version\":\"1.0.90\","
	"\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":"
	"\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[{"
	"\"type\":\"text\",\"text\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\\n\"}],"
	"\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":300,"
	"\"cache_read_input_tokens\":0,\"output_tokens\":45}},\"requestId\":"
	"\"req_9\",\"type\":\"assistant\",\"timestamp\":\"2026-11-20T10:00:00.000Z\"}",
	"{ \"type\" : \"user\" , \"message\" : { \"role\" : \"user\" , "
	"\"content\" : [ { \"type\" : \"tool_result\" , \"content\" : \"ok\" } ] } ,"
	" \"toolUseResult\" : { \"usage\" : { \"input_tokens\" : 5 } } }",
	"{\"timestamp\":\"2026-11-20T10:00:00Z\",\"type\":\"event_msg\",\"payload\""
	":{\"type\":\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\""
	":100,\"cached_input_tokens\":40,\"output_tokens\":7},\"last_token_usage\":"
	"null}}}",
	("{\"event\":\"usage\",\"cost\":0.0525,\"n\":-1.5e-3,\"big\":1E+300,"
	"\"t\":true,\"f\":false,\"z\":null,\"a\":[1,[2,[3]],{\"b\":[]}],\"e\":{}}"),
	"{\"k\\u0065y\":\"v\",\"key\":\"w\",\"dup\":1,\"dup\":2}",
	"{}",
};

static const char *const bad[] = {
	"", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":01}",
	"{\"a\":+1}", "{\"a\":.5}", "{\"a\":1.}", "{\"a\":nan}", "{\"a\":tru}",
	"{\"a\":\"x\\q\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"tab\there\"}",
	"{\"a\":1} x", "{\"a\":[1,2}", "{\"a\":[1 2]}", "[1]", "{a:1}",
	"{\"a\":1}{}", "{\"a\":\"unterminated}",
};

/*
 * libjq 1.6 itself leaks on some malformed texts (in jv_parser_next); the
 * mutations here make thousands.  Under SAN=1, LeakSanitizer reads this.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:jv_parser_next\n";
}

static unsigned long long rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* One random edit of buf (len *n, room cap). */
static void
mutate(char *buf, size_t *n, size_t cap)
{
	static const char pick[] = "\"\\{}[],: 0123456789-+.eEtfnu\x01\xc3\xa9\xff";
	size_t at = *n ? rnd((unsigned)*n) : 0;

	switch (rnd(4)) {
	case 0:         /* replace */
		if (*n)
			buf[at] = pick[rnd(sizeof pick - 1)];
		break;
	case 1:         /* insert */
		if (*n + 1 < cap) {
			memmove(buf + at + 1, buf + at, *n - at);
			buf[at] = pick[rnd(sizeof pick - 1)];
			(*n)++;
		}
		break;
	case 2:         /* delete */
		if (*n) {
			memmove(buf + at, buf + at + 1, *n - at - 1);
			(*n)--;
		}
		break;
	default:        /* cut */
		*n = at;
		break;
	}
}

static int
first_key(const char *key, const char *v, const char *ve, void *arg)
{
	snprintf(arg, 64, "%s", key);
	return 1;
}

int
main(void)
{
	char buf[4096], s[64];
	const char *why, *t;
	size_t i, n;
	int64_t c;
	double d;
	int k, agree = 1, fails = 0;

	for (i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		why = jscan_diff(corpus[i], strlen(corpus[i]), 1);
		OK(why == NULL, "corpus line %zu agrees with jv%s%s", i,
		    why ? ": " : "", why ? why : "");
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		OK(jscan_object(bad[i], bad[i] + strlen(bad[i]), 1, NULL,
		    NULL) == -1, "malformed: %s", bad[i]);

	t = "\"caf\\u00e9 \\ud83d\\ude00\"";
	OK(jscan_string(t, t + strlen(t), s, sizeof s) == 0 &&
	    !strcmp(s, "caf\xc3\xa9 \xf0\x9f\x98\x80"), "escapes and a pair");
	t = "\"\\ud83d\"";
	OK(jscan_string(t, t + strlen(t), s, sizeof s) < 0, "lone surrogate");
	t = "\"a\\u0000b\"";
	OK(jscan_string(t, t + strlen(t), s, sizeof s) < 0, "NUL refused");
	t = "\"\xff\"";
	OK(jscan_string(t, t + strlen(t), s, sizeof s) < 0, "bad UTF-8 refused");
	t = "\"0123456789\"";
	OK(jscan_string(t, t + strlen(t), s, 10) < 0, "too long for buf");
	OK(jscan_string(t, t + strlen(t), s, 11) == 0, "just fits");
	t = "9007199254740991";
	OK(jscan_count(t, t + strlen(t), &c) == 0 && c == 9007199254740991LL,
	    "2^53-1 is a count");
	t = "9007199254740992";
	OK(jscan_count(t, t + strlen(t), &c) < 0, "2^53 is not");
	t = "12.0";
	OK(jscan_count(t, t + strlen(t), &c) < 0, "12.0 is not a count");
	t = "-3";
	OK(jscan_count(t, t + strlen(t), &c) < 0, "negative is not a count");
	t = "-2.5e2";
	OK(jscan_number(t, t + strlen(t), &d) == 0 && d == -250, "number");
	t = "{\"type\":\"user\",\"rest\":[[[[";
	OK(jscan_object(t, t + strlen(t), 1, first_key, s) == 1 &&
	    !strcmp(s, "type"), "a stop leaves the rest unread");
	for (k = 0, n = 0; k < 300; k++)
		buf[n++] = '[';
	buf[n] = '\0';
	OK(jscan_value(buf, buf + n) == NULL, "300 levels deep refused");

	/* Seeded mutations: 1 to 4 edits of each corpus line. */
	for (k = 0; k < 60000; k++) {
		const char *src = corpus[rnd(sizeof corpus / sizeof corpus[0])];
		unsigned e, edits = 1 + rnd(4);

		n = strlen(src);
		memcpy(buf, src, n);
		for (e = 0; e < edits; e++)
			mutate(buf, &n, sizeof buf);
		if ((why = jscan_diff(buf, n, 0))) {
			if (fails++ < 3)
				printf("# disagree (%s): %.*s\n", why, (int)n, buf);
			agree = 0;
		}
	}
	OK(agree, "60000 mutated lines: jscan never accepts what jv reads "
	    "otherwise (%d disagreements)", fails);
	return DONE();
}
