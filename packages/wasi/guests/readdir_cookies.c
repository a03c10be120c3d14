/*
 * fd_readdir cookies over a directory of 5,000 entries, read through small buffers.
 *
 * WASI preview1 `fd_readdir(fd, buf, buf_len, cookie) -> bufused`: the buffer holds a
 * sequence of `dirent` headers (24 bytes: d_next, d_ino, d_namlen, d_type), each followed by
 * d_namlen name bytes. The call "fills the output buffer as much as possible, potentially
 * truncating the last directory entry", so that the caller can grow its buffer; bufused <
 * buf_len means the end of the directory was reached. `d_next` is the cookie that resumes
 * after the entry (witx: wasi_snapshot_preview1, fd_readdir / dirent).
 *
 * What is asserted:
 *  - every name is returned exactly once, with the right d_type, when read 128 bytes at a
 *    time (names up to ~200 bytes, so entries straddle buffers and some do not fit at all);
 *  - a buffer too small for the next entry comes back completely filled (bufused ==
 *    buf_len) with the header intact, so the caller can see d_namlen and grow;
 *  - resuming from any recorded cookie yields exactly the same tail as the first pass;
 *    resuming from the last d_next yields nothing;
 *  - readdir(3)/telldir/seekdir in wasi-libc agree.
 * Removing entries while reading is readdir_unlink.c.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

#define N 5000
#define NAME_BUF 256

static unsigned short seen[N];

/* Entry i: "%05d", and every 7th gets a long tail so some entries exceed a small buffer. */
static void name_for(int i, char *out) {
  int n = snprintf(out, NAME_BUF, "%05d", i);
  if (i % 7 == 0) {
    out[n++] = '-';
    int tail = 40 + (i * 37) % 160;
    memset(out + n, 'x', tail);
    n += tail;
  }
  out[n] = 0;
}

/* 0: regular file, 1: directory, 2: symlink. */
static int kind_for(int i) { return i % 10 == 3 ? 1 : i % 10 == 5 ? 2 : 0; }

/* Index of a name we created, or -1 for anything else (".", "..", strangers). */
static int index_of(const char *name, size_t len) {
  char expect[NAME_BUF];
  if (len < 5) return -1;
  int i = 0;
  for (int k = 0; k < 5; k++) {
    if (name[k] < '0' || name[k] > '9') return -1;
    i = i * 10 + (name[k] - '0');
  }
  if (i >= N) return -1;
  name_for(i, expect);
  if (strlen(expect) != len || memcmp(expect, name, len) != 0) return -1;
  return i;
}

static int is_dot(const char *name, size_t len) {
  return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

static void populate(void) {
  char name[NAME_BUF];
  for (int i = 0; i < N; i++) {
    name_for(i, name);
    switch (kind_for(i)) {
      case 1: CHECK("create-5000", mkdir(name, 0755) == 0); break;
      case 2: CHECK("create-5000", symlink("target", name) == 0); break;
      default: {
        int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
        CHECK("create-5000", fd >= 0);
        CHECK("create-5000", close(fd) == 0);
      }
    }
  }
  guest_ok("create-5000");
}

/* readdir(3) and telldir/seekdir, the path most programs take. */
static void check_libc(void) {
  DIR *d = opendir(".");
  CHECK("readdir-libc", d != NULL);
  memset(seen, 0, sizeof seen);
  long mid = -1;
  int count = 0, after_mid = 0;
  char mid_name[NAME_BUF] = {0};
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (is_dot(e->d_name, len)) continue;
    int i = index_of(e->d_name, len);
    CHECK("readdir-libc", i >= 0);
    CHECK("readdir-libc", seen[i]++ == 0);
    if (++count == N / 2) {
      mid = telldir(d);
      CHECK("readdir-libc", mid >= 0);
    } else if (count == N / 2 + 1) {
      strcpy(mid_name, e->d_name);
    }
    if (count > N / 2) after_mid++;
  }
  CHECK("readdir-libc", errno == 0);
  CHECK("readdir-libc", count == N);
  seekdir(d, mid);
  e = readdir(d);
  CHECK("readdir-libc", e != NULL && strcmp(e->d_name, mid_name) == 0);
  int again = 1;
  while ((e = readdir(d)) != NULL) again++;
  CHECK("readdir-libc", again == after_mid);
  CHECK("readdir-libc", closedir(d) == 0);
  guest_ok("readdir-libc");
}

#ifdef __wasi__
/* One entry as read from the raw stream, with the cookie that leads to it. */
struct rec {
  __wasi_dircookie_t at;
  int index;
};
static struct rec order[N];
static uint8_t buf[4096];

/*
 * Read entries from `cookie` to the end with a buffer of `size` bytes (grown only when a
 * single entry does not fit). For each of our entries, calls visit(index, at-cookie, type).
 */
