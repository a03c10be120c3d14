/*
 * The e2e suite's guest: one small program with a few behaviours, picked by argv[1].
 *   env            print argv and the environment, one per line
 *   exit N         exit with status N
 *   cat            copy stdin to stdout
 *   write P TEXT   write TEXT to file P (prints "ok" or the errno message, exit 0 / 1)
 *   read P         print file P
 *   loop           spin forever (for --timeout)
 *   grow           allocate 1 MiB blocks until malloc fails; print how many; exit 3
 *   recurse        call itself until the stack runs out (a trap)
 *   spew N         write N MiB of 'x' to stdout as fast as it can
 *   poll [MS]      poll stdin for input (MS: timeout, default none); print poll=N, then
 *                  what one read gives
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Not a tail call, and nothing the compiler can fold: each level keeps a frame. Stops only
   at a depth no stack reaches (the limit comes from the caller, so it is not known here). */
static int deeper(volatile int n, int limit) {
  volatile char frame[64];
  frame[0] = (char)n;
  if (n >= limit) return frame[0];
  return deeper(n + 1, limit) + frame[0];
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "env";
  if (strcmp(cmd, "env") == 0) {
    for (int i = 0; i < argc; i++) printf("arg %s\n", argv[i]);
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    return 0;
  }
  if (strcmp(cmd, "exit") == 0) return argc > 2 ? atoi(argv[2]) : 0;
  if (strcmp(cmd, "cat") == 0) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    return 0;
  }
  if (strcmp(cmd, "write") == 0 && argc > 3) {
    FILE *f = fopen(argv[2], "w");
    if (!f || fputs(argv[3], f) < 0 || fclose(f) != 0) {
      printf("error %s\n", strerror(errno));
      return 1;
    }
    printf("ok\n");
    return 0;
  }
  if (strcmp(cmd, "read") == 0 && argc > 2) {
    FILE *f = fopen(argv[2], "r");
    if (!f) {
      printf("error %s\n", strerror(errno));
      return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
  }
  if (strcmp(cmd, "loop") == 0) {
    volatile unsigned long i = 0;
    for (;;) i++;
  }
  if (strcmp(cmd, "grow") == 0) {
    /* Kept reachable through a volatile pointer, or the compiler drops malloc+memset. */
    static char *volatile last;
    int blocks = 0;
    (void)last;
    for (;;) {
      char *p = malloc(1 << 20);
      if (!p) break;
      memset(p, 1, 1 << 20);
      last = p;
      blocks++;
    }
    printf("allocated %d MiB%s\n", blocks, last ? "" : " (none)");
    return 3;
  }
  if (strcmp(cmd, "poll") == 0) {
    struct pollfd p = { .fd = 0, .events = POLLIN };
    int r = poll(&p, 1, argc > 2 ? atoi(argv[2]) : -1);
    printf("poll=%d\n", r);
    if (r > 0) {
      char buf[256];
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0) fwrite(buf, 1, (size_t)n, stdout);
    }
    return 0;
  }
  if (strcmp(cmd, "recurse") == 0) return deeper(0, argc > 2 ? atoi(argv[2]) : 1 << 30);
  if (strcmp(cmd, "spew") == 0 && argc > 2) {
    static char mib[1 << 20];
    memset(mib, 'x', sizeof mib);
    for (int i = atoi(argv[2]); i > 0; i--) fwrite(mib, 1, sizeof mib, stdout);
    return 0;
  }
  fprintf(stderr, "tool: unknown command %s\n", cmd);
  return 2;
}
