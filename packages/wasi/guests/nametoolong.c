/*
 * ENAMETOOLONG: a path component longer than NAME_MAX (255 bytes, counted in bytes, not
 * characters; path_resolution(7)). 255 bytes is fine.
 *
 * Not asserted: Linux's PATH_MAX (4096) on a whole path. WASI runtimes resolve paths one
 * component at a time (cap-std, uvwasi) and accept longer ones, and wasi-libc rewrites
 * relative paths against its emulated cwd, so the length the runtime sees is not the one
 * the program passed.
 *
 * Asserted for creation (open O_CREAT, mkdir, symlink, rename, link), for lookup (stat,
 * open) and for UTF-8 names (128 × "é" = 256 bytes fails, 127 × "é" = 254 bytes works).
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>

static char *repeat(const char *unit, int n) {
  size_t len = strlen(unit);
  char *s = malloc(len * n + 1);
  if (!s) guest_fail("setup", "malloc", errno);
  for (int i = 0; i < n; i++) memcpy(s + i * len, unit, len);
  s[len * n] = 0;
  return s;
}

int main(int argc, char **argv) {
  guest_enter(argc, argv, "nametoolong");
  struct stat st;
  char *n255 = repeat("n", 255), *n256 = repeat("n", 256);

  int fd = open(n255, O_CREAT | O_WRONLY, 0644);
  CHECK("name-255-ok", fd >= 0 && close(fd) == 0);
  CHECK("name-255-ok", stat(n255, &st) == 0 && S_ISREG(st.st_mode));
  CHECK("name-255-ok", unlink(n255) == 0);
  CHECK("name-255-ok", mkdir(n255, 0755) == 0 && rmdir(n255) == 0);
  guest_ok("name-255-ok");

  CHECK_ERRNO("name-256-create", open(n256, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
  CHECK_ERRNO("name-256-create", mkdir(n256, 0755), ENAMETOOLONG);
  CHECK_ERRNO("name-256-create", symlink("x", n256), ENAMETOOLONG);
  fd = open("short", O_CREAT | O_WRONLY, 0644);
  CHECK("name-256-create", fd >= 0 && close(fd) == 0);
  CHECK_ERRNO("name-256-create", rename("short", n256), ENAMETOOLONG);
  CHECK_ERRNO("name-256-create", link("short", n256), ENAMETOOLONG);
  CHECK("name-256-create", stat("short", &st) == 0); /* nothing was disturbed */
  guest_ok("name-256-create");

  CHECK_ERRNO("name-256-lookup", stat(n256, &st), ENAMETOOLONG);
  CHECK_ERRNO("name-256-lookup", open(n256, O_RDONLY), ENAMETOOLONG);
  CHECK("name-256-lookup", mkdir("d", 0755) == 0);
  char *inner = malloc(300);
  CHECK("setup", inner != NULL);
  snprintf(inner, 300, "d/%s", n256);
  CHECK_ERRNO("name-256-lookup", stat(inner, &st), ENAMETOOLONG);
  guest_ok("name-256-lookup");

  char *e127 = repeat("\xc3\xa9", 127), *e128 = repeat("\xc3\xa9", 128);
  fd = open(e127, O_CREAT | O_WRONLY, 0644);
  CHECK("name-utf8-bytes", fd >= 0 && close(fd) == 0);
  CHECK("name-utf8-bytes", unlink(e127) == 0);
  CHECK_ERRNO("name-utf8-bytes", open(e128, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
  guest_ok("name-utf8-bytes");
  return 0;
}
