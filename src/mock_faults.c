#include "mock_faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[MOCK_FAULT_KINDS + 1] = {
    [MOCK_FAULT_NONE] = "none",
    [MOCK_FAULT_429] = "429",
    [MOCK_FAULT_500] = "500",
    [MOCK_FAULT_503] = "503",
    [MOCK_FAULT_RESET] = "reset",
    [MOCK_FAULT_RESET_MID] = "reset-mid",
    [MOCK_FAULT_STALL] = "stall",
    [MOCK_FAULT_BAD_SSE] = "bad-sse",
    [MOCK_FAULT_BAD_JSON] = "bad-json",
    [MOCK_FAULT_CUT] = "cut",
    [MOCK_FAULT_SLOW_HEADERS] = "slow-headers",
    [MOCK_FAULT_KINDS] = NULL,
};

const char *mock_fault_name(enum mock_fault kind)
{
    return kind < MOCK_FAULT_KINDS ? fault_names[kind] : "?";
}

static bool takes_event_count(enum mock_fault kind)
{
    return kind == MOCK_FAULT_RESET_MID || kind == MOCK_FAULT_STALL || kind == MOCK_FAULT_BAD_SSE ||
           kind == MOCK_FAULT_BAD_JSON || kind == MOCK_FAULT_CUT;
}

static bool parse_kind(const char *word, struct mock_fault_rule *rule, struct buf *err,
                       const char *text)
{
    for (int k = MOCK_FAULT_429; k < MOCK_FAULT_KINDS; k++) {
        if (strcmp(word, fault_names[k]) == 0) {
            rule->kind = (enum mock_fault)k;
            return true;
        }
    }
    const char *near = closest_match(word, fault_names + 1);
    buf_printf(err,
               "--faults: unknown fault '%s' in '%s'%s%s%s (known: 429, 500, 503, reset, "
               "reset-mid, stall, bad-sse, bad-json, cut, slow-headers)",
               word, text, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    return false;
}

static bool parse_arg(const char *arg, struct mock_fault_rule *rule, struct buf *err,
                      const char *text)
{
    rule->has_arg = true;
    if (rule->kind == MOCK_FAULT_SLOW_HEADERS) {
        double seconds;
        if (!parse_duration(arg, &seconds)) {
            buf_printf(err, "--faults: '%s' in '%s' is not a duration (e.g. 500ms, 2s)", arg, text);
            return false;
        }
        rule->delay_ns = (int64_t)(seconds * (double)NS_PER_SEC);
        return true;
    }
    if (takes_event_count(rule->kind)) {
        if (!parse_uint(arg, 0, 1000000000, &rule->events)) {
            buf_printf(err, "--faults: '%s' in '%s' is not a number of events", arg, text);
            return false;
        }
        return true;
    }
    buf_printf(err, "--faults: '%s' takes no '=' argument (in '%s')", mock_fault_name(rule->kind),
               text);
    return false;
}

static bool parse_when(const char *when, struct mock_fault_rule *rule, struct buf *err,
                       const char *text)
{
    if (strncmp(when, "every", 5) == 0) {
        if (parse_uint(when + 5, 1, UINT64_MAX, &rule->every))
            return true;
        buf_printf(err, "--faults: '%s' in '%s': 'every' needs a whole number >= 1 (every10)", when,
                   text);
        return false;
    }
    size_t n = strlen(when);
    if (n > 1 && when[n - 1] == '%') {
        char *number = xstrndup(when, n - 1);
        double percent;
        bool ok = parse_double(number, &percent) && percent > 0 && percent <= 100;
        free(number);
        if (ok) {
            rule->probability = percent / 100.0;
            return true;
        }
    }
    buf_printf(err,
               "--faults: '%s' in '%s' is neither a percentage in (0, 100] (5%%) "
               "nor everyN (every10)",
               when, text);
    return false;
}

static bool parse_rule(char *text, struct mock_fault_rule *rule, struct buf *err)
{
    *rule = (struct mock_fault_rule){0};
    char *at = strchr(text, '@');
    if (!at) {
        buf_printf(err, "--faults: '%s' has no '@WHEN' (e.g. %s@5%% or %s@every10)", text, text,
                   text);
        return false;
    }
    *at = '\0';
    char *eq = strchr(text, '=');
    if (eq)
        *eq = '\0';
    char shown[128];
    snprintf(shown, sizeof shown, "%s%s%s@%s", text, eq ? "=" : "", eq ? eq + 1 : "", at + 1);
    bool ok = parse_kind(text, rule, err, shown) && (!eq || parse_arg(eq + 1, rule, err, shown)) &&
              parse_when(at + 1, rule, err, shown);
    return ok;
}

bool mock_faults_parse(const char *spec, struct mock_faults *out, struct buf *err)
{
    *out = (struct mock_faults){0};
    char *copy = xstrdup(spec);
    bool ok = true;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && ok; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        size_t n = strlen(item);
        while (n && item[n - 1] == ' ')
            item[--n] = '\0';
        if (!*item)
            continue;
        if (out->n == MOCK_MAX_FAULT_RULES) {
            buf_printf(err, "--faults: at most %d rules", MOCK_MAX_FAULT_RULES);
            ok = false;
            break;
        }
        ok = parse_rule(item, &out->rules[out->n++], err);
    }
    free(copy);
    return ok;
}

const struct mock_fault_rule *mock_faults_pick(const struct mock_faults *f, uint64_t seq,
                                               bool streaming, struct mock_rng *rng)
{
    for (unsigned i = 0; i < f->n; i++) {
        const struct mock_fault_rule *r = &f->rules[i];
        bool fires = r->every ? seq % r->every == 0 : mock_rng_uniform(rng) < r->probability;
        if (!fires)
            continue;
        if (!streaming && (r->kind == MOCK_FAULT_BAD_SSE || r->kind == MOCK_FAULT_CUT))
            continue;
        return r;
    }
    return NULL;
}
