/* stats.c: GuideLLM's summary statistics over llmsweep's records (stats.h).
 *
 * The three distribution builders follow guidellm/schemas/base/statistics.py
 * (0.8.1) step by step, including the order of floating-point operations, so
 * the oracle test can compare with GuideLLM's own functions exactly. */
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* GuideLLM's defaults: events closer than this (seconds) are one event;
 * weights summing below EPSILON are treated as uniform. */
#define MERGE_THRESHOLD_S 1e-4
#define EPSILON 1e-6
/* numpy's pairwise summation block (PW_BLOCKSIZE). */
#define PAIRWISE_BLOCK 128
/* Below this many samples qsort is fast enough. */
#define RADIX_SORT_MIN 4096

/* numpy's pairwise sum over n doubles `stride` bytes apart, so the weights
 * of a `struct weighted` array are summed where they are, not copied. */
static double pairwise_sum_strided(const char *first, size_t n, size_t stride)
{
#define AT(i) (*(const double *)(first + (i)*stride))
    if (n < 8) {
        double res = 0.;
        for (size_t i = 0; i < n; i++)
            res += AT(i);
        return res;
    }
    if (n <= PAIRWISE_BLOCK) {
        double r[8];
        for (size_t j = 0; j < 8; j++)
            r[j] = AT(j);
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8) {
            for (size_t j = 0; j < 8; j++)
                r[j] += AT(i + j);
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += AT(i);
        return res;
    }
#undef AT
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum_strided(first, n2, stride) +
           pairwise_sum_strided(first + n2 * stride, n - n2, stride);
}

double pairwise_sum(const double *a, size_t n)
{
    return pairwise_sum_strided((const char *)a, n, sizeof *a);
}

static double sum_weights(const struct weighted *s, size_t n)
{
    return n ? pairwise_sum_strided((const char *)&s->weight, n, sizeof *s) : 0.;
}

static int by_value(const void *pa, const void *pb)
{
    const struct weighted *a = pa, *b = pb;
    return (a->value > b->value) - (a->value < b->value);
}

/* An unsigned key that orders like the double (finite values). */
static uint64_t order_key(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits >> 63 ? ~bits : bits | (1ULL << 63);
}

/* Sorts by value. Large runs have millions of token events, where musl's
 * qsort (smoothsort) takes seconds: those get a stable LSD radix sort,
 * one byte per pass, skipping bytes every key shares. The counts of every
 * byte come from one read of the keys: a pass only permutes them. */
void sort_by_value(struct weighted *s, size_t n)
{
    if (n < RADIX_SORT_MIN) {
        qsort(s, n, sizeof *s, by_value);
        return;
    }
    size_t(*count)[256] = xcalloc(8, sizeof *count);
    for (size_t i = 0; i < n; i++) {
        uint64_t key = order_key(s[i].value);
        for (int byte = 0; byte < 8; byte++)
            count[byte][(key >> (8 * byte)) & 0xff]++;
    }
    uint64_t first_key = order_key(s[0].value);
    struct weighted *tmp = xmalloc(n * sizeof *tmp);
    struct weighted *from = s, *to = tmp;
    for (int byte = 0; byte < 8; byte++) {
        int shift = 8 * byte;
        size_t *start = count[byte];
        if (start[(first_key >> shift) & 0xff] == n)
            continue; /* every key has this byte: nothing to do */
        size_t pos = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = start[b];
            start[b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            to[start[(order_key(from[i].value) >> shift) & 0xff]++] = from[i];
        struct weighted *swap = from;
        from = to;
        to = swap;
    }
    if (from != s)
        memcpy(s, from, n * sizeof *s);
    free(tmp);
    free(count);
}

/* GuideLLM's DistributionSummary.from_pdf over sorted distinct values, each
 * with its probability as the weight. */
static void from_pdf(const struct weighted *pdf, size_t n, double count, struct distribution *out)
{
    /* numpy.searchsorted(cdf, q, side="left") for each level in turn: the
     * first value whose cumulative probability reaches q, else the last. */
    size_t at = 0;
    double cdf = pdf[0].weight;
    for (int k = 0; k < PERCENTILE_COUNT; k++) {
        while (at + 1 < n && cdf < percentile_levels[k])
            cdf += pdf[++at].weight;
        out->percentiles[k] = pdf[at].value;
    }
    out->median = out->percentiles[P50];
    double *terms = xmalloc(n * sizeof *terms);
    for (size_t i = 0; i < n; i++)
        terms[i] = pdf[i].value * pdf[i].weight;
    out->mean = pairwise_sum(terms, n);
    size_t mode = 0;
    for (size_t i = 1; i < n; i++) {
        if (pdf[i].weight > pdf[mode].weight)
            mode = i;
    }
    out->mode = pdf[mode].value;
    for (size_t i = 0; i < n; i++) {
        double d = pdf[i].value - out->mean;
        terms[i] = d * d * pdf[i].weight;
    }
    out->variance = pairwise_sum(terms, n);
    out->std_dev = sqrt(out->variance);
    out->min = pdf[0].value;
    out->max = pdf[n - 1].value;
    out->count = count;
    out->total_sum = out->mean * count;
    free(terms);
}

void distribution_of(struct weighted *s, size_t n, double count, struct distribution *out)
{
    memset(out, 0, sizeof *out);
    out->present = true;
    if (count < 0)
        count = n ? nearbyint(sum_weights(s, n)) : 0;
    out->count = count;
    if (n == 0)
        return;

    sort_by_value(s, n);
    /* Equal values merge and zero weights drop, in place: the m-th distinct
     * value is written only after it has been read. */
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        double v = s[i].value, w = 0;
        for (; i < n && s[i].value == v; i++)
            w += s[i].weight;
        if (w > 0)
            s[m++] = (struct weighted){v, w};
    }
    double total = sum_weights(s, m);
    if (total <= EPSILON) {
        for (size_t i = 0; i < m; i++)
            s[i].weight = 1;
        total = (double)m;
    }
    for (size_t i = 0; i < m; i++)
        s[i].weight /= total;
    if (m > 0)
        from_pdf(s, m, count, out);
}

