/*
 * Self-checking helpers shared by the guest programs.
 *
 * Every guest prints one `ok <name>` line per passed check on stdout and exits 0; on the
 * first failure it prints `FAIL <name>: <what> (errno N: <text>)` on stderr and exits 1.
 * The host test (packages/wasi/test/guests.test.ts) compares the `ok` lines with its table,
 * so a check that silently stops running is caught too.
 *
 * The guests build both for wasm32-wasi and natively (gcc), so the same program can be run
 * on Linux as the oracle: what it asserts is what the kernel does.
 */
#ifndef STRATA_GUEST_CHECK_H
#define STRATA_GUEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void guest_fail(const char *name, const char *what, int err) {
  fflush(stdout);
  if (err)
    fprintf(stderr, "FAIL %s: %s (errno %d: %s)\n", name, what, err, strerror(err));
  else
    fprintf(stderr, "FAIL %s: %s\n", name, what);
  exit(1);
}

static inline void guest_ok(const char *name) {
  printf("ok %s\n", name);
  fflush(stdout);
}

/* CHECK(name, cond): cond must hold; errno at the time of failure is reported. */
#define CHECK(name, cond)                                                                 \
  do {                                                                                    \
    if (!(cond)) guest_fail((name), #cond, errno);                                        \
  } while (0)

/* CHECK_ERRNO(name, call, expected): call must return -1 and set errno to expected. */
#define CHECK_ERRNO(name, call, expected)                                                 \
  do {                                                                                    \
    errno = 0;                                                                            \
    long check_rc_ = (long)(call);                                                        \
    if (check_rc_ != -1) guest_fail((name), #call " succeeded, expected " #expected, 0);  \
    if (errno != (expected)) guest_fail((name), #call " failed with the wrong errno, expected " #expected, errno); \
  } while (0)

/*
 * Enter the scratch directory given as argv[1] (default: the current directory), and make a
 * fresh subdirectory `sub` in it to work in, so guests can share one root without clashing.
 */
static inline void guest_enter(int argc, char **argv, const char *sub) {
  const char *base = argc > 1 ? argv[1] : ".";
  if (chdir(base) != 0) guest_fail("setup", "chdir to the scratch directory", errno);
  if (mkdir(sub, 0755) != 0) guest_fail("setup", "mkdir of the work directory", errno);
  if (chdir(sub) != 0) guest_fail("setup", "chdir to the work directory", errno);
}

#endif
