/*
 * File-system benchmark guest, built both for wasm32-wasi and natively (gcc -O2), so the
 * same work runs under every WASI runtime and on Linux itself (test/bench/src/wasi.ts).
 *
 *   fsbench stress   DIR [FILES=2000]        create FILES files in nested directories, write,
 *                                            read back, stat, readdir, rename, unlink, rmdir
 *   fsbench seq      DIR [MIB=64] [CHUNK=65536]  sequential write, then read back, checksum
 *   fsbench statloop DIR [N=200000]          stat() of one path in a tight loop
 *
 * Each mode times itself with CLOCK_MONOTONIC (so module compilation and instantiation are
 * not counted) and prints one line the harness parses:
 *   result <mode> <elapsed_ns> <operations> <checksum>
 * Every mode verifies what it reads; a mismatch exits 1, so a runtime cannot be fast by being
 * wrong. DIR must exist; the work happens in a fresh DIR/fsbench-<mode> and is removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
  fprintf(stderr, "fsbench: %s %s: %s\n", what, path ? path : "", strerror(errno));
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* FNV-1a-style over 8-byte words (bytewise FNV would cost more than the I/O being measured):
   order-sensitive, enough to catch a wrong or misplaced byte. */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ULL;
  }
  for (; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static void fill(unsigned char *buf, size_t n, uint64_t seed) {
  uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (size_t i = 0; i < n; i++) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    buf[i] = (unsigned char)(x >> 56);
  }
}

static void write_all(int fd, const unsigned char *p, size_t n, const char *path) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) die("write", path);
    p += w;
    n -= (size_t)w;
  }
}

/* ---- stress: many small files in a tree ---------------------------------------------- */

#define FANOUT 10 /* top-level dirs; each holds FANOUT subdirs; files spread over the leaves */

static void leaf_path(char *out, size_t cap, int i, const char *prefix) {
  int leaf = i % (FANOUT * FANOUT);
  snprintf(out, cap, "d%d/s%d/%s%05d", leaf / FANOUT, leaf % FANOUT, prefix, i);
}

static int stress(int files) {
  static unsigned char wbuf[8192], rbuf[8192];
  char path[64], path2[64];
  uint64_t sum = 0;
  long ops = 0;
  int64_t t0 = now_ns();

  for (int a = 0; a < FANOUT; a++) {
    snprintf(path, sizeof path, "d%d", a);
    if (mkdir(path, 0755) != 0) die("mkdir", path);
    for (int b = 0; b < FANOUT; b++) {
      snprintf(path, sizeof path, "d%d/s%d", a, b);
      if (mkdir(path, 0755) != 0) die("mkdir", path);
      ops++;
    }
  }
  for (int i = 0; i < files; i++) {
    size_t len = 512 + (size_t)(i * 97) % 7680; /* 0.5 .. 8 KiB */
    fill(wbuf, len, (uint64_t)i);
    leaf_path(path, sizeof path, i, "f");
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) die("create", path);
    write_all(fd, wbuf, len, path);
    if (close(fd) != 0) die("close", path);
    ops += 3;
  }
  for (int i = 0; i < files; i++) {
    size_t len = 512 + (size_t)(i * 97) % 7680;
    fill(wbuf, len, (uint64_t)i);
    leaf_path(path, sizeof path, i, "f");
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    ssize_t r = read(fd, rbuf, sizeof rbuf);
    if (r != (ssize_t)len || memcmp(rbuf, wbuf, len) != 0) {
      errno = EIO;
      die("content differs", path);
    }
    close(fd);
    sum = fnv(sum, rbuf, len);
    struct stat st;
    if (stat(path, &st) != 0) die("stat", path);
    if (st.st_size != (off_t)len) {
      errno = EIO;
      die("size differs", path);
    }
    ops += 4;
  }
  int listed = 0;
  for (int leaf = 0; leaf < FANOUT * FANOUT; leaf++) {
    snprintf(path, sizeof path, "d%d/s%d", leaf / FANOUT, leaf % FANOUT);
    DIR *d = opendir(path);
    if (!d) die("opendir", path);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
      if (e->d_name[0] != '.') listed++;
    closedir(d);
    ops++;
  }
  if (listed != files) {
    errno = EIO;
    die("readdir count differs", "");
  }
  for (int i = 0; i < files; i++) {
    leaf_path(path, sizeof path, i, "f");
    leaf_path(path2, sizeof path2, i, "r");
    if (rename(path, path2) != 0) die("rename", path);
    ops++;
  }
  for (int i = 0; i < files; i++) {
    leaf_path(path, sizeof path, i, "r");
    if (unlink(path) != 0) die("unlink", path);
    ops++;
  }
  for (int a = 0; a < FANOUT; a++) {
    for (int b = 0; b < FANOUT; b++) {
      snprintf(path, sizeof path, "d%d/s%d", a, b);
      if (rmdir(path) != 0) die("rmdir", path);
      ops++;
    }
    snprintf(path, sizeof path, "d%d", a);
    if (rmdir(path) != 0) die("rmdir", path);
  }
  printf("result stress %lld %ld %016llx\n", (long long)(now_ns() - t0), ops,
         (unsigned long long)sum);
  return 0;
}

