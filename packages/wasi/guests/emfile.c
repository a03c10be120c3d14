/*
 * EMFILE at the descriptor limit.
 *
 * open(2): "EMFILE The per-process limit on the number of open file descriptors has been
 * reached". Strata's WASI has a configurable fd limit (the host test sets a small one);
 * natively the limit is RLIMIT_NOFILE. Either way the program opens until failure and checks:
 *  - the failure is EMFILE (not ENFILE, ENOMEM or a trap), and came before MAX_TRY opens;
 *  - closing one descriptor frees exactly one slot: the next open succeeds, the one after
 *    fails with EMFILE again;
 *  - opening a directory at the limit fails the same way;
 *  - after closing everything, open works again (no leaked slots).
 * argv[2], if given, is the limit the host configured, and the count must match it: the fd
 * table already holds stdin/stdout/stderr and the preopen(s), so the opens that succeed must
 * be limit - (descriptors open before the loop), counted by probing fds 0..limit-1 with fstat.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>

#define MAX_TRY 100000

static int fds[MAX_TRY];

int main(int argc, char **argv) {
  guest_enter(argc, argv, "emfile");
  int fd = open("f", O_CREAT | O_WRONLY, 0644);
  CHECK("setup", fd >= 0 && close(fd) == 0);
  CHECK("setup", mkdir("d", 0755) == 0);

  int limit = argc > 2 ? atoi(argv[2]) : 0, already = 0;
  for (int probe = 0; probe < limit && probe < MAX_TRY; probe++) {
    struct stat st;
    if (fstat(probe, &st) == 0) already++;
  }

  int n = 0;
  for (;;) {
    CHECK("emfile-at-limit", n < MAX_TRY); /* no limit reached: configure one */
    errno = 0;
    fd = open("f", O_RDONLY);
    if (fd < 0) break;
    fds[n++] = fd;
  }
  CHECK("emfile-at-limit", errno == EMFILE);
  CHECK("emfile-at-limit", n >= 3);
  if (limit > 0) CHECK("emfile-at-limit", n == limit - already);
  printf("# opened %d descriptors before EMFILE\n", n);
  guest_ok("emfile-at-limit");

  CHECK_ERRNO("emfile-directory", open("d", O_RDONLY | O_DIRECTORY), EMFILE);
  guest_ok("emfile-directory");

  CHECK("close-frees-one", close(fds[n / 2]) == 0);
  fd = open("f", O_RDONLY);
  CHECK("close-frees-one", fd >= 0);
  fds[n / 2] = fd;
  CHECK_ERRNO("close-frees-one", open("f", O_RDONLY), EMFILE);
  guest_ok("close-frees-one");

  for (int i = 0; i < n; i++) CHECK("close-all", close(fds[i]) == 0);
  for (int i = 0; i < n; i++) {
    fds[i] = open("f", O_RDONLY);
    CHECK("close-all", fds[i] >= 0);
  }
  for (int i = 0; i < n; i++) CHECK("close-all", close(fds[i]) == 0);
  guest_ok("close-all");
  return 0;
}
