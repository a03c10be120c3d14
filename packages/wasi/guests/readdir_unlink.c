/*
 * Removing entries while reading a directory, as `rm -r` does: read a batch, remove what it
 * returned, resume from the last cookie.
 *
 * POSIX (readdir, XSH) leaves unspecified only whether a name that was added or removed
 * after opendir() shows up; every other name must still be returned exactly once. On Linux
 * (tmpfs, ext4, overlayfs) the cookie is a stable position, so this holds and the directory
 * ends empty. A cookie that is a plain index into a fresh listing breaks it: after removing k
 * names, "resume at index i" skips k names, and `rm -r` fails with ENOTEMPTY.
 *
 * The raw `fd_readdir` path runs under WASI; the native build (the Linux oracle) does the
 * same through readdir(3) and unlink(2) on the same DIR stream.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

#define N 2000
#define NAME "readdir-unlink-while-iterating"

static unsigned char seen[N];

/* Entry i: "%04d" plus a tail of varying length, so batches hold varying counts. */
static void name_for(int i, char *out) {
  int n = snprintf(out, 64, "%04d", i);
  int tail = (i * 13) % 40;
  memset(out + n, 'a' + i % 26, tail);
  out[n + tail] = 0;
}

static int index_of(const char *name, size_t len) {
  char expect[64];
  if (len < 4) return -1;
  int i = 0;
  for (int k = 0; k < 4; k++) {
    if (name[k] < '0' || name[k] > '9') return -1;
    i = i * 10 + (name[k] - '0');
  }
  if (i >= N) return -1;
  name_for(i, expect);
  return strlen(expect) == len && memcmp(expect, name, len) == 0 ? i : -1;
}

static int is_dot(const char *name, size_t len) {
  return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/* Every 9th entry is a directory, so rmdir is exercised as well as unlink. */
static int remove_entry(int i) {
  char name[64];
  name_for(i, name);
  return i % 9 == 0 ? rmdir(name) : unlink(name);
}

static int remove_all(void) {
  int removed = 0;
#ifdef __wasi__
  static uint8_t buf[256];
  int pending[32], n_pending;
  int fd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK(NAME, fd >= 0);
  __wasi_dircookie_t cookie = 0;
  for (;;) {
    __wasi_size_t used = 0;
    __wasi_errno_t err = __wasi_fd_readdir(fd, buf, sizeof buf, cookie, &used);
    if (err) guest_fail(NAME, "fd_readdir returned an error", err);
    size_t off = 0;
    n_pending = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, buf + off, sizeof d);
      if (off + sizeof d + d.d_namlen > used) break;
      const char *name = (const char *)buf + off + sizeof d;
      if (!is_dot(name, d.d_namlen)) {
        int i = index_of(name, d.d_namlen);
        CHECK(NAME, i >= 0);
        CHECK(NAME, seen[i]++ == 0);
        CHECK(NAME, n_pending < 32);
        pending[n_pending++] = i;
      }
      cookie = d.d_next;
      off += sizeof d + d.d_namlen;
    }
    /* Remove the batch only after parsing it, then resume from the cookie. */
    for (int k = 0; k < n_pending; k++) {
      CHECK(NAME, remove_entry(pending[k]) == 0);
      removed++;
    }
    if (used < sizeof buf) break;
    CHECK(NAME, off > 0); /* every entry here fits in 256 bytes */
  }
  CHECK(NAME, close(fd) == 0);
#else
  DIR *d = opendir(".");
  CHECK(NAME, d != NULL);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (is_dot(e->d_name, len)) continue;
    int i = index_of(e->d_name, len);
    CHECK(NAME, i >= 0 && seen[i]++ == 0);
    CHECK(NAME, remove_entry(i) == 0);
    removed++;
  }
  CHECK(NAME, closedir(d) == 0);
#endif
  return removed;
}

int main(int argc, char **argv) {
  guest_enter(argc, argv, "readdir_unlink");
  CHECK("setup", mkdir("victim", 0755) == 0 && chdir("victim") == 0);
  char name[64];
  for (int i = 0; i < N; i++) {
    name_for(i, name);
    if (i % 9 == 0) {
      CHECK("setup", mkdir(name, 0755) == 0);
    } else {
      int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
      CHECK("setup", fd >= 0 && close(fd) == 0);
    }
  }
  int removed = remove_all();
  if (removed != N) {
    char msg[96];
    snprintf(msg, sizeof msg, "removed %d of %d entries: the others were skipped", removed, N);
    guest_fail(NAME, msg, 0);
  }
  CHECK(NAME, chdir("..") == 0);
  CHECK(NAME, rmdir("victim") == 0);
  guest_ok(NAME);
  return 0;
}
