/*
 * rename(2) onto something that exists.
 *
 * rename(2) / POSIX rename: a file replaces a file atomically (the old target's inode lives
 * on while it is open); a directory replaces an empty directory; a non-empty target
 * directory gives ENOTEMPTY (POSIX also allows EEXIST; Linux, the oracle, says ENOTEMPTY);
 * a file onto a directory is EISDIR, a directory onto a file ENOTDIR; a directory into its
 * own subtree is EINVAL; two names of one inode: "rename() does nothing and returns success".
 * Failed renames leave both names as they were.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>

static void put(const char *path, const char *text) {
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  CHECK("setup", fd >= 0);
  CHECK("setup", write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  CHECK("setup", close(fd) == 0);
}

static void expect(const char *name, const char *path, const char *want) {
  char buf[32] = {0};
  int fd = open(path, O_RDONLY);
  CHECK(name, fd >= 0);
  CHECK(name, read(fd, buf, sizeof buf) == (ssize_t)strlen(want) && strcmp(buf, want) == 0);
  CHECK(name, close(fd) == 0);
}

static ino_t ino(const char *path) {
  struct stat st;
  CHECK("setup", lstat(path, &st) == 0);
  return st.st_ino;
}

int main(int argc, char **argv) {
  guest_enter(argc, argv, "rename_over");
  struct stat st;

  put("a", "AAA");
  put("b", "B");
  ino_t ino_a = ino("a");
  int old_b = open("b", O_RDONLY);
  CHECK("file-over-file", old_b >= 0);
  CHECK("file-over-file", rename("a", "b") == 0);
  CHECK_ERRNO("file-over-file", lstat("a", &st), ENOENT);
  CHECK("file-over-file", ino("b") == ino_a);
  expect("file-over-file", "b", "AAA");
  guest_ok("file-over-file");

  /* The replaced file is unlinked, not destroyed: its open fd still reads it. */
  char buf[8] = {0};
  CHECK("replaced-file-stays-open", read(old_b, buf, sizeof buf) == 1 && buf[0] == 'B');
  CHECK("replaced-file-stays-open", fstat(old_b, &st) == 0 && st.st_nlink == 0);
  CHECK("replaced-file-stays-open", close(old_b) == 0);
  guest_ok("replaced-file-stays-open");

  CHECK("setup", mkdir("d1", 0755) == 0 && mkdir("empty", 0755) == 0);
  put("d1/inside", "in");
  ino_t ino_d1 = ino("d1");
  CHECK("dir-over-empty-dir", rename("d1", "empty") == 0);
  CHECK_ERRNO("dir-over-empty-dir", lstat("d1", &st), ENOENT);
  CHECK("dir-over-empty-dir", ino("empty") == ino_d1);
  expect("dir-over-empty-dir", "empty/inside", "in");
  guest_ok("dir-over-empty-dir");

  CHECK("setup", mkdir("d3", 0755) == 0 && mkdir("full", 0755) == 0);
  put("full/keep", "keep");
  CHECK_ERRNO("dir-over-nonempty-dir", rename("d3", "full"), ENOTEMPTY);
  CHECK("dir-over-nonempty-dir", lstat("d3", &st) == 0 && S_ISDIR(st.st_mode));
  expect("dir-over-nonempty-dir", "full/keep", "keep");
  guest_ok("dir-over-nonempty-dir");

  put("file", "f");
  CHECK_ERRNO("file-over-dir", rename("file", "d3"), EISDIR);
  CHECK_ERRNO("dir-over-file", rename("d3", "file"), ENOTDIR);
  expect("file-over-dir", "file", "f");
  CHECK("dir-over-file", lstat("d3", &st) == 0 && S_ISDIR(st.st_mode));
  guest_ok("file-over-dir");
  guest_ok("dir-over-file");

  CHECK("setup", mkdir("d3/sub", 0755) == 0);
  CHECK_ERRNO("dir-into-itself", rename("d3", "d3/sub/d3"), EINVAL);
  CHECK_ERRNO("dir-into-itself", rename("d3", "d3/x"), EINVAL);
  CHECK("dir-into-itself", lstat("d3/sub", &st) == 0);
  guest_ok("dir-into-itself");

  /* Two names of one inode: nothing happens, both stay. */
  CHECK("setup", link("file", "file2") == 0);
  CHECK("same-inode-noop", rename("file", "file2") == 0);
  CHECK("same-inode-noop", lstat("file", &st) == 0 && st.st_nlink == 2);
  CHECK("same-inode-noop", lstat("file2", &st) == 0);
  CHECK("same-inode-noop", rename("file", "file") == 0 && lstat("file", &st) == 0);
  guest_ok("same-inode-noop");

  /* A symlink is replaced as a name; its target is untouched. */
  CHECK("setup", symlink("full", "link") == 0);
  put("plain", "p");
  CHECK("file-over-symlink", rename("plain", "link") == 0);
  CHECK("file-over-symlink", lstat("link", &st) == 0 && S_ISREG(st.st_mode));
  expect("file-over-symlink", "full/keep", "keep");
  guest_ok("file-over-symlink");
  return 0;
}
