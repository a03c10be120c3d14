/*
 * poll_oneoff on stdin with a timeout.
 *
 * WASI preview1 poll_oneoff(in, out, nsubscriptions) -> nevents: blocks until at least one
 * subscription fires; a `clock` subscription fires when its timeout has passed, an
 * `fd_read` subscription when the fd has data (or end of file) to read, reporting
 * `nbytes` available (witx: subscription, event, event_fd_readwrite).
 *
 * Usage: poll_stdin idle    stdin stays open with nothing to read: after 100 ms exactly the
 *                           clock event (userdata 1) comes back, and not before 100 ms;
 *                           an absolute-time clock subscription fires too.
 *        poll_stdin ready   stdin holds "ping\n": the fd_read event (userdata 2) comes back
 *                           at once, without error, with nbytes >= 1, and no clock event
 *                           (its timeout is 10 s); then reading stdin gives "ping\n".
 *
 * Natively (the Linux oracle) the same checks run through poll(2).
 */
#include "check.h"

#include <stdint.h>
#include <time.h>
#ifdef __wasi__
#include <wasi/api.h>
#else
#include <poll.h>
#endif

static int64_t now_ns(void) {
  struct timespec ts;
  CHECK("clock", clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait on stdin with a relative timeout; returns 1 if stdin fired, 0 on timeout. */
static int wait_stdin(const char *name, int64_t timeout_ns) {
#ifdef __wasi__
  __wasi_subscription_t subs[2];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 1;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = timeout_ns;
  subs[0].u.u.clock.precision = 0;
  subs[1].userdata = 2;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[1].u.u.fd_read.file_descriptor = 0;
  __wasi_event_t events[2];
  __wasi_size_t n = 0;
  __wasi_errno_t err = __wasi_poll_oneoff(subs, events, 2, &n);
  if (err) guest_fail(name, "poll_oneoff returned an error", err);
  CHECK(name, n == 1);
  if (events[0].userdata == 1) {
    CHECK(name, events[0].type == __WASI_EVENTTYPE_CLOCK && events[0].error == 0);
    return 0;
  }
  CHECK(name, events[0].userdata == 2);
  CHECK(name, events[0].type == __WASI_EVENTTYPE_FD_READ && events[0].error == 0);
  CHECK(name, events[0].fd_readwrite.nbytes >= 1);
  return 1;
#else
  struct pollfd p = {.fd = 0, .events = POLLIN};
  int r = poll(&p, 1, (int)(timeout_ns / 1000000));
  CHECK(name, r >= 0);
  if (r == 0) return 0;
  CHECK(name, (p.revents & POLLIN) != 0);
  return 1;
#endif
}

static void idle(void) {
  int64_t t0 = now_ns();
  CHECK("poll-timeout", wait_stdin("poll-timeout", 100000000) == 0);
  int64_t elapsed = now_ns() - t0;
  CHECK("poll-timeout", elapsed >= 100000000);
  CHECK("poll-timeout", elapsed < 5000000000LL);
  guest_ok("poll-timeout");

#ifdef __wasi__
  /* An absolute deadline 50 ms ahead on the monotonic clock, alone. */
  __wasi_timestamp_t start;
  CHECK("poll-abstime", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &start) == 0);
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.userdata = 7;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = start + 50000000;
  sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  CHECK("poll-abstime", __wasi_poll_oneoff(&sub, &ev, 1, &n) == 0);
  __wasi_timestamp_t end;
  CHECK("poll-abstime", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &end) == 0);
  CHECK("poll-abstime", n == 1 && ev.userdata == 7 && ev.type == __WASI_EVENTTYPE_CLOCK);
  CHECK("poll-abstime", end >= start + 50000000);
  guest_ok("poll-abstime");
#endif
}

static void ready(void) {
  int64_t t0 = now_ns();
  CHECK("poll-stdin-ready", wait_stdin("poll-stdin-ready", 10000000000LL) == 1);
  CHECK("poll-stdin-ready", now_ns() - t0 < 5000000000LL);
  guest_ok("poll-stdin-ready");
  char buf[16] = {0};
  CHECK("read-after-poll", read(0, buf, sizeof buf) == 5 && memcmp(buf, "ping\n", 5) == 0);
  guest_ok("read-after-poll");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "idle") == 0) idle();
  else if (argc > 1 && strcmp(argv[1], "ready") == 0) ready();
  else guest_fail("usage", "poll_stdin idle|ready", 0);
  return 0;
}
