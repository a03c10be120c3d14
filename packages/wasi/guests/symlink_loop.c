/*
 * Symlink loops end in ELOOP, not in a hang or a stack overflow.
 *
 * Linux follows at most 40 links in one lookup (MAXSYMLINKS, path_resolution(7)); POSIX
 * only promises at least _POSIX_SYMLOOP_MAX = 8. cap-std (wasmtime's path walk) pushes each
 * link target back onto its work list and counts expansions the same way. So: chains of 8
 * resolve, loops and chains of 200 fail with ELOOP, whatever the exact limit.
 *
 * Asserted: a two-link cycle and a self-link give ELOOP for open/stat/mkdir-through/opendir;
 * lstat and readlink of a looping link work (they do not follow it); O_NOFOLLOW on a symlink
 * gives ELOOP (open(2)); a loop in the middle of a path gives ELOOP; a looping link can be
 * unlinked; an 8-link chain resolves and a 200-link chain does not.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
  guest_enter(argc, argv, "symlink_loop");
  struct stat st;

  CHECK("setup", symlink("b", "a") == 0 && symlink("a", "b") == 0 && symlink("self", "self") == 0);
  CHECK_ERRNO("loop-open", open("a", O_RDONLY), ELOOP);
  CHECK_ERRNO("loop-open", open("self", O_RDONLY), ELOOP);
  CHECK_ERRNO("loop-open", open("a", O_CREAT | O_WRONLY, 0644), ELOOP);
  guest_ok("loop-open");

  CHECK_ERRNO("loop-stat", stat("a", &st), ELOOP);
  CHECK_ERRNO("loop-stat", stat("self", &st), ELOOP);
  CHECK("loop-stat", lstat("a", &st) == 0 && S_ISLNK(st.st_mode));
  guest_ok("loop-stat");

  char target[16] = {0};
  CHECK("loop-readlink", readlink("a", target, sizeof target - 1) == 1 && target[0] == 'b');
  guest_ok("loop-readlink");

  CHECK_ERRNO("loop-in-path", open("a/x", O_RDONLY), ELOOP);
  CHECK_ERRNO("loop-in-path", mkdir("self/sub", 0755), ELOOP);
  CHECK_ERRNO("loop-in-path", stat("b/c/d", &st), ELOOP);
  errno = 0;
  CHECK("loop-in-path", opendir("a") == NULL && errno == ELOOP);
  guest_ok("loop-in-path");

  /* O_NOFOLLOW on a symlink, even one that points somewhere real. */
  int fd = open("real", O_CREAT | O_WRONLY, 0644);
  CHECK("setup", fd >= 0 && close(fd) == 0);
  CHECK("setup", symlink("real", "toreal") == 0);
  CHECK_ERRNO("nofollow-eloop", open("toreal", O_RDONLY | O_NOFOLLOW), ELOOP);
  fd = open("toreal", O_RDONLY);
  CHECK("nofollow-eloop", fd >= 0 && close(fd) == 0);
  guest_ok("nofollow-eloop");

  /* chain: c0 -> c1 -> ... -> c(n-1) -> real */
  char name[32], next[32];
  for (int i = 0; i < 200; i++) {
    snprintf(name, sizeof name, "c%d", i);
    if (i == 199) snprintf(next, sizeof next, "real");
    else snprintf(next, sizeof next, "c%d", i + 1);
    CHECK("setup", symlink(next, name) == 0);
  }
  CHECK("chain-8-resolves", stat("c192", &st) == 0 && S_ISREG(st.st_mode)); /* 8 links */
  fd = open("c192", O_RDONLY);
  CHECK("chain-8-resolves", fd >= 0 && close(fd) == 0);
  guest_ok("chain-8-resolves");
  CHECK_ERRNO("chain-200-eloop", stat("c0", &st), ELOOP);
  CHECK_ERRNO("chain-200-eloop", open("c0", O_RDONLY), ELOOP);
  guest_ok("chain-200-eloop");

  CHECK("loop-unlink", unlink("a") == 0 && unlink("self") == 0);
  CHECK_ERRNO("loop-unlink", lstat("a", &st), ENOENT);
  CHECK("loop-unlink", lstat("b", &st) == 0 && S_ISLNK(st.st_mode));
  CHECK_ERRNO("loop-unlink", stat("b", &st), ENOENT); /* dangling now */
  guest_ok("loop-unlink");
  return 0;
}
