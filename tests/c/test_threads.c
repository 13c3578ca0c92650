/* The C API from many threads: 8 threads share one client and contend for a
 * semaphore with 2 permits; the hold intervals they record on the monotonic
 * clock never overlap more than 2 deep. A wait blocked on another thread is
 * cancelled through a cancel handle and leaves nothing queued. */
#include "testing.h"

#include <pthread.h>

#define THREADS 8
#define ROUNDS 3
#define PERMITS 2
#define HOLD_MS 40

struct interval {
    int64_t start_ns;
    int64_t end_ns;
};

struct worker {
    konductor_client *client;
    int index;
    konductor_result results[ROUNDS];
    struct interval held[ROUNDS];
};

static int64_t now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* The queue is not part of the semaphore: each queued acquisition is a
 * Waiter object of its own, which the C API does not read; the tests read
 * them with kubectl. Whether a Waiter of the namespace queues `holder`. */
static bool queued_as(const char *holder) {
    char arguments[256];
    snprintf(arguments, sizeof arguments,
             "get waiters.sync.konductor.io -o 'jsonpath={.items[*].spec.holder}' | grep -qw %s", holder);
    return testing_kubectl(arguments) == 0;
}

/* Whether the namespace has no Waiter object (false if kubectl fails). */
static bool nobody_queued(void) {
    return testing_kubectl("get waiters.sync.konductor.io -o 'go-template={{len .items}}' | grep -qx 0") == 0;
}

static void *contend(void *argument) {
    struct worker *worker = argument;
    char holder[64];
    snprintf(holder, sizeof holder, "c-thread-%d", worker->index);
    konductor_options options;
    konductor_options_init(&options);
    options.holder = holder;
    options.ttl_ms = 30000;
    options.timeout_ms = 120000;
    for (int round = 0; round < ROUNDS; round++) {
        konductor_held *permit = NULL;
        worker->results[round] = konductor_client_acquire(worker->client, KONDUCTOR_KIND_SEMAPHORE, "pool", &options, &permit);
        if (worker->results[round] != KONDUCTOR_OK) {
            fprintf(stderr, "thread %d round %d: %s: %s\n", worker->index, round,
                    konductor_result_name(worker->results[round]), konductor_last_error());
            continue;
        }
        /* The interval lies strictly inside the time the permit is held. */
        worker->held[round].start_ns = now_ns();
        testing_sleep_ms(HOLD_MS);
        worker->held[round].end_ns = now_ns();
        worker->results[round] = konductor_held_release(permit);
        konductor_held_free(permit);
    }
    return NULL;
}

/* The largest number of intervals that contain one instant. */
static int max_overlap(const struct interval *intervals, int count) {
    int best = 0;
    for (int i = 0; i < count; i++) {
        /* Some instant of maximal overlap is the start of an interval. */
        int depth = 0;
        for (int j = 0; j < count; j++) {
            if (intervals[j].start_ns <= intervals[i].start_ns && intervals[i].start_ns < intervals[j].end_ns) {
                depth++;
            }
        }
        if (depth > best) {
            best = depth;
        }
    }
    return best;
}

static void semaphore_bounds_concurrency(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_semaphore(client, "pool", PERMITS, 0, NULL));
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    int64_t started = testing_now_ms();
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.client = client, .index = i};
        EXPECT_TRUE(pthread_create(&threads[i], NULL, contend, &workers[i]) == 0);
    }
    struct interval intervals[THREADS * ROUNDS];
    int count = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        for (int round = 0; round < ROUNDS; round++) {
            EXPECT_RESULT(KONDUCTOR_OK, workers[i].results[round]);
            if (workers[i].results[round] == KONDUCTOR_OK) {
                intervals[count++] = workers[i].held[round];
            }
        }
    }
    int64_t elapsed = testing_now_ms() - started;
    int overlap = max_overlap(intervals, count);
    printf("test_threads: %d threads x %d rounds on a semaphore of %d: %d holds in %lld ms, max overlap %d\n",
           THREADS, ROUNDS, PERMITS, count, (long long)elapsed, overlap);
    testing_checks++;
    if (overlap > PERMITS) {
        FAIL_AT("expected at most %d permits held at once, measured %d", PERMITS, overlap);
    }
    EXPECT_TRUE(count == THREADS * ROUNDS);
    EXPECT_TRUE(overlap >= 1);

    char *json = NULL;
    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, "pool", &json));
    EXPECT_TRUE(strstr(json, "\"holders\":[]") != NULL);
    EXPECT_TRUE(strstr(json, "\"inUse\":0") != NULL);
    EXPECT_TRUE(nobody_queued());
    konductor_string_free(json);
}

struct blocked {
    konductor_client *client;
    const konductor_cancel *cancel;
    konductor_result result;
    int64_t returned_ms;
};

static void *wait_blocked(void *argument) {
    struct blocked *blocked = argument;
    konductor_options options;
    konductor_options_init(&options);
    options.holder = "c-blocked";
    options.cancel = blocked->cancel;
    konductor_held *permit = NULL;
    blocked->result = konductor_client_acquire(blocked->client, KONDUCTOR_KIND_SEMAPHORE, "single", &options, &permit);
    blocked->returned_ms = testing_now_ms();
    konductor_held_free(permit);
    return NULL;
}

static void cancel_from_another_thread(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_semaphore(client, "single", 1, 0, NULL));
    konductor_options options;
    konductor_options_init(&options);
    options.holder = "c-owner";
    konductor_held *held = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "single", &options, &held));

    konductor_cancel *cancel = NULL;
    REQUIRE_OK(konductor_cancel_new(&cancel));
    struct blocked blocked = {.client = client, .cancel = cancel, .result = KONDUCTOR_OK};
    pthread_t thread;
    EXPECT_TRUE(pthread_create(&thread, NULL, wait_blocked, &blocked) == 0);

    /* Wait until the blocked thread is queued for the semaphore. */
    bool queued = false;
    for (int i = 0; i < 100 && !queued; i++) {
        queued = queued_as("c-blocked");
        if (!queued) {
            testing_sleep_ms(50);
        }
    }
    EXPECT_TRUE(queued);

    int64_t triggered_ms = testing_now_ms();
    REQUIRE_OK(konductor_cancel_trigger(cancel));
    pthread_join(thread, NULL);
    EXPECT_RESULT(KONDUCTOR_CANCELLED, blocked.result);
    int64_t latency = blocked.returned_ms - triggered_ms;
    printf("test_threads: a cancelled wait returned %lld ms after the trigger\n", (long long)latency);
    EXPECT_TRUE(latency < 5000);

    /* The cancelled waiter left the queue, and holds nothing. */
    EXPECT_TRUE(nobody_queued());
    char *json = NULL;
    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_SEMAPHORE, "single", &json));
    EXPECT_TRUE(strstr(json, "c-blocked") == NULL);
    konductor_string_free(json);
    konductor_cancel_free(cancel);
    konductor_held_free(held);
}

int main(void) {
    konductor_client *client = testing_client();
    semaphore_bounds_concurrency(client);
    cancel_from_another_thread(client);
    konductor_client_free(client);
    testing_finish("test_threads");
}
