/*
 * Hard links and st_nlink.
 *
 * link(2) / unlink(2): every name of an inode shares its data and metadata, st_nlink counts
 * the names, and an inode whose last name is gone lives on, with st_nlink 0, while a
 * descriptor holds it. Linking a directory is EPERM; linking onto an existing name EEXIST.
 * link() without AT_SYMLINK_FOLLOW links a symlink itself (Linux; linkat(2)).
 * In Strata this also covers overlayfs `index=on`-like behaviour: links stay one inode
 * after either name is changed.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>

static struct stat st_of(const char *name, const char *path) {
  struct stat st;
  CHECK(name, lstat(path, &st) == 0);
  return st;
}

int main(int argc, char **argv) {
  guest_enter(argc, argv, "hardlink_nlink");
  struct stat st;

  int fd = open("f", O_CREAT | O_WRONLY, 0644);
  CHECK("setup", fd >= 0 && write(fd, "one", 3) == 3 && close(fd) == 0);
  CHECK("nlink-counts", st_of("nlink-counts", "f").st_nlink == 1);
  CHECK("nlink-counts", link("f", "g") == 0);
  CHECK("setup", mkdir("sub", 0755) == 0);
  CHECK("nlink-counts", link("g", "sub/h") == 0);
  ino_t ino = st_of("nlink-counts", "f").st_ino;
  const char *names[] = {"f", "g", "sub/h"};
  for (int i = 0; i < 3; i++) {
    st = st_of("nlink-counts", names[i]);
    CHECK("nlink-counts", st.st_nlink == 3 && st.st_ino == ino);
  }
  guest_ok("nlink-counts");

  /* Data and metadata are the inode's: a write or utimensat through one name shows in all
     (WASI preview1 has no chmod). */
  fd = open("sub/h", O_WRONLY | O_TRUNC);
  CHECK("links-share-data", fd >= 0 && write(fd, "shared", 6) == 6 && close(fd) == 0);
  char buf[16] = {0};
  fd = open("f", O_RDONLY);
  CHECK("links-share-data", fd >= 0 && read(fd, buf, sizeof buf) == 6 && close(fd) == 0);
  CHECK("links-share-data", memcmp(buf, "shared", 6) == 0);
  struct timespec ts[2] = {{1500000000, 11}, {1500000000, 22}};
  CHECK("links-share-data", utimensat(AT_FDCWD, "g", ts, 0) == 0);
  st = st_of("links-share-data", "f");
  CHECK("links-share-data", st.st_mtim.tv_sec == 1500000000); /* ns: timestamps_ns.c */
  guest_ok("links-share-data");

  CHECK("unlink-decrements", unlink("f") == 0);
  CHECK("unlink-decrements", st_of("unlink-decrements", "g").st_nlink == 2);
  CHECK("unlink-decrements", rename("g", "g2") == 0);
  CHECK("unlink-decrements", st_of("unlink-decrements", "g2").st_nlink == 2);
  guest_ok("unlink-decrements");

  fd = open("g2", O_RDWR);
  CHECK("open-after-last-unlink", fd >= 0);
  CHECK("open-after-last-unlink", unlink("g2") == 0 && unlink("sub/h") == 0);
  CHECK("open-after-last-unlink", fstat(fd, &st) == 0 && st.st_nlink == 0);
  memset(buf, 0, sizeof buf);
  CHECK("open-after-last-unlink", pread(fd, buf, sizeof buf, 0) == 6);
  CHECK("open-after-last-unlink", memcmp(buf, "shared", 6) == 0);
  CHECK("open-after-last-unlink", pwrite(fd, "S", 1, 0) == 1);
  CHECK("open-after-last-unlink", close(fd) == 0);
  CHECK_ERRNO("open-after-last-unlink", lstat("g2", &st), ENOENT);
  guest_ok("open-after-last-unlink");

  fd = open("x", O_CREAT | O_WRONLY, 0644);
  CHECK("setup", fd >= 0 && close(fd) == 0);
  CHECK_ERRNO("link-errors", link("sub", "sub2"), EPERM);
  CHECK_ERRNO("link-errors", link("x", "sub"), EEXIST);
  CHECK_ERRNO("link-errors", link("missing", "y"), ENOENT);
  CHECK("link-errors", st_of("link-errors", "x").st_nlink == 1);
  guest_ok("link-errors");

  CHECK("setup", symlink("x", "sym") == 0);
  CHECK("link-symlink-itself", link("sym", "sym2") == 0);
  st = st_of("link-symlink-itself", "sym2");
  CHECK("link-symlink-itself", S_ISLNK(st.st_mode) && st.st_nlink == 2);
  CHECK("link-symlink-itself", st.st_ino == st_of("link-symlink-itself", "sym").st_ino);
  CHECK("link-symlink-itself", st_of("link-symlink-itself", "x").st_nlink == 1);
  guest_ok("link-symlink-itself");
  return 0;
}
