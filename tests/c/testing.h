/* Assertions and environment for the C tests of libkonductor.
 *
 * Every test program gets its cluster from the environment that tests/c/run
 * sets up:
 *   KONDUCTOR_C_KUBECONFIG   kubeconfig of a user allowed to use Konductor
 *                            objects in KONDUCTOR_C_NAMESPACE
 *   KONDUCTOR_C_NAMESPACE    this program's own namespace
 *   KONDUCTOR_C_KUBECTL      a shell command prefix running kubectl as an
 *                            administrator, used to play the operator (write
 *                            gate and barrier status)
 *   KONDUCTOR_C_FORBIDDEN_NAMESPACE, KONDUCTOR_C_BAD_TOKEN_KUBECONFIG
 *                            (optional) for the 403 and 401 paths
 */
#ifndef KONDUCTOR_TESTING_H
#define KONDUCTOR_TESTING_H

/* clock_gettime, nanosleep: include this header before any other. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "konductor.h"

static int testing_failures = 0;
static int testing_checks = 0;

#define FAIL_AT(...)                                                                \
    do {                                                                            \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                               \
        fprintf(stderr, "\n");                                                      \
        testing_failures++;                                                         \
    } while (0)

/* Checks that `call` returns `expected`; on failure prints both codes and the
 * library's last error. Evaluates to true when it matched. */
#define EXPECT_RESULT(expected, call) testing_expect_result((expected), (call), #call, __FILE__, __LINE__)

/* Checks that `call` returns KONDUCTOR_OK, or stops the program: later steps
 * depend on it. */
#define REQUIRE_OK(call)                                                            \
    do {                                                                            \
        if (!EXPECT_RESULT(KONDUCTOR_OK, call)) {                                   \
            testing_finish(__FILE__);                                               \
        }                                                                           \
    } while (0)

#define EXPECT_TRUE(cond)                                                           \
    do {                                                                            \
        testing_checks++;                                                           \
        if (!(cond)) {                                                              \
            FAIL_AT("expected %s", #cond);                                          \
        }                                                                           \
    } while (0)

#define EXPECT_STR_EQ(expected, actual)                                             \
    do {                                                                            \
        testing_checks++;                                                           \
        const char *e_ = (expected), *a_ = (actual);                                \
        if (a_ == NULL || strcmp(e_, a_) != 0) {                                    \
            FAIL_AT("expected \"%s\", got \"%s\"", e_, a_ ? a_ : "(NULL)");         \
        }                                                                           \
    } while (0)

/* Checks that the last error message contains `needle`. */
#define EXPECT_LAST_ERROR_CONTAINS(needle)                                          \
    do {                                                                            \
        testing_checks++;                                                           \
        if (strstr(konductor_last_error(), (needle)) == NULL) {                     \
            FAIL_AT("expected the last error to contain \"%s\", got \"%s\"",        \
                    (needle), konductor_last_error());                              \
        }                                                                           \
    } while (0)

/* Checks what `held` says of itself: its object `name`, its `holder`, a
 * fencing token of at least 1 (written to *token_out), a TTL of `ttl_ms`, an
 * expiry after now and at most `ttl_ms` + 1 s ahead on the wall clock, and
 * that it is not lost. Stops the program when an accessor fails. */
#define EXPECT_HELD(held, name, holder, ttl_ms, token_out)                          \
    do {                                                                            \
        const char *name_ = NULL, *holder_ = NULL;                                  \
        REQUIRE_OK(konductor_held_name((held), &name_));                            \
        EXPECT_STR_EQ((name), name_);                                               \
        REQUIRE_OK(konductor_held_holder((held), &holder_));                        \
        EXPECT_STR_EQ((holder), holder_);                                           \
        REQUIRE_OK(konductor_held_token((held), (token_out)));                      \
        EXPECT_TRUE(*(token_out) >= 1);                                             \
        int64_t ttl_ = 0, expires_at_ = 0, wall_ = testing_wall_ms();               \
        REQUIRE_OK(konductor_held_ttl_ms((held), &ttl_));                           \
        EXPECT_TRUE(ttl_ == (ttl_ms));                                              \
        REQUIRE_OK(konductor_held_expires_at_ms((held), &expires_at_));             \
        EXPECT_TRUE(expires_at_ > wall_ && expires_at_ <= wall_ + (ttl_ms) + 1000); \
        bool lost_ = true;                                                          \
        REQUIRE_OK(konductor_held_is_lost((held), &lost_));                         \
        EXPECT_TRUE(!lost_);                                                        \
    } while (0)

static inline int testing_expect_result(konductor_result expected, konductor_result actual,
                                        const char *call, const char *file, int line) {
    testing_checks++;
    if (expected == actual) {
        return 1;
    }
    fprintf(stderr, "%s:%d: FAILED: %s\n    expected %s (%u), got %s (%u): %s\n", file, line,
            call, konductor_result_name(expected), (unsigned)expected,
            konductor_result_name(actual), (unsigned)actual, konductor_last_error());
    testing_failures++;
    return 0;
}

/* Milliseconds on the monotonic clock. */
static inline int64_t testing_now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Milliseconds since the epoch on the wall clock, as expiries are given. */
static inline int64_t testing_wall_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static inline void testing_sleep_ms(int64_t ms) {
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&pause, &pause) != 0) {
    }
}

/* Prints the summary and exits: 0 when every check passed. */
static inline void testing_finish(const char *program) {
    if (testing_failures == 0) {
        printf("%s: all %d checks passed\n", program, testing_checks);
        exit(0);
    }
    printf("%s: %d of %d checks FAILED\n", program, testing_failures, testing_checks);
    exit(1);
}

/* An environment variable the test needs, or exit with a message. */
static inline const char *testing_env(const char *name) {
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "%s is not set: run the C tests through tests/c/run\n", name);
        exit(2);
    }
    return value;
}

/* An optional environment variable, NULL when unset or empty. */
static inline const char *testing_env_optional(const char *name) {
    const char *value = getenv(name);
    return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* A client for the test's own namespace. */
static inline konductor_client *testing_client(void) {
    konductor_client *client = NULL;
    konductor_result result = konductor_client_from_kubeconfig(
        testing_env("KONDUCTOR_C_KUBECONFIG"), NULL, testing_env("KONDUCTOR_C_NAMESPACE"), &client);
    if (result != KONDUCTOR_OK) {
        fprintf(stderr, "cannot create the test client: %s: %s\n", konductor_result_name(result),
                konductor_last_error());
        exit(2);
    }
    return client;
}

/* Options for `holder` waiting at most `timeout_ms`, the rest as
 * konductor_options_init sets them. */
static inline konductor_options testing_options(const char *holder, int64_t timeout_ms) {
    konductor_options options;
    konductor_options_init(&options);
    options.holder = holder;
    options.timeout_ms = timeout_ms;
    return options;
}

/* Runs `kubectl <arguments>` as an administrator in the test's namespace;
 * returns its exit status. */
static inline int testing_kubectl(const char *arguments) {
    const char *kubectl = testing_env("KONDUCTOR_C_KUBECTL");
    char command[4096];
    int n = snprintf(command, sizeof command, "%s --namespace %s %s >/dev/null", kubectl,
                     testing_env("KONDUCTOR_C_NAMESPACE"), arguments);
    if (n < 0 || (size_t)n >= sizeof command) {
        return -1;
    }
    return system(command);
}

#endif /* KONDUCTOR_TESTING_H */
