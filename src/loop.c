#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util.h"

#define MAX_EVENTS 256

struct watch {
    loop_fd_fn *fn;
    void *data;
    unsigned events;
    uint32_t generation; /* bumped on every (un)watch: stale events are dropped */
    bool active;
};

struct loop_timer {
    int64_t when_ns;
    uint64_t seq; /* ties fire in the order they were added */
    loop_timer_fn *fn;
    void *data;
    size_t heap_index;
};

struct loop {
    int epoll_fd;
    int timer_fd;
    bool stopped;
    struct watch *watches; /* indexed by fd */
    size_t n_watches;
    struct loop_timer **heap; /* min-heap on (when_ns, seq) */
    size_t n_timers, cap_timers;
    uint64_t next_seq;
    int64_t armed_ns; /* what timer_fd is set to; 0: disarmed */
    int64_t woke_ns;  /* when epoll_wait last returned */
};

/* epoll's 64-bit cookie: the fd and the generation it was watched in. */
static uint64_t cookie(int fd, uint32_t generation)
{
    return (uint64_t)generation << 32 | (uint32_t)fd;
}

static uint32_t to_epoll(unsigned events)
{
    return (events & LOOP_READ ? EPOLLIN : 0u) | (events & LOOP_WRITE ? EPOLLOUT : 0u);
}

struct loop *loop_create(void)
{
    struct loop *loop = xcalloc(1, sizeof *loop);
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (loop->epoll_fd < 0 || loop->timer_fd < 0) {
        int saved = errno;
        loop_destroy(loop);
        errno = saved;
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->timer_fd, &ev) < 0) {
        int saved = errno;
        loop_destroy(loop);
        errno = saved;
        return NULL;
    }
    return loop;
}

void loop_destroy(struct loop *loop)
{
    if (!loop)
        return;
    for (size_t i = 0; i < loop->n_timers; i++)
        free(loop->heap[i]);
    free(loop->heap);
    free(loop->watches);
    if (loop->epoll_fd >= 0)
        close(loop->epoll_fd);
    if (loop->timer_fd >= 0)
        close(loop->timer_fd);
    free(loop);
}

bool loop_watch(struct loop *loop, int fd, unsigned events, loop_fd_fn *fn, void *data)
{
    if (fd < 0) {
        errno = EBADF;
        return false;
    }
    if ((size_t)fd >= loop->n_watches) {
        size_t n = loop->n_watches ? loop->n_watches : 64;
        while (n <= (size_t)fd)
            n *= 2;
        loop->watches = xrealloc(loop->watches, n * sizeof *loop->watches);
        memset(loop->watches + loop->n_watches, 0, (n - loop->n_watches) * sizeof *loop->watches);
        loop->n_watches = n;
    }
    struct watch *w = &loop->watches[fd];
    bool existed = w->active;
    uint32_t generation = existed ? w->generation : w->generation + 1;
    struct epoll_event ev = {.events = to_epoll(events), .data.u64 = cookie(fd, generation)};
    if (epoll_ctl(loop->epoll_fd, existed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* Closed without loop_unwatch (epoll then forgets it by itself) and
         * the number reused: a new file, so a new generation. */
        if (!existed || errno != ENOENT)
            return false;
        generation++;
        ev.data.u64 = cookie(fd, generation);
        if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return false;
    }
    *w = (struct watch){fn, data, events, generation, true};
    return true;
}

void loop_unwatch(struct loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->n_watches || !loop->watches[fd].active)
        return;
    /* The fd may already be closed (then epoll dropped it itself). */
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    loop->watches[fd].active = false;
    loop->watches[fd].generation++;
}

/* --- timers: a binary min-heap ------------------------------------------ */

static bool earlier(const struct loop_timer *a, const struct loop_timer *b)
{
    return a->when_ns < b->when_ns || (a->when_ns == b->when_ns && a->seq < b->seq);
}

static void heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(struct loop *loop, size_t i)
{
    struct loop_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(t, loop->heap[parent]))
            break;
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, t);
}

static void sift_down(struct loop *loop, size_t i)
{
    struct loop_timer *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->n_timers)
            break;
        if (child + 1 < loop->n_timers && earlier(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!earlier(loop->heap[child], t))
            break;
        heap_place(loop, i, loop->heap[child]);
        i = child;
    }
    heap_place(loop, i, t);
}

static void heap_remove(struct loop *loop, struct loop_timer *t)
{
    size_t i = t->heap_index;
    struct loop_timer *last = loop->heap[--loop->n_timers];
    if (last == t)
        return;
    heap_place(loop, i, last);
    if (i > 0 && earlier(last, loop->heap[(i - 1) / 2]))
        sift_up(loop, i);
    else
        sift_down(loop, i);
}