typedef void (*visit_fn)(int index, __wasi_dircookie_t at, uint8_t type);
static void read_from(int fd, __wasi_dircookie_t cookie, size_t size, visit_fn visit) {
  const char *what = "readdir-small-buffer";
  for (;;) {
    __wasi_size_t used = 0;
    __wasi_errno_t err = __wasi_fd_readdir(fd, buf, size, cookie, &used);
    if (err) guest_fail(what, "fd_readdir returned an error", err);
    CHECK(what, used <= size);
    size_t off = 0, complete = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, buf + off, sizeof d);
      if (off + sizeof d + d.d_namlen > used) break; /* truncated: resume from its cookie */
      const char *name = (const char *)buf + off + sizeof d;
      if (!is_dot(name, d.d_namlen)) {
        int i = index_of(name, d.d_namlen);
        CHECK(what, i >= 0);
        visit(i, cookie, d.d_type);
      }
      cookie = d.d_next;
      off += sizeof d + d.d_namlen;
      complete++;
    }
    if (used < size) return; /* end of directory */
    if (complete == 0) {
      /* Not even one entry fit: the header must be there so the caller can size up. */
      CHECK("readdir-truncated-entry", used >= sizeof(__wasi_dirent_t));
      CHECK("readdir-truncated-entry", size < sizeof buf);
      size = size * 2 > sizeof buf ? sizeof buf : size * 2;
    }
  }
}

static int n_order;
static void record(int i, __wasi_dircookie_t at, uint8_t type) {
  static const uint8_t want[] = {__WASI_FILETYPE_REGULAR_FILE, __WASI_FILETYPE_DIRECTORY,
                                 __WASI_FILETYPE_SYMBOLIC_LINK};
  CHECK("readdir-small-buffer", seen[i]++ == 0);
  CHECK("readdir-small-buffer", type == want[kind_for(i)]);
  CHECK("readdir-small-buffer", n_order < N);
  order[n_order].at = at;
  order[n_order].index = i;
  n_order++;
}

static int n_tail, tail_start;
static void compare_tail(int i, __wasi_dircookie_t at, uint8_t type) {
  (void)at;
  (void)type;
  CHECK("readdir-resume-cookie", tail_start + n_tail < N);
  CHECK("readdir-resume-cookie", order[tail_start + n_tail].index == i);
  n_tail++;
}

static void check_raw(void) {
  int fd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK("readdir-small-buffer", fd >= 0);

  memset(seen, 0, sizeof seen);
  n_order = 0;
  read_from(fd, 0, 128, record);
  CHECK("readdir-small-buffer", n_order == N);
  guest_ok("readdir-small-buffer");

  /* A buffer with room for the header and 3 name bytes, at a long-named entry. */
  int long_at = -1;
  for (int k = 0; k < N && long_at < 0; k++)
    if (order[k].index % 7 == 0) long_at = k;
  CHECK("readdir-truncated-entry", long_at >= 0);
  __wasi_size_t used = 0;
  size_t small = sizeof(__wasi_dirent_t) + 3;
  __wasi_errno_t err = __wasi_fd_readdir(fd, buf, small, order[long_at].at, &used);
  if (err) guest_fail("readdir-truncated-entry", "fd_readdir returned an error", err);
  CHECK("readdir-truncated-entry", used == small);
  __wasi_dirent_t d;
  memcpy(&d, buf, sizeof d);
  char name[NAME_BUF];
  name_for(order[long_at].index, name);
  CHECK("readdir-truncated-entry", d.d_namlen == strlen(name));
  CHECK("readdir-truncated-entry", memcmp(buf + sizeof d, name, 3) == 0);
  guest_ok("readdir-truncated-entry");

  /* Resume from cookies in the middle and near the end: same tail, in the same order. */
  int starts[] = {1, N / 3, (2 * N) / 3, N - 1};
  for (unsigned s = 0; s < sizeof starts / sizeof starts[0]; s++) {
    tail_start = starts[s];
    n_tail = 0;
    read_from(fd, order[tail_start].at, 96 + 16 * s, compare_tail);
    CHECK("readdir-resume-cookie", n_tail == N - tail_start);
  }
  /* From cookie 0 again, with a roomy buffer: the whole list in the recorded order. */
  tail_start = 0;
  n_tail = 0;
  read_from(fd, 0, sizeof buf, compare_tail);
  CHECK("readdir-resume-cookie", n_tail == N);
  guest_ok("readdir-resume-cookie");
  CHECK("readdir-resume-cookie", close(fd) == 0);
}

#endif

int main(int argc, char **argv) {
  guest_enter(argc, argv, "readdir_cookies");
  CHECK("setup", mkdir("big", 0755) == 0 && chdir("big") == 0);
  populate();
#ifdef __wasi__
  check_raw();
#endif
  check_libc();
  return 0;
}
