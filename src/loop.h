/* loop.h: a small epoll event loop with nanosecond timers.
 *
 * One loop per thread; nothing in it is shared or locked. The benchmark
 * engine (client side, driving libcurl's multi socket API) and the mock
 * server (server side) both run on it.
 *
 *   file events  loop_watch(loop, fd, LOOP_READ, on_ready, data) calls
 *                on_ready(loop, fd, events, data) when fd is ready; watching
 *                an fd again changes its events or callback; loop_unwatch
 *                stops it. Level-triggered, like epoll's default. An fd
 *                closed without loop_unwatch can be watched again when its
 *                number comes back for a new file.
 *   timers       loop_timer_at(loop, when_ns, on_time, data) calls on_time
 *                once at CLOCK_MONOTONIC time when_ns (see util.h now_ns),
 *                driven by one timerfd, so timers fire with nanosecond
 *                resolution, not epoll_wait's millisecond one.
 *                loop_timer_cancel() may be called until it has fired.
 *   running      loop_run() dispatches until loop_stop(); loop_run_once()
 *                waits at most max_wait_ns for one round of events.
 */
#ifndef LLMSWEEP_LOOP_H
#define LLMSWEEP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOOP_READ 1u
#define LOOP_WRITE 2u
#define LOOP_ERROR 4u /* reported only: hang-up or error on the fd */

struct loop;
struct loop_timer; /* opaque handle */

typedef void loop_fd_fn(struct loop *loop, int fd, unsigned events, void *data);
typedef void loop_timer_fn(struct loop *loop, void *data);

/* NULL if epoll or timerfd cannot be created (errno says why). */
struct loop *loop_create(void);
void loop_destroy(struct loop *loop);

/* Returns false (errno set) if epoll refuses the fd. */
bool loop_watch(struct loop *loop, int fd, unsigned events, loop_fd_fn *fn, void *data);
void loop_unwatch(struct loop *loop, int fd);

struct loop_timer *loop_timer_at(struct loop *loop, int64_t when_ns, loop_timer_fn *fn, void *data);
void loop_timer_cancel(struct loop *loop, struct loop_timer *timer);
/* Timers waiting to fire. */
size_t loop_pending_timers(const struct loop *loop);

void loop_run(struct loop *loop);
/* One round: waits up to max_wait_ns (< 0: until something happens), then
 * runs the ready file callbacks and every timer that is due. */
void loop_run_once(struct loop *loop, int64_t max_wait_ns);
void loop_stop(struct loop *loop);
/* When epoll_wait last returned: every fd of the current round was ready
 * by then, so this stamps data arrival more closely than a clock read in
 * the (later) callback. */
int64_t loop_woke_ns(const struct loop *loop);

#endif
