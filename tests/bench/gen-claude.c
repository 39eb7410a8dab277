/*
 * gen-claude - write a Claude-Code-shaped transcript corpus for the cost
 * benchmark: OUTDIR/projects/<project>/<session>.jsonl (and some
 * <session>/subagents/agent-*.jsonl), about SIZE_MB megabytes.
 *
 * Like real transcripts: one assistant line per content block, each
 * repeating its message's usage (so about half the usage lines are
 * duplicates to drop), large user lines carrying tool results (whose
 * toolUseResult.usage must not count), a few <synthetic> lines, two
 * models, ten days; about 400k usage lines a gigabyte.  Input tokens stay
 * below 200k a message, where list prices have no second tier.
 *
 *   gen-claude OUTDIR SIZE_MB
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* About n bytes of JSON string content, escapes included. */
static void
filler(FILE *f, unsigned n)
{
	static const char *const words[] = { "the ", "build ", "runs ",
	    "tests ", "and ", "reports ", "\\\"ok\\\" ", "\\n", "caf\\u00e9 ",
	    "src/main.c:42: ", "error ", "{ return 0; } " };
	unsigned i = 0;

	while (i < n) {
		const char *w = words[rnd(sizeof words / sizeof words[0])];

		fputs(w, f);
		i += (unsigned)strlen(w);
	}
}

static void
mkdirs(const char *p)
{
	char buf[2048], *s;

	snprintf(buf, sizeof buf, "%s", p);
	for (s = buf + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(buf, 0755);
			*s = '/';
		}
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
		perror(buf);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	long long want, wrote = 0;
	char dir[2048], path[4096];
	unsigned proj = 0, sess = 0, msg = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: gen-claude OUTDIR SIZE_MB\n");
		return 2;
	}
	want = atoll(argv[2]) << 20;
	while (wrote < want) {
		unsigned nmsg = 50 + rnd(150), m, day = rnd(10);
		int sub = rnd(5) == 0;
		FILE *f;

		if (sess % 20 == 0)
			proj++;
		snprintf(dir, sizeof dir, "%s/projects/-home-u-proj%u", argv[1],
		    proj);
		if (sub) {
			snprintf(dir + strlen(dir), sizeof dir - strlen(dir),
			    "/sess%u/subagents", sess - 1);
			mkdirs(dir);
			snprintf(path, sizeof path, "%s/agent-%u.jsonl", dir, sess);
		} else {
			mkdirs(dir);
			snprintf(path, sizeof path, "%s/sess%u.jsonl", dir, sess);
		}
		if (!(f = fopen(path, "w"))) {
			perror(path);
			return 1;
		}
		for (m = 0; m < nmsg && wrote < want; m++, msg++) {
			unsigned blocks = 1 + rnd(3), b, hh = 8 + m * 10 / nmsg;
			unsigned in = 1 + rnd(2000), out = 10 + rnd(3000);
			unsigned cw = rnd(20000), cr = rnd(150000);
			const char *model = rnd(4) ? "claude-sonnet-4-20250514" :
			    "claude-opus-4-1-20250805";

			/* The user's turn: a tool result, often large. */
			fprintf(f, "{\"parentUuid\":\"u%u\",\"isSidechain\":false,"
			    "\"userType\":\"external\",\"cwd\":\"/home/u/proj%u\","
			    "\"sessionId\":\"sess%u\",\"version\":\"1.0.90\","
			    "\"gitBranch\":\"main\",\"type\":\"user\",\"message\":"
			    "{\"role\":\"user\",\"content\":[{\"tool_use_id\":"
			    "\"toolu_%u\",\"type\":\"tool_result\",\"content\":\"",
			    msg, proj, sess, msg);
			filler(f, 300 + rnd(4500));
			fprintf(f, "\"}]},\"uuid\":\"u%u\",\"timestamp\":"
			    "\"2026-11-%02uT%02u:%02u:%02u.%03uZ\",\"toolUseResult\":"
			    "{\"stdout\":\"ok\",\"usage\":{\"input_tokens\":%u,"
			    "\"output_tokens\":%u}}}\n", msg, 10 + day, hh,
			    m % 60, rnd(60), rnd(1000), in, out);
			for (b = 0; b < blocks; b++) {
				fprintf(f, "{\"parentUuid\":\"u%u\",\"isSidechain\":"
				    "%s,\"userType\":\"external\",\"cwd\":"
				    "\"/home/u/proj%u\",\"sessionId\":\"sess%u\","
				    "\"version\":\"1.0.90\",\"gitBranch\":\"main\","
				    "\"message\":{\"id\":\"msg_%08u\",\"type\":"
				    "\"message\",\"role\":\"assistant\",\"model\":"
				    "\"%s\",\"content\":[{\"type\":\"text\",\"text\":"
				    "\"", msg, sub ? "true" : "false", proj, sess, msg,
				    model);
				filler(f, 200 + rnd(900));
				fprintf(f, "\"}],\"stop_reason\":null,"
				    "\"stop_sequence\":null,\"usage\":{"
				    "\"input_tokens\":%u,\"cache_creation_input_tokens\""
				    ":%u,\"cache_read_input_tokens\":%u,"
				    "\"output_tokens\":%u,\"service_tier\":"
				    "\"standard\"}},\"requestId\":\"req_%08u\",\"type\":"
				    "\"assistant\",\"uuid\":\"a%u-%u\",\"timestamp\":"
				    "\"2026-11-%02uT%02u:%02u:%02u.%03uZ\"}\n", in, cw,
				    cr, out, msg, msg, b, 10 + day, hh, m % 60,
				    rnd(60), rnd(1000));
			}
			if (rnd(100) == 0)
				fprintf(f, "{\"cwd\":\"/home/u/proj%u\",\"sessionId\":"
				    "\"sess%u\",\"message\":{\"id\":\"syn%u\",\"model\""
				    ":\"<synthetic>\",\"content\":[],\"usage\":{"
				    "\"input_tokens\":0,\"output_tokens\":0}},"
				    "\"type\":\"assistant\",\"timestamp\":"
				    "\"2026-11-%02uT%02u:00:00.000Z\"}\n", proj, sess,
				    msg, 10 + day, hh);
		}
		wrote += ftell(f);
		if (fclose(f) != 0) {
			perror(path);
			return 1;
		}
		sess++;
	}
	return 0;
}