/* Points timer_fd at the earliest timer (or disarms it). A timer that is
 * due already needs no timer_fd: loop_run_once() then polls instead of
 * blocking. Under load (thousands of timers a second, each round finding
 * more due) that saves a timerfd_settime() per round, which costs
 * microseconds (a hardware timer reprogram, a VM exit under a hypervisor). */
static void arm(struct loop *loop)
{
    int64_t when = loop->n_timers ? loop->heap[0]->when_ns : 0;
    if (when == loop->armed_ns)
        return;
    if (when > 0 && when <= now_ns())
        return;
    struct itimerspec spec = {0};
    if (when > 0) {
        spec.it_value.tv_sec = when / NS_PER_SEC;
        spec.it_value.tv_nsec = when % NS_PER_SEC;
    }
    timerfd_settime(loop->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
    loop->armed_ns = when;
}

struct loop_timer *loop_timer_at(struct loop *loop, int64_t when_ns, loop_timer_fn *fn, void *data)
{
    struct loop_timer *t = xmalloc(sizeof *t);
    /* timer_fd treats 0 as "disarm": the earliest time we ever ask for is 1. */
    *t = (struct loop_timer){when_ns > 0 ? when_ns : 1, loop->next_seq++, fn, data, 0};
    if (loop->n_timers == loop->cap_timers) {
        loop->cap_timers = loop->cap_timers ? loop->cap_timers * 2 : 64;
        loop->heap = xrealloc(loop->heap, loop->cap_timers * sizeof *loop->heap);
    }
    heap_place(loop, loop->n_timers++, t);
    sift_up(loop, t->heap_index);
    arm(loop);
    return t;
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *timer)
{
    if (!timer)
        return;
    heap_remove(loop, timer);
    free(timer);
    arm(loop);
}

size_t loop_pending_timers(const struct loop *loop)
{
    return loop->n_timers;
}

static void run_due_timers(struct loop *loop)
{
    int64_t now = now_ns();
    /* Timers added by a callback for "now" run in this round too, but a
     * callback that keeps re-adding itself cannot starve file events: at
     * most the timers present at the start are run. */
    size_t budget = loop->n_timers;
    while (budget-- > 0 && loop->n_timers && loop->heap[0]->when_ns <= now && !loop->stopped) {
        struct loop_timer *t = loop->heap[0];
        heap_remove(loop, t);
        loop_timer_fn *fn = t->fn;
        void *data = t->data;
        free(t);
        fn(loop, data);
    }
    arm(loop);
}

void loop_run_once(struct loop *loop, int64_t max_wait_ns)
{
    struct epoll_event events[MAX_EVENTS];
    int timeout_ms = -1;
    if (max_wait_ns >= 0)
        timeout_ms = (int)((max_wait_ns + NS_PER_MS - 1) / NS_PER_MS);
    if (loop->n_timers && loop->heap[0]->when_ns <= now_ns())
        timeout_ms = 0; /* a timer is due: see arm() */
    int n = epoll_wait(loop->epoll_fd, events, MAX_EVENTS, timeout_ms);
    loop->woke_ns = now_ns();
    if (n < 0 && errno != EINTR)
        return;
    for (int i = 0; i < n && !loop->stopped; i++) {
        uint64_t c = events[i].data.u64;
        if (c == UINT64_MAX) {
            uint64_t expirations;
            while (read(loop->timer_fd, &expirations, sizeof expirations) > 0) {
            }
            loop->armed_ns = -1; /* fired: re-arm even for the same time */
            continue;
        }
        int fd = (int)(uint32_t)c;
        uint32_t generation = (uint32_t)(c >> 32);
        if ((size_t)fd >= loop->n_watches)
            continue;
        struct watch *w = &loop->watches[fd];
        if (!w->active || w->generation != generation)
            continue; /* unwatched (maybe closed and reused) earlier in this batch */
        uint32_t e = events[i].events;
        unsigned ready = (e & EPOLLIN ? LOOP_READ : 0u) | (e & EPOLLOUT ? LOOP_WRITE : 0u) |
                         (e & (EPOLLERR | EPOLLHUP) ? LOOP_ERROR : 0u);
        w->fn(loop, fd, ready, w->data);
    }
    if (!loop->stopped)
        run_due_timers(loop);
}

void loop_run(struct loop *loop)
{
    while (!loop->stopped)
        loop_run_once(loop, -1);
}

void loop_stop(struct loop *loop)
{
    loop->stopped = true;
}

int64_t loop_woke_ns(const struct loop *loop)
{
    return loop->woke_ns;
}
