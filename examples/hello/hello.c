/*
 * The example program of the hello image: shows what a container sees.
 *
 *  - its argv (argv[0] is the entrypoint as written in the image config) and $GREETING
 *    from the image's Env (or `-e GREETING=…`);
 *  - /etc/motd, shipped by the image's base layer;
 *  - it writes /data/hello.txt (and appends a line to it on every run), so `strata diff`
 *    shows `A /data/hello.txt` — or `C` once committed into the image.
 * Exits 0 on success, 1 with a message on stderr if a file operation fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *path) {
  fprintf(stderr, "hello: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  const char *greeting = getenv("GREETING");
  printf("%s from a WebAssembly container!\n", greeting ? greeting : "Hello");
  printf("argv:");
  for (int i = 0; i < argc; i++) printf(" [%s]", argv[i]);
  printf("\n");

  FILE *motd = fopen("/etc/motd", "r");
  if (!motd) return fail("cannot read", "/etc/motd");
  char line[256];
  printf("/etc/motd says:\n");
  while (fgets(line, sizeof line, motd)) printf("  %s", line);
  fclose(motd);

  FILE *out = fopen("/data/hello.txt", "a");
  if (!out) return fail("cannot write", "/data/hello.txt");
  fprintf(out, "%s, %s\n", greeting ? greeting : "Hello", argc > 1 ? argv[1] : "world");
  if (fclose(out) != 0) return fail("cannot close", "/data/hello.txt");
  printf("wrote /data/hello.txt\n");
  return 0;
}