/* ---- seq: one big file, written and read in chunks ------------------------------------ */

static int seq(long mib, long chunk) {
  if (chunk <= 0 || chunk > (1 << 20) || mib <= 0) {
    errno = EINVAL;
    die("bad arguments", "");
  }
  unsigned char *buf = malloc((size_t)chunk), *pattern = malloc((size_t)chunk);
  if (!buf || !pattern) die("malloc", "");
  long total = mib << 20, chunks = total / chunk;
  uint64_t wsum = 1469598103934665603ULL, rsum = wsum;
  int64_t t0 = now_ns();

  int fd = open("big", O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) die("create", "big");
  fill(pattern, (size_t)chunk, 42);
  for (long c = 0; c < chunks; c++) {
    pattern[0] = (unsigned char)c; /* every chunk differs, so misplaced chunks show */
    pattern[chunk - 1] = (unsigned char)(c >> 8);
    write_all(fd, pattern, (size_t)chunk, "big");
    wsum = fnv(wsum, pattern, (size_t)chunk);
  }
  if (close(fd) != 0) die("close", "big");

  fd = open("big", O_RDONLY);
  if (fd < 0) die("open", "big");
  long got = 0;
  for (;;) {
    ssize_t r = read(fd, buf, (size_t)chunk);
    if (r < 0) die("read", "big");
    if (r == 0) break;
    rsum = fnv(rsum, buf, (size_t)r);
    got += r;
  }
  close(fd);
  if (got != total || rsum != wsum) {
    errno = EIO;
    die("read back differs", "big");
  }
  if (unlink("big") != 0) die("unlink", "big");
  printf("result seq %lld %ld %016llx\n", (long long)(now_ns() - t0), chunks * 2,
         (unsigned long long)rsum);
  free(buf);
  free(pattern);
  return 0;
}

/* ---- statloop: the cost of one path syscall -------------------------------------------- */

static int statloop(long n) {
  if (mkdir("a", 0755) != 0 || mkdir("a/b", 0755) != 0) die("mkdir", "a/b");
  int fd = open("a/b/target", O_CREAT | O_WRONLY, 0644);
  if (fd < 0 || close(fd) != 0) die("create", "a/b/target");
  struct stat st;
  uint64_t sum = 0;
  int64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (stat("a/b/target", &st) != 0) die("stat", "a/b/target");
    sum += (uint64_t)st.st_ino;
  }
  int64_t elapsed = now_ns() - t0;
  unlink("a/b/target");
  rmdir("a/b");
  rmdir("a");
  printf("result statloop %lld %ld %016llx\n", (long long)elapsed, n, (unsigned long long)sum);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fsbench stress|seq|statloop DIR [args]\n");
    return 2;
  }
  const char *mode = argv[1];
  char work[64];
  snprintf(work, sizeof work, "fsbench-%s", mode);
  if (chdir(argv[2]) != 0) die("chdir", argv[2]);
  if (mkdir(work, 0755) != 0) die("mkdir", work);
  if (chdir(work) != 0) die("chdir", work);
  int rc;
  if (strcmp(mode, "stress") == 0) rc = stress(argc > 3 ? atoi(argv[3]) : 2000);
  else if (strcmp(mode, "seq") == 0)
    rc = seq(argc > 3 ? atol(argv[3]) : 64, argc > 4 ? atol(argv[4]) : 65536);
  else if (strcmp(mode, "statloop") == 0) rc = statloop(argc > 3 ? atol(argv[3]) : 200000);
  else {
    fprintf(stderr, "fsbench: unknown mode %s\n", mode);
    return 2;
  }
  if (chdir("..") != 0 || rmdir(work) != 0) die("cleanup", work);
  return rc;
}