/* GuideLLM's _merge_sorted_times_with_weights: equal times become one, then
 * each group of times within `threshold` of its first time becomes that first
 * time with the group's summed weight. A gap over `threshold` between
 * neighbours always ends a group, even where rounding puts the later time
 * within threshold of the group's first (GuideLLM splits into such runs
 * first). `t` is sorted; returns the new length. */
static size_t merge_times(struct weighted *t, size_t n, double threshold)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && t[i].value == t[m - 1].value)
            t[m - 1].weight += t[i].weight;
        else
            t[m++] = t[i];
    }
    size_t k = 0;
    for (size_t i = 0; i < m;) {
        double first = t[i].value, limit = first + threshold, w = t[i].weight;
        size_t j = i + 1;
        for (; j < m && t[j].value <= limit && t[j].value - t[j - 1].value <= threshold; j++)
            w += t[j].weight;
        t[k].value = first;
        t[k++].weight = w;
        i = j;
    }
    return k;
}

void distribution_of_rate(struct weighted *events, size_t n, double start, double end,
                          struct distribution *out)
{
    struct weighted *t = xmalloc((n + 2) * sizeof *t);
    size_t m = 0;
    if (start <= end)
        t[m++] = (struct weighted){start, 0};
    for (size_t i = 0; i < n; i++) {
        if (events[i].value >= start && events[i].value <= end)
            t[m++] = events[i];
    }
    t[m++] = (struct weighted){end, 0};
    sort_by_value(t, m);
    m = merge_times(t, m, MERGE_THRESHOLD_S);
    if (m <= 1) {
        distribution_of(NULL, 0, (double)m, out);
        free(t);
        return;
    }

    /* Each event stands for the time between the midpoints to its
     * neighbours; its local rate is its weight over that time. */
    struct weighted *rates = xmalloc(m * sizeof *rates);
    double previous_mid = t[0].value;
    for (size_t i = 0; i < m; i++) {
        double duration;
        if (i + 1 < m) {
            double mid = (t[i + 1].value + t[i].value) / 2;
            duration = mid - previous_mid;
            previous_mid = mid;
        } else {
            duration = t[i].value - previous_mid;
            if (duration < EPSILON)
                duration = EPSILON;
        }
        rates[i] = (struct weighted){t[i].weight / duration, duration};
    }
    double count = nearbyint(sum_weights(t, m));
    distribution_of(rates, m, count, out);
    free(rates);
    free(t);
}

void distribution_of_concurrency(const struct interval *intervals, size_t n, double start,
                                 double end, struct distribution *out)
{
    struct weighted *t = xmalloc((2 * n + 2) * sizeof *t);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (intervals[i].end >= start && intervals[i].start <= end)
            t[count++] = (struct weighted){intervals[i].start, intervals[i].weight};
    }
    size_t m = count;
    for (size_t i = 0; i < n; i++) {
        if (intervals[i].end >= start && intervals[i].start <= end)
            t[m++] = (struct weighted){intervals[i].end, -intervals[i].weight};
    }
    sort_by_value(t, m);
    m = merge_times(t, m, MERGE_THRESHOLD_S);

    if (m > 0) {
        /* Changes before the window collapse into the level at its start;
         * changes after it are dropped; the window's end closes the last
         * step. */
        size_t first = 0;
        while (first < m && t[first].value < start)
            first++;
        double prior_delta = first > 0 ? sum_weights(t, first) : 0.0;
        memmove(t + 1, t + first, (m - first) * sizeof *t);
        m = m - first + 1;
        t[0] = (struct weighted){start, prior_delta};
        size_t last = 0;
        while (last < m && t[last].value <= end)
            last++;
        m = last;
        t[m++] = (struct weighted){end, 0};
    }

    if (m <= 1) {
        struct weighted only = {0, 1};
        if (m == 1 && count > 0) {
            only.value = t[0].weight > 0 ? t[0].weight : 0;
            distribution_of(&only, 1, -1, out);
        } else {
            distribution_of(NULL, 0, -1, out);
        }
        free(t);
        return;
    }

    struct weighted *levels = xmalloc((m - 1) * sizeof *levels);
    double level = 0;
    bool any_time = false;
    for (size_t i = 0; i + 1 < m; i++) {
        level += t[i].weight;
        double duration = t[i + 1].value - t[i].value;
        levels[i] = (struct weighted){level > 0 ? level : 0, duration > 0 ? duration : 0};
        any_time = any_time || duration > 0;
    }
    distribution_of(levels, any_time ? m - 1 : 0, (double)count, out);
    free(levels);
    free(t);
}
