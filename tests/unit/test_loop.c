#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "loop.h"
#include "util.h"

struct fired {
    int order[16];
    int n;
    struct loop_timer *victim;
};

struct tag {
    struct fired *log;
    int id;
};

static void record(struct loop *loop, void *data)
{
    struct tag *t = data;
    t->log->order[t->log->n++] = t->id;
    if (t->log->n == 4)
        loop_stop(loop);
}

TEST(loop_timers_fire_in_time_order_and_cancel)
{
    struct loop *loop = loop_create();
    CHECK(loop != NULL);
    struct fired log = {0};
    struct tag tags[5];
    int64_t base = now_ns() + 2 * NS_PER_MS;
    int delays_ms[5] = {4, 1, 3, 2, 2}; /* ids 3 and 4 tie: added order wins */
    struct loop_timer *timers[5];
    for (int i = 0; i < 5; i++) {
        tags[i] = (struct tag){&log, i};
        timers[i] = loop_timer_at(loop, base + delays_ms[i] * NS_PER_MS, record, &tags[i]);
    }
    loop_timer_cancel(loop, timers[2]);
    CHECK_EQ_INT(loop_pending_timers(loop), 4);
    loop_run(loop);
    CHECK_EQ_INT(log.n, 4);
    CHECK_EQ_INT(log.order[0], 1);
    CHECK_EQ_INT(log.order[1], 3);
    CHECK_EQ_INT(log.order[2], 4);
    CHECK_EQ_INT(log.order[3], 0);
    CHECK_EQ_INT(loop_pending_timers(loop), 0);
    loop_destroy(loop);
}

TEST(loop_timer_never_fires_early)
{
    struct loop *loop = loop_create();
    struct fired log = {.n = 3};
    struct tag tag = {&log, 9};
    int64_t when = now_ns() + 3 * NS_PER_MS;
    loop_timer_at(loop, when, record, &tag);
    loop_run(loop);
    CHECK(now_ns() >= when);
    CHECK_EQ_INT(log.order[3], 9);
    loop_destroy(loop);
}

struct pipe_state {
    int reads;
    int other_fd;
    bool other_called;
};

static void on_other(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)fd, (void)events;
    ((struct pipe_state *)data)->other_called = true;
}

static void on_readable(struct loop *loop, int fd, unsigned events, void *data)
{
    struct pipe_state *s = data;
    char c;
    if (events & LOOP_READ && read(fd, &c, 1) == 1)
        s->reads++;
    /* Unwatching another ready fd in the same batch must drop its event. */
    loop_unwatch(loop, s->other_fd);
    loop_stop(loop);
}

TEST(loop_fd_events_and_stale_events_dropped)
{
    struct loop *loop = loop_create();
    int a[2], b[2];
    CHECK(pipe(a) == 0 && pipe(b) == 0);
    struct pipe_state s = {.other_fd = b[0]};
    CHECK(loop_watch(loop, a[0], LOOP_READ, on_readable, &s));
    CHECK(loop_watch(loop, b[0], LOOP_READ, on_other, &s));
    CHECK(write(a[1], "x", 1) == 1);
    CHECK(write(b[1], "y", 1) == 1);
    loop_run(loop);
    CHECK_EQ_INT(s.reads, 1);
    CHECK(!s.other_called);
    loop_destroy(loop);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

struct chain {
    int left;
    int64_t last_ns;
    bool early;
};

static void chain_step(struct loop *loop, void *data)
{
    struct chain *c = data;
    if (now_ns() < c->last_ns)
        c->early = true;
    if (--c->left == 0) {
        loop_stop(loop);
        return;
    }
    /* Alternate "due now" (no timerfd needed) and "a little later" (timerfd). */
    c->last_ns = now_ns() + (c->left % 2 ? 0 : 20 * NS_PER_US);
    loop_timer_at(loop, c->last_ns, chain_step, c);
}

TEST(loop_due_timers_run_without_blocking_and_never_early)
{
    /* A due timer is run by polling, without arming the timerfd (arm()):
     * nothing may get lost or fire early when due and future timers mix. */
    struct loop *loop = loop_create();
    struct chain c = {.left = 2000};
    loop_timer_at(loop, now_ns(), chain_step, &c);
    loop_run(loop);
    CHECK_EQ_INT(c.left, 0);
    CHECK(!c.early);
    loop_destroy(loop);
    /* A timer due long ago, nothing else: loop_run_once(-1) must not block. */
    loop = loop_create();
    struct chain one = {.left = 1};
    loop_timer_at(loop, now_ns() - NS_PER_SEC, chain_step, &one);
    loop_run_once(loop, -1);
    CHECK_EQ_INT(one.left, 0);
    loop_destroy(loop);
}
